"""The controller as a separate process, for the kill tests (run by test_crash.py).

    python crash_child.py CONFIG MANIFEST TRADE SECRET COURIER_CODE MODE

It loads the parcel, has the courier load it (the parent closes the door), then starts
the recipient's pickup and reports on stdout; the parent kills it with SIGKILL at the
moment under test. MODE "opened": report after the door-open evidence is recorded;
MODE "commanded": report right after the unlock pulse is sent.
"""

import asyncio
import sys

from kiosk.config import load
from kiosk.service import manifest
from kiosk.service.controller import Controller


def say(*words) -> None:
    print(*words, flush=True)


async def main(config_path, manifest_path, trade, secret, courier_code, mode) -> None:
    controller = Controller(load(config_path))
    await controller.start()
    controller.import_manifest(manifest.load_file(manifest_path), manifest_path)
    with controller.subscribe() as events:
        token = (await controller.courier_login(courier_code)).token
        started = await controller.deposit(token, trade)
        await events.next("door_open", timeout=10)
        say("DEPOSIT_OPEN", started.locker)
        await events.next("parcel_arrived", timeout=10)
        say("ARRIVED", started.locker)
        pickup = await controller.submit_code(trade, secret)
        if mode == "commanded":
            say("COMMANDED", pickup.locker)
        else:
            await events.next("door_open", timeout=10)
            say("OPENED", pickup.locker)
    await asyncio.sleep(3600)  # the parent kills us before this ends


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
