"""Parcels sent from the pickup point (issue 15 §4), through the store emulator's signed
manifest (contract v1.3 ``dropoff``): the sender's drop-off code under the usual attempt
limits opens a free door of the right size, the parcel shut inside is its arrival; nobody
can collect it; the courier's round — one sign-in — empties it and the expired parcels,
each door on its own evidence, and the store hears ``parcel_returned``."""

from __future__ import annotations

import pytest

from hwsim.parcels import DemoParcel
from hwsim.site import COURIER_CODE, FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, InvalidTransition, NotCollectable, SeeStaff
from kiosk.service import holding
from tests.sync.conftest import LINK

SITE = "sim-site"
LOCKS = "sim+gpio://?doors=6&pulse_ms=60&occupancy_sensors=1"
DAY = 86400


@pytest.fixture
async def linked(tmp_path):
    clock = ManualClock()
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=4) as store:
        sim = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks=LOCKS,
                               doors=6, sizes={"S": (1, 2), "L": (3, 4, 5, 6)})
        try:
            yield sim, store, clock
        finally:
            await sim.controller.stop()


async def test_drop_off_then_the_round_takes_it_and_the_expired_one(linked):
    sim, store, clock = linked
    c = sim.controller
    sent = store.create_parcel(SITE, "secret", size="L", dropoff=True)
    late = store.create_parcel(SITE, "locker", hold_s=DAY)
    await c.pull_manifest()
    assert c.site.db.parcel(sent.trade_number).dropoff
    with pytest.raises(SeeStaff):                                  # a courier does not load it
        await sim.deposit(DemoParcel(sent.trade_number, sent.secret, {}))
    late_locker = await sim.deposit(DemoParcel(late.trade_number, late.secret, {}))

    with pytest.raises(CodeInvalid):
        await c.drop_off(sent.trade_number, "000000" if sent.secret != "000000" else "111111")
    with c.subscribe() as events:
        opening = await c.drop_off(sent.trade_number, sent.secret)
        assert opening.kind == "deposit" and c.config.layout.size_of(opening.locker) == "L"
        await events.next("door_open", where=lambda e: e["locker"] == opening.locker)
        sim.doors.put(opening.locker)
        sim.doors.close(opening.locker)
        await events.next("parcel_arrived", where=lambda e: e["locker"] == opening.locker)
    assert c.site.db.parcel(sent.trade_number).state == ParcelState.ARRIVED
    with pytest.raises(NotCollectable):                             # the code opens nothing now
        await c.submit_code(sent.trade_number, sent.secret)
    with pytest.raises(NotCollectable):
        await c.drop_off(sent.trade_number, sent.secret)

    clock.advance(2 * DAY)
    holding.sweep(c.site)                                           # the other one expires; the sent one does not
    assert c.site.db.parcel(late.trade_number).state == ParcelState.EXPIRED
    assert c.site.db.parcel(sent.trade_number).state == ParcelState.ARRIVED

    token = (await c.courier_login(COURIER_CODE)).token
    items = await c.collection_round(token)
    assert {(i.locker, i.why) for i in items} == {(opening.locker, "send"), (late_locker, "expired")}
    with pytest.raises(InvalidTransition):
        await c.open_for_round(token, 2)                            # nothing for the round there
    for item in items:
        returned = await sim.take_on_round(token, item.locker)
        assert returned["sent"] == (item.why == "send")
    assert await c.collection_round(token) == ()
    for made in (sent, late):
        parcel = c.site.db.parcel(made.trade_number)
        assert parcel.state == ParcelState.RETURNED and parcel.secret_hash is None
    audited = c.site.db.audit_entries("parcel_returned")
    assert all(e["detail"]["door_opened_at"] and e["detail"]["door_closed_at"] for e in audited)
    assert c.site.db.audit_entries("parcel_collected") == []
    for _ in range(5):                        # a send caught by the clock's two-day jump is retried
        clock.advance(1)
        c.tick()
        await c.sync.settle()
    assert c.site.db.outbox(pending_only=True) == []
    kinds = [e["kind"] for e in store.events(SITE) if e["trade_number"] in (sent.trade_number, late.trade_number)]
    assert kinds.count("parcel_returned") == 2


async def test_a_round_door_shut_on_the_parcel_leaves_it(linked):
    sim, store, clock = linked
    c = sim.controller
    sent = store.create_parcel(SITE, "secret", dropoff=True)
    await c.pull_manifest()
    with c.subscribe() as events:
        opening = await c.drop_off(sent.trade_number, sent.secret)
        await events.next("door_open", where=lambda e: e["locker"] == opening.locker)
        sim.doors.put(opening.locker)
        sim.doors.close(opening.locker)
        await events.next("parcel_arrived")
        token = (await c.courier_login(COURIER_CODE)).token
        await c.open_for_round(token, opening.locker)
        await events.next("door_open", where=lambda e: e["locker"] == opening.locker)
        sim.doors.close(opening.locker)                             # not taken
        await events.next("pickup_not_taken", where=lambda e: e["locker"] == opening.locker)
    assert c.site.db.parcel(sent.trade_number).state == ParcelState.ARRIVED
    assert [i.trade_number for i in await c.collection_round(token)] == [sent.trade_number]
