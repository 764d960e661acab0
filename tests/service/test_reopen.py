"""The recipient shut the door on their parcel (the occupancy sensor says it is still
inside): not collected, and the door opens once more without the secret within the
window (issue 9 §2, issue 15 §2); later, or again, the secret is needed."""

from __future__ import annotations

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import NotCollectable

LOCKS = "sim+gpio://?doors=4&pulse_ms=60&occupancy_sensors=1"


@pytest.fixture
async def left_inside(tmp_path, rng):
    """A parcel whose recipient opened its door and shut it again on the parcel."""
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks=LOCKS, doors=4)  # reopen: 60 s, once
    c = site.controller
    [parcel] = await site.add_parcels(1, rng)
    locker = await site.deposit(parcel)
    with c.subscribe() as events:
        await c.submit_code(parcel.trade_number, parcel.secret)
        await events.next("door_open", timeout=5, where=lambda e: e["locker"] == locker)
        site.doors.close(locker)                        # nothing taken
        not_taken = await events.next("pickup_not_taken", timeout=5)
    site.parcel, site.locker, site.not_taken = parcel, locker, not_taken
    try:
        yield site
    finally:
        await c.stop()


async def test_the_parcel_stays_and_the_door_opens_again_without_the_secret(left_inside):
    site, c = left_inside, left_inside.controller
    trade, locker = site.parcel.trade_number, site.locker
    assert site.not_taken["reopen_until"] == pytest.approx(site.clock.now() + 60)
    assert c.site.db.parcel(trade).state == ParcelState.ARRIVED
    assert [e["kind"] for e in c.site.db.outbox() if e["trade_number"] == trade].count("parcel_collected") == 0
    site.clock.advance(30)
    with c.subscribe() as events:
        opening = await c.reopen(trade)
        await events.next("door_open", timeout=5, where=lambda e: e["locker"] == locker)
        site.doors.take(locker)
        site.doors.close(locker)
        await events.next("parcel_collected", timeout=5)
    assert opening.locker == locker and c.site.db.parcel(trade).state == ParcelState.COLLECTED
    pulses = [e["detail"] for e in c.site.db.audit_entries("unlock_commanded") if e["detail"]["op"] == "pickup"]
    assert [p["verified"] for p in pulses][-1] == "reopen" and pulses[-1]["reopened"] == 1
    assert c.site.db.audit_entries("pickup_not_taken")[0]["subject"] == trade


async def test_too_late_needs_the_secret_again(left_inside):
    site, c = left_inside, left_inside.controller
    site.clock.advance(61)
    with pytest.raises(NotCollectable) as refused:
        await c.reopen(site.parcel.trade_number)
    assert refused.value.reason == "reopen_expired"
    assert [e["detail"]["op"] for e in c.site.db.audit_entries("unlock_commanded")].count("pickup") == 1


async def test_only_as_often_as_allowed_and_only_for_that_parcel(left_inside, rng):
    site, c = left_inside, left_inside.controller
    [other] = await site.add_parcels(1, rng)
    await site.deposit(other)
    with pytest.raises(NotCollectable):
        await c.reopen(other.trade_number)              # never left inside: no grant
    with c.subscribe() as events:
        await c.reopen(site.parcel.trade_number)
        await events.next("door_open", timeout=5, where=lambda e: e["locker"] == site.locker)
        site.doors.close(site.locker)                   # shut on it again
        again = await events.next("pickup_not_taken", timeout=5)
    assert again["reopen_until"] is not None            # a new window, but the count is used up
    with pytest.raises(NotCollectable) as refused:
        await c.reopen(site.parcel.trade_number)
    assert refused.value.reason == "reopen_expired"
    # The secret still opens it, with its limits, as for anyone.
    with c.subscribe() as events:
        await c.submit_code(site.parcel.trade_number, site.parcel.secret)
        await events.next("door_open", timeout=5, where=lambda e: e["locker"] == site.locker)


async def test_the_recipient_screen_offers_to_open_it_again(tmp_path, rng):
    """Through the screen: the code, the door opened and shut on the parcel, "Open door N
    again", the door opens, the parcel taken: collected, thanks shown."""
    from kiosk.ui.app import RecipientApp
    from kiosk.ui.screens.door import DoorOpenScreen
    from kiosk.ui.screens.done import DoneScreen
    from tests.ui.conftest import SIZE, wait_for, wait_for_screen
    from tests.ui.test_pickup_flow import enter_code

    site = await start_site(tmp_path / "site", clock=ManualClock(), locks=LOCKS, doors=4)
    c = site.controller
    try:
        [parcel] = await site.add_parcels(1, rng)
        locker = await site.deposit(parcel)
        app = RecipientApp(c)
        async with app.run_test(size=SIZE) as pilot:
            await enter_code(pilot, parcel.trade_number, parcel.secret)
            door = await wait_for_screen(pilot, DoorOpenScreen)
            await wait_for(pilot, lambda: door.opened, "the door open")
            site.doors.close(locker)                        # shut on the parcel
            await wait_for(pilot, lambda: door.still_inside and door.again_row.display, "the offer")
            assert door.headline.text == f"Your parcel is still in door {locker}."
            await pilot.press("enter")                        # the offer has the focus
            await wait_for(pilot, lambda: door.opened, "the door open again")
            site.doors.take(locker)
            site.doors.close(locker)
            await wait_for_screen(pilot, DoneScreen)
        assert c.site.db.parcel(parcel.trade_number).state == ParcelState.COLLECTED
    finally:
        await c.stop()
