"""The controller as a separate process, for the cash kill test (run by test_cash_kill.py).

    python cash_child.py CONFIG MANIFEST TRADE SECRET COURIER_CODE

It loads the parcel, has the courier load it (the parent closes the door), opens a cash
payment and reports each credit on stdout; the parent plays the customer at the emulated
acceptors and kills it with SIGKILL mid-payment (each ``payment`` event is one line:
PAYMENT state credited).
"""

import asyncio
import sys

from kiosk.config import load
from kiosk.service import manifest
from kiosk.service.controller import Controller


def say(*words) -> None:
    print(*words, flush=True)


async def main(config_path, manifest_path, trade, secret, courier_code) -> None:
    controller = Controller(load(config_path))
    await controller.start()
    controller.import_manifest(manifest.load_file(manifest_path), manifest_path)
    with controller.subscribe() as events:
        token = (await controller.courier_login(courier_code)).token
        started = await controller.deposit(token, trade)
        await events.next("door_open", timeout=10)
        say("DEPOSIT_OPEN", started.locker)
        await events.next("parcel_arrived", timeout=10)
        session = await controller.pay_at_locker(trade, secret)
        say("COLLECTING", session.amount_due)
        while True:
            event = await events.next("payment", timeout=3600)
            say("PAYMENT", event["state"], event["credited"])


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
