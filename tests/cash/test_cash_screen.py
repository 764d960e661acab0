"""Paying at the locker on the recipient screen, through the real controller and the real
ccTalk driver on the emulated bus: the trade number says money is due, the secret, the
amount counted up as a note and a coin go in, change, then the door; and a cancel that
pays everything back."""

from __future__ import annotations

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens.door import DoorOpenScreen
from kiosk.ui.screens.done import MessageScreen
from kiosk.ui.screens.entry import PickupEntryScreen
from kiosk.ui.screens.payment import PaymentScreen
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen

CASH = "sim+cctalk://?poll_ms=10&hopper_coins=40"
pytestmark = pytest.mark.slow


@pytest.fixture
async def due(tmp_path, rng):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4, cash=CASH)
    [parcel] = await site.add_parcels(1, rng, amount_due=1300)
    site.locker = await site.deposit(parcel)
    site.parcel = parcel
    try:
        yield site
    finally:
        await site.controller.stop()


async def to_payment(pilot, parcel) -> PaymentScreen:
    await type_text(pilot, parcel.trade_number)
    entry = await wait_for_screen(pilot, PickupEntryScreen)
    await pilot.press("enter")
    await wait_for(pilot, lambda: entry.due and entry.active == 1, "the secret, with money due")
    assert "¥1,300" in entry.prompt.text
    await type_text(pilot, parcel.secret)
    await pilot.press("enter")
    return await wait_for_screen(pilot, PaymentScreen)


async def test_pay_with_change_then_the_door(due):
    c, parcel = due.controller, due.parcel
    sim = c.site.cash.sim
    app = RecipientApp(c)
    async with app.run_test(size=SIZE) as pilot:
        pay = await to_payment(pilot, parcel)
        accepted = pay.query_one(".pay-accepted").text
        assert accepted.startswith("Taken here: ") and "¥1,000" in accepted and "¥500" in accepted
        assert pay.session.accepts == c.site.cash.accepted() and list(pay.session.accepts) == sorted(pay.session.accepts)
        assert sim.validator.insert(1000) == "escrow"
        await wait_for(pilot, lambda: pay.credited == 1000, "the note counted")
        assert pay.inserted.text == "Inserted: ¥1,000" and pay.remaining.text == "Still to pay: ¥300"
        sim.acceptor.insert(500)
        door = await wait_for_screen(pilot, DoorOpenScreen)
        assert door.opening.locker == due.locker
        await wait_for(pilot, lambda: door.opened, "the door open")
        due.doors.take(due.locker)
        due.doors.close(due.locker)
        await wait_for(pilot, lambda: c.site.db.parcel(parcel.trade_number).state == ParcelState.COLLECTED,
                       "collected")
    assert sim.hopper.paid_out == 2   # ¥200 change in ¥100 coins


async def test_cancel_gives_the_money_back_and_the_door_stays_shut(due):
    c, parcel = due.controller, due.parcel
    sim = c.site.cash.sim
    app = RecipientApp(c)
    async with app.run_test(size=SIZE) as pilot:
        pay = await to_payment(pilot, parcel)
        sim.acceptor.insert(500)
        await wait_for(pilot, lambda: pay.credited == 500, "the coin counted")
        await pilot.press("escape")
        end = await wait_for_screen(pilot, MessageScreen)
        assert "¥500 has been returned" in " ".join(w.text for w in end.query("Words"))
    assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
    assert [e["detail"]["op"] for e in c.site.db.audit_entries("unlock_commanded")].count("pickup") == 0
