"""A pickup point linked to an emulated store backend, on a ManualClock shared by both."""

from __future__ import annotations

import random

import pytest

from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock

# Short real-time timeouts (a fault that holds a reply costs the test this long) and a
# small cap on the (simulated) backoff.
LINK = {"timeout_s": 0.5, "backoff_initial_s": 1.0, "backoff_max_s": 60.0, "batch_size": 50,
        "manifest_interval_s": 300, "anchor_interval_s": 86400}   # anchoring has its own tests
TRADES = ("1111-0001", "1111-0002", "1111-0003", "1111-0004")


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def store(tmp_path, clock):
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=3) as emulator:
        yield emulator


async def linked_site(tmp_path, clock, store, *, verification=None, **link):
    return await start_site(tmp_path / "site", clock=clock, store=store, store_settings={**LINK, **link},
                            verification=verification, locks="gpio", doors=6, rng=random.Random(5))


@pytest.fixture
async def linked(tmp_path, clock, store):
    site = await linked_site(tmp_path, clock, store)
    await site.controller.sync.settle()   # the first manifest pull
    try:
        yield site
    finally:
        await site.controller.stop()


def queue_events(db, now: float, count: int, trades=TRADES) -> list[str]:
    """Queue ``count`` events about a few parcels (so per-parcel order can be checked)."""
    ids = []
    with db.transaction(now) as tx:
        for i in range(count):
            ids.append(tx.emit("verification_failed", trades[i % len(trades)], failed_attempts=i, at=tx.now))
    return ids


def pending(controller) -> int:
    return controller.site.db.pending_summary()[0]


async def deliver_all(site, *, rounds: int = 40) -> None:
    """Let simulated time pass (past any backoff) until the outbox is empty."""
    c = site.controller
    for _ in range(rounds):
        await c.sync.settle()
        if pending(c) == 0:
            return
        site.clock.advance(c.config.store.backoff_max_s + 1)
        c.tick()
    raise AssertionError(f"{pending(c)} event(s) still pending; status {c.status()['store_link']}")


def delivered_once_in_order(store, site_id: str, ids: list[str]) -> None:
    """Every id at the store exactly once, in the order the pickup point made them."""
    at_store = [e["event_id"] for e in store.events(site_id)]
    assert len(at_store) == len(set(at_store))
    mine = [i for i in at_store if i in set(ids)]
    assert mine == ids
    assert store.out_of_order_received == 0
