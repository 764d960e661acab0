"""What a clerk waits for: a scan or a key press → the counter screen shows the result,
with the screen in the controller's process and over the service socket, in one run.

Two measures, each repeated, on the real counter screen (Textual, headless) driven by a
real controller on a simulated site (GPIO locks, FAST_HASH secrets):

- ``scan``: the desk's scanner reads a parcel label (``counter_present``, as the scanner
  task does) → the screen shows the label as read (the ``counter_read`` event, delivered
  to the screen and rendered);
- ``key``: the clerk presses Enter after the recipient's secret → the screen shows
  "Hand over parcel …" (``counter_enter`` round trip: the secret checked, the ticket back).

Reported as p50/p99 in milliseconds per transport, and the socket's extra cost at p50.
Each look at the screen yields to Textual's loop (``pilot.pause(0)``), so the figures
include a refresh; they are a ceiling on what a person sees, not a floor.

    python bench/ui_latency.py [--json] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwsim.parcels import make_parcels
from hwsim.site import FAST_HASH, start_site
from kiosk.clock import ManualClock
from kiosk.security.secrets import hash_secret
from kiosk.service import manifest
from kiosk.service.socket_client import ServiceClient
from kiosk.ui.counter import CounterApp

CLERK_CODE = "97531"
SIZE = (100, 34)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def until(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the screen never showed it")
        await pilot.pause(0)


async def rounds(app: CounterApp, controller, parcel, n: int) -> tuple[list[float], list[float]]:
    scans, keys = [], []
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        for _ in range(n):
            t = time.perf_counter()
            await controller.counter_present(parcel.trade_number.encode())
            await until(pilot, lambda: screen.view.label == parcel.trade_number)
            scans.append((time.perf_counter() - t) * 1000)
            screen.secret_box.value = parcel.secret
            screen.secret_box.focus()
            await pilot.pause()
            t = time.perf_counter()
            await pilot.press("enter")
            await until(pilot, lambda: screen.view.verified is not None and not screen.busy)
            keys.append((time.perf_counter() - t) * 1000)
            app.action_next_customer()   # nothing handed over: the same parcel serves the next round
            await app.workers.wait_for_complete([w for w in app.workers if w.group == "counter-cancel"])
            await until(pilot, lambda: screen.view.label is None)
    return scans, keys


async def measure(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        sock = Path(tmp) / "run" / "service.sock"
        staff = (f'\n[service]\nsocket = "{sock}"\nstaff_idle_s = 3600\n\n[[staff]]\nid = "clerk-1"\n'
                 f'role = "clerk"\ncode_hash = "{hash_secret(CLERK_CODE, FAST_HASH)}"\n')
        site = await start_site(Path(tmp) / "site", clock=ManualClock(), locks="gpio", doors=2, extra=staff)
        c = site.controller
        [parcel] = make_parcels(1, random.Random(1), c.config.hash_params, now=site.clock.now(), method="secret")
        c.import_manifest(manifest.parse({"version": 1, "parcels": [parcel.entry]}), "bench")
        await c.counter_receive("clerk-1", parcel.trade_number)
        client = await ServiceClient.connect(sock)
        try:
            await client.sign_in(CLERK_CODE)
            result: dict = {"rounds": n}
            for name, service in (("in_process", c), ("socket", client.as_service())):
                scans, keys = await rounds(CounterApp(service, "clerk-1"), c, parcel, n)
                result[name] = {f"{what}_{p}_ms": round(pct(values, q), 2)
                                for what, values in (("scan", scans), ("key", keys))
                                for p, q in (("p50", 50), ("p99", 99))}
            for what in ("scan", "key"):
                result[f"socket_extra_{what}_p50_ms"] = round(result["socket"][f"{what}_p50_ms"]
                                                              - result["in_process"][f"{what}_p50_ms"], 2)
            return result
        finally:
            await client.close()
            await c.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    result = asyncio.run(measure(args.rounds))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
