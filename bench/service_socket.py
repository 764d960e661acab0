"""The service socket's cost: the same calls in process and over the Unix socket, one run.

For each transport: a cheap read (``counter_desk``), a trade-number check that is refused
(``check_trade_number`` of an unknown parcel: the error crosses the wire), and an event's
delivery (published by the controller → seen by the screen's subscription). Reported as
p50/p99 in milliseconds, and the socket's extra cost per call.

    python bench/service_socket.py [--json] [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.clock import ManualClock
from kiosk.errors import KioskError
from kiosk.service.events import EventKind
from kiosk.service.socket_client import ServiceClient
from hwsim.site import start_site


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def timed(call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        try:
            await call()
        except KioskError:
            pass
        out.append((time.perf_counter() - t) * 1000)
    return out


async def event_delays(controller, service, n: int) -> list[float]:
    out = []
    with service.subscribe() as events:
        for i in range(n):
            t = time.perf_counter()
            controller.bus.publish(EventKind.MANIFEST_IMPORTED, float(i), added=i)
            await events.next("manifest_imported", where=lambda e, i=i: e["added"] == i)
            out.append((time.perf_counter() - t) * 1000)
    return out


async def measure(calls: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        sock = Path(tmp) / "run" / "service.sock"
        site = await start_site(Path(tmp) / "site", clock=ManualClock(), locks="gpio", doors=2,
                                extra=f'\n[service]\nsocket = "{sock}"\n')
        c = site.controller
        client = await ServiceClient.connect(sock)
        try:
            result = {}
            for name, service in (("in_process", c), ("socket", client)):
                read = await timed(lambda s=service: s.counter_desk(), calls)
                refused = await timed(lambda s=service: s.check_trade_number("0000-0000"), calls // 4)
                site.clock.advance(3600)   # the refusals above slow the site down; let it recover
                delivered = await event_delays(c, service, calls)
                result[name] = {f"{what}_{p}_ms": round(pct(values, q), 3)
                                for what, values in (("read", read), ("refused", refused), ("event", delivered))
                                for p, q in (("p50", 50), ("p99", 99))}
            result["socket_extra_read_p50_ms"] = round(result["socket"]["read_p50_ms"]
                                                       - result["in_process"]["read_p50_ms"], 3)
            return result
        finally:
            await client.close()
            await c.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    result = asyncio.run(measure(args.calls))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
