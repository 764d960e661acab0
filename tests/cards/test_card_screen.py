"""F3 on the recipient screen, through the real controller, pcscd and the virtual card:
the trade number, then "put the card in the reader, enter its PIN", a wrong PIN with the
card's tries left, then the right one — the door opens with "take your card"."""

from __future__ import annotations

import pytest

from kiosk.domain.parcels import ParcelState
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens.door import DoorOpenScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.entry import PickupEntryScreen
from kiosk.ui.texts import EN
from tests.cards.test_card_pickup import card_seen, clock, f3, store  # noqa: F401 — fixtures
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen

pytestmark = pytest.mark.slow


async def test_a_card_parcel_on_the_screen(f3):  # noqa: F811 — the fixture
    site, parcel, locker, reader, _ = f3
    c = site.controller
    app = RecipientApp(c)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, parcel.trade_number)
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.card and screen.active == 1, "the card prompt")
        assert screen.prompt.text == EN.card_prompt and screen._labels[1].text == EN.card_pin
        wrong = parcel.secret[:-1] + ("1" if parcel.secret[-1] != "1" else "2")   # one digit off
        await type_text(pilot, wrong)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy and screen.problem.text, "the card's answer")
        assert screen.problem.text.startswith("The card says the PIN is not right.")
        assert screen.active == 1                      # the PIN again, the trade number kept
        await type_text(pilot, parcel.secret)
        await pilot.press("enter")
        door = await wait_for_screen(pilot, DoorOpenScreen)
        assert door.opening.card
        await wait_for(pilot, lambda: door.opened, "the door open")
        assert door.instruction.text.startswith(EN.take_card)
        site.doors.take(locker)
        site.doors.close(locker)
        await wait_for_screen(pilot, DoneScreen)
    assert c.site.db.parcel(parcel.trade_number).state == ParcelState.COLLECTED
    assert [e["kind"] for e in c.site.db.outbox()].count("card_signature") == 1
