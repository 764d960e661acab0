"""Several parcels, one visit (issue 15 §1): the store groups one recipient's parcels under
one pickup code (contract v1.3 ``group``); proving the right to one opens every door of the
group, each parcel collected only on its own door's evidence — a partial collection is
exact — and the recipient's screen says every door. A wrong code opens nothing; a member
that cannot come out (locked out) stays shut."""

from __future__ import annotations

import pytest

from hwsim.parcels import DemoParcel
from hwsim.site import FAST_HASH, start_site
from hwsim.store import StoreEmulator
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, LockedOut
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import DoorOpenScreen
from kiosk.ui.texts import EN
from tests.sync.conftest import LINK
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen

SITE = "sim-site"
LOCKS = "sim+gpio://?doors=6&pulse_ms=60&occupancy_sensors=1"   # the door knows a parcel is still inside


@pytest.fixture
async def visit(tmp_path):
    clock = ManualClock()
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=5) as store:
        sim = await start_site(tmp_path / "site", clock=clock, store=store, store_settings=LINK, locks=LOCKS, doors=6)
        try:
            group = store.create_visit(SITE, 3)
            alone = store.create_parcel(SITE, "locker")
            await sim.controller.pull_manifest()
            lockers = {}
            for made in [*group, alone]:
                lockers[made.trade_number] = await sim.deposit(DemoParcel(made.trade_number, made.secret, {}))
            yield sim, group, alone, lockers
        finally:
            await sim.controller.stop()


def state(sim, made):
    return sim.controller.site.db.parcel(made.trade_number).state


async def test_one_code_opens_the_group_and_a_partial_collection_is_exact(visit):
    sim, group, alone, lockers = visit
    c = sim.controller
    assert len({c.site.db.parcel(m.trade_number).visit_group for m in group}) == 1
    with pytest.raises(CodeInvalid):
        await c.submit_code(group[0].trade_number, "000000" if group[0].secret != "000000" else "111111")
    assert not any(sim.doors[n].is_open for n in lockers.values())
    with c.subscribe() as events:
        opening = await c.submit_code(group[1].trade_number, group[1].secret)
        doors = [opening.locker, *(o.locker for o in opening.others)]
        assert sorted(doors) == sorted(lockers[m.trade_number] for m in group)
        assert lockers[alone.trade_number] not in doors
        for n in doors:
            await events.next("door_open", where=lambda e, n=n: e["locker"] == n)
        taken, left = doors[:2], doors[2]
        for n in taken:
            sim.doors.take(n)
            sim.doors.close(n)
        sim.doors.close(left)                                   # the third parcel stays inside
        await events.next("pickup_not_taken", where=lambda e: e["locker"] == left)
    by_locker = {lockers[m.trade_number]: m for m in group}
    assert [state(sim, by_locker[n]) for n in taken] == [ParcelState.COLLECTED] * 2
    assert state(sim, by_locker[left]) == ParcelState.ARRIVED and state(sim, alone) == ParcelState.ARRIVED
    opened = [e for e in c.site.db.audit_entries("unlock_commanded") if e["detail"].get("op") == "pickup"]
    assert {e["detail"].get("proven_with") for e in opened} == {None, group[1].trade_number}


async def test_a_locked_out_member_stays_shut(visit):
    sim, group, _alone, lockers = visit
    c = sim.controller
    wrong = "000000" if group[2].secret != "000000" else "111111"
    for _ in range(c.config.attempts.per_parcel_max):
        with pytest.raises((CodeInvalid, LockedOut)):
            await c.submit_code(group[2].trade_number, wrong)
    opening = await c.submit_code(group[0].trade_number, group[0].secret)
    assert lockers[group[2].trade_number] not in [o.locker for o in opening.others]
    assert len(opening.others) == 1


@pytest.mark.slow
async def test_the_screen_says_every_door(visit):
    sim, group, _alone, lockers = visit
    app = RecipientApp(sim.controller)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, group[0].trade_number)
        await pilot.press("enter")
        await type_text(pilot, group[0].secret)
        await pilot.press("enter")
        door = await wait_for_screen(pilot, DoorOpenScreen)
        await wait_for(pilot, lambda: door.opened and len(door.others) == 2, "every door open")
        doors = ", ".join(str(n) for n in (door.opening.locker, *door.others))
        assert door.headline.text == EN.doors_are_open.format(doors=doors)
        assert door.instruction.text == EN.take_all_and_close
