"""Outbox drain: 10,000 queued events sent to the store emulator over loopback.

The engine: the real controller's outbox pump (read a batch from SQLite, sign, POST, check
the acknowledgement, mark the batch sent in a committed transaction) draining events
queued in one transaction. The bare loop: one httpx.AsyncClient posting the very same
batches, already serialised and signed, as fast as it can — the transport and the store
alone. Each run gets a fresh emulator and database; the best of ``--rounds`` alternating
runs of each is kept, so neither side profits from going second.

    python bench/sync_drain.py [--json] [--events N] [--batch N] [--rounds N]

Prints ``events_per_s`` (the engine) and ``ratio_to_bare`` (engine time / bare time).
Goals: ≥ 1,000 events/s and ≤ 1.5×.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import SystemClock
from kiosk.security.keys import b64url, load_or_create_site_key, public_key_text
from kiosk.sync.client import signing_input
from kiosk.sync.settings import StoreSettings
from kiosk.sync.wire import EventBatch

GOALS = {"events_per_s": 1000.0, "ratio_to_bare": 1.5}
TRADES = 200


def queue(controller, count: int) -> None:
    with controller.site.db.transaction(controller.clock.now()) as tx:
        for i in range(count):
            tx.emit("parcel_collected", f"{1000 + i % TRADES}-{2000 + i % TRADES}", locker=1 + i % 8,
                    method="locker", at=tx.now, evidence={"op_id": f"{i:032x}", "door_closed_at": tx.now})


async def engine_run(folder: Path, events: int, batch: int) -> tuple[float, list[EventBatch], str]:
    """Drain ``events`` through the controller; returns (seconds, the batches it sent, key path)."""
    with StoreEmulator(folder / "store", hash_params=FAST_HASH) as store:
        site = await start_site(folder / "site", clock=SystemClock(), store=store, locks="gpio", doors=8,
                                store_settings={"batch_size": batch, "timeout_s": 30.0})
        c = site.controller
        try:
            await c.sync.settle()
            queue(c, events)
            t0 = time.perf_counter()
            # Look at the database only between passes: a COUNT every few ms would be the
            # bench's own load on the engine it measures.
            while c.sync.pump.running or c.site.db.pending_summary()[0]:  # noqa: ASYNC110 (a poll between passes, see above)
                await asyncio.sleep(0.002)
            seconds = time.perf_counter() - t0
            rows = [dict(r) for r in c.site.db.conn.execute("SELECT * FROM outbox ORDER BY seq")]
            assert len(store.events("sim-site")) == events, "the store did not get every event"
        finally:
            await c.stop()
    batches = [EventBatch.from_outbox(rows[i:i + batch]) for i in range(0, len(rows), batch)]
    return seconds, batches, str(c.config.site_key_path)


async def bare_run(folder: Path, batches: list[EventBatch], key_path: str) -> float:
    """Post the same batches (the very same bytes) with a bare client, pre-signed."""
    key = load_or_create_site_key(Path(key_path))
    site_id = "bench-bare"
    with StoreEmulator(folder / "store", hash_params=FAST_HASH) as store:
        store.register_site(site_id, public_key_text(key.public_key()))
        target = f"/v1/sites/{site_id}/events"
        bodies = [b.body for b in batches]
        timestamp = str(int(time.time()))
        nonces = [uuid.uuid4().hex for _ in bodies]
        signatures = [b64url(key.sign(signing_input("POST", target.encode(), site_id, timestamp, nonce, body)))
                      for body, nonce in zip(bodies, nonces, strict=True)]
        async with httpx.AsyncClient(base_url=store.url, trust_env=False, timeout=30.0) as client:
            await client.get("/v1/time")   # open the connection (refused unsigned: it only has to connect)
            t0 = time.perf_counter()
            for body, signature, nonce in zip(bodies, signatures, nonces, strict=True):
                response = await client.post(target, content=body, headers={
                    "X-Site-Id": site_id, "X-Site-Timestamp": timestamp, "X-Site-Nonce": nonce,
                    "X-Site-Signature": signature, "Content-Type": "application/json"})
                response.raise_for_status()
                response.json()
            seconds = time.perf_counter() - t0
        assert len(store.events(site_id)) == sum(len(b.ids) for b in batches)
    return seconds


async def main(events: int, batch: int, rounds: int) -> dict:
    engine, bare = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="sync-drain-") as tmp:
            seconds, batches, key_path = await engine_run(Path(tmp) / "engine", events, batch)
            engine.append(seconds)
            bare.append(await bare_run(Path(tmp) / "bare", batches, key_path))
    best_engine, best_bare = min(engine), min(bare)
    result = {"events": events, "batch_size": batch, "rounds": rounds,
              "events_per_s": round(events / best_engine, 1), "ratio_to_bare": round(best_engine / best_bare, 3),
              "engine_s": round(best_engine, 3), "bare_s": round(best_bare, 3),
              "bare_events_per_s": round(events / best_bare, 1),
              "engine_runs_s": [round(s, 3) for s in engine], "bare_runs_s": [round(s, 3) for s in bare],
              "goals": GOALS}
    result["goals_met"] = (result["events_per_s"] >= GOALS["events_per_s"]
                           and result["ratio_to_bare"] <= GOALS["ratio_to_bare"])
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=StoreSettings.batch_size, help="[store] batch_size")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    out = asyncio.run(main(args.events, args.batch, args.rounds))
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:>20}: {value}")
