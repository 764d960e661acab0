"""Extending a parcel's hold (issue 15 §5): the recipient with the secret, or a clerk; once
(as configured); the warnings follow the new deadline; the store hears of it and moves its
own deadline."""

from __future__ import annotations

import pytest

from hwsim.parcels import DemoParcel
from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, NotCollectable
from kiosk.service import holding
from tests.sync.conftest import LINK

SITE = "sim-site"
HOUR = 3600


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
async def site(tmp_path, clock):
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=8) as store:
        sim = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks="gpio", doors=2)
        try:
            made = store.create_parcel(SITE, "locker", hold_s=30 * HOUR)
            await sim.controller.pull_manifest()
            await sim.deposit(DemoParcel(made.trade_number, made.secret, {}))
            yield sim, store, made
        finally:
            await sim.controller.stop()


async def test_the_recipient_extends_once_and_the_warnings_follow(site, clock):
    sim, store, made = site
    c = sim.controller
    clock.advance(10 * HOUR)                                   # 20 h left: the 24 h warning is due
    holding.sweep(c.site)
    before = c.site.db.parcel(made.trade_number)
    assert before.reminders_sent == 1
    with pytest.raises(CodeInvalid):                           # the secret first, under the usual limits
        await c.extend_hold(made.trade_number, "000000" if made.secret != "000000" else "111111")
    deadline = await c.extend_hold(made.trade_number, made.secret)
    after = c.site.db.parcel(made.trade_number)
    assert deadline == after.hold_deadline == before.hold_deadline + 48 * HOUR
    assert after.extensions == 1 and after.reminders_sent == 0   # 68 h left: no warning is past any more
    with pytest.raises(NotCollectable) as again:
        await c.extend_hold(made.trade_number, made.secret)
    assert again.value.reason == "not_extendable"
    clock.advance(45 * HOUR)                                   # 23 h before the new deadline
    holding.sweep(c.site)
    assert c.site.db.parcel(made.trade_number).reminders_sent == 1
    assert [e["kind"] for e in c.site.db.outbox()].count("forgotten_pickup") == 2
    clock.advance(30 * HOUR)                                   # past the old and the new deadline
    holding.sweep(c.site)
    assert c.site.db.parcel(made.trade_number).state == ParcelState.EXPIRED
    [extended] = [e for e in c.site.db.outbox() if e["kind"] == "hold_extended"]
    assert extended["payload"]["by"] == "recipient" and extended["payload"]["extensions"] == 1
    await c.sync.settle()
    assert "hold_extended" in [e["kind"] for e in store.events(SITE)]


async def test_a_clerk_extends_from_the_lists(site):
    sim, _, made = site
    c = sim.controller
    [row] = [r for r in (await c.clerk_overview()).parcels if r.trade_number == made.trade_number]
    assert "extend" in row.actions
    await c.clerk_extend_hold("clerk-3", made.trade_number)
    [row] = [r for r in (await c.clerk_overview()).parcels if r.trade_number == made.trade_number]
    assert "extend" not in row.actions
    [audit] = c.site.db.audit_entries("hold_extended")
    assert audit["actor"] == "clerk:clerk-3"


async def test_a_store_deadline_moves_at_the_store_too(site):
    sim, store, made = site
    c = sim.controller
    deadline = await c.extend_hold(made.trade_number, made.secret)
    await c.sync.settle()
    row = store._db.parcel(SITE, made.trade_number)
    assert row["hold_deadline"] == pytest.approx(deadline)
