"""F5 and F4: how long a fingerprint check and a token check take through the controller.

One simulated site linked to the store emulator on loopback, the real drivers over ptys:

- finger_local    ``submit_finger`` with [verification] biometric = local: the reference
                  fetched from the store (signed), downloaded into the module (R30x at
                  57600 baud over a pty), capture, convert, match, buffers wiped; the
                  door is then shut and the parcel put back in for the next round
- finger_online   the same with = online: capture, upload, the store's signed verdict
- token_counter   a token held to the 125 kHz reader (RDM6300 frames over a pty) until
                  the counter desk holds it, then the check of token and secret
                  (two Argon2id verifications, at the test cost)

p50/p99 in milliseconds. A real module takes 0.3-1 s to image and match a finger; this
measures our side (the packets, the store round trip, the books).

    python bench/finger_token.py [--json] [--rounds 20]
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

from hwsim.biometrics.fingers import finger_of
from hwsim.parcels import DemoParcel
from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock

SITE = "sim-site"
LINK = {"timeout_s": 5.0, "backoff_initial_s": 1.0, "backoff_max_s": 30.0, "batch_size": 50,
        "manifest_interval_s": 300}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(samples: list[float]) -> dict:
    return {"p50_ms": round(percentile(samples, 0.5) * 1000, 2), "p99_ms": round(percentile(samples, 0.99) * 1000, 2),
            "n": len(samples)}


async def fingers(base: Path, mode: str, rounds: int) -> list[float]:
    clock = ManualClock()
    with StoreEmulator(base / f"store-{mode}", clock=clock, hash_params=FAST_HASH, seed=1) as store:
        site = await start_site(base / f"site-{mode}", clock=clock, store=store, store_settings=LINK, locks="gpio",
                                doors=2, biometric="sim+r30x://", verification={"biometric": mode})
        c = site.controller
        try:
            samples = []
            for _ in range(rounds):
                made = store.create_parcel(SITE, "biometric")
                await c.pull_manifest()
                await site.deposit(DemoParcel(made.trade_number, "", {}))
                c.fingerprint.sim.place(finger_of(made.template))
                with c.subscribe() as events:
                    started = time.perf_counter()
                    locker = (await c.submit_finger(made.trade_number)).locker
                    samples.append(time.perf_counter() - started)
                    await events.next("door_open", where=lambda e, n=locker: e["locker"] == n)
                    site.doors.take(locker)
                    site.doors.close(locker)
                    await events.next("parcel_collected", where=lambda e, n=locker: e["locker"] == n)
            return samples
        finally:
            await c.stop()


async def tokens(base: Path, rounds: int) -> list[float]:
    clock = ManualClock()
    with StoreEmulator(base / "store-token", clock=clock, hash_params=FAST_HASH, seed=2) as store:
        site = await start_site(base / "site-token", clock=clock, store=store, store_settings=LINK, locks="gpio",
                                doors=2, token="sim+rdm6300://?dedupe_ms=50")
        c = site.controller
        try:
            samples = []
            for _ in range(rounds):
                made = store.create_parcel(SITE, "token")
                await c.pull_manifest()
                await c.counter_receive("clerk-bench", made.trade_number)
                await c.counter_present(made.trade_number.encode())
                with c.subscribe() as events:
                    started = time.perf_counter()
                    c.token_reader.sim.hold(made.token_id, frames=1)
                    await events.next("counter_read", where=lambda e: e["read"] == "token")
                ticket = await c.counter_verify(made.secret)
                samples.append(time.perf_counter() - started)
                await c.counter_confirm("clerk-bench", ticket.ticket)
            return samples
        finally:
            await c.stop()


async def main_async(rounds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-finger-token-") as tmp:
        base = Path(tmp)
        return {"finger_local": figures(await fingers(base, "local", rounds)),
                "finger_online": figures(await fingers(base, "online", rounds)),
                "token_counter": figures(await tokens(base, rounds))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    result = asyncio.run(main_async(args.rounds))
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in result.items():
            print(f"{name:14} p50 {value['p50_ms']:8.2f} ms   p99 {value['p99_ms']:8.2f} ms   (n={value['n']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
