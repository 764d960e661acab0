"""Keys typed at a keyboard-wedge scanner's pace arrive whole across screen changes.

The keys go in through the app's driver, back to back, as a terminal driver hands them on:
no pause for the screen to settle (``pilot.press`` waits for the app between keys, which
hides the problem). Before kiosk.ui.type_ahead, the keys right after a screen change went to
the old screen (each one a new "start") or to the new screen before its field had the focus.
"""

from __future__ import annotations

import asyncio

import pytest
from textual import events

from kiosk.errors import LockedOut
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import DoneScreen, DoorOpenScreen, PickupEntryScreen
from tests.ui.conftest import SIZE, wait_for, wait_for_screen
from tests.ui.fakes import FakeService

GAPS = [0.0, 0.005]   # all at once, and 5 ms a key


async def scanner_types(app, text: str, gap: float) -> None:
    """``text`` typed by a keyboard-wedge scanner; "\\n" is Enter."""
    for ch in text:
        key = events.Key("enter", "\r") if ch == "\n" else events.Key(ch, ch)
        app._driver.send_message(key)
        if gap:
            await asyncio.sleep(gap)


@pytest.mark.parametrize("gap", GAPS)
async def test_a_scanned_trade_number_arrives_whole_on_the_form(gap):
    app = RecipientApp(FakeService(), inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await scanner_types(app, "1234-5678", gap)   # the first key leaves the idle screen
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await wait_for(pilot, lambda: len(screen.inputs[0].value) >= 9, "the whole number", timeout=3)
        assert screen.inputs[0].value == "1234-5678"
        assert app.screen is screen and len(app.screen_stack) == 2   # one form, not one per key


@pytest.mark.parametrize("gap", GAPS)
async def test_keys_typed_while_the_trade_number_is_checked_go_to_the_secret(gap):
    service = FakeService()
    app = RecipientApp(service, inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await scanner_types(app, "1234-5678\n424242", gap)
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await wait_for(pilot, lambda: screen.active == 1 and len(screen.inputs[1].value) >= 6, "the secret",
                       timeout=3)
        assert screen.inputs[0].value == "1234-5678" and screen.inputs[1].value == "424242"
        assert app.focused is screen.inputs[1]


async def test_keys_typed_after_a_refused_number_never_land_in_a_field():
    service = FakeService()
    service.answers["check_trade_number"] = LockedOut("locked")
    app = RecipientApp(service, inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await scanner_types(app, "1234-5678\n424242", 0.0)
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await wait_for(pilot, lambda: screen.problem.text and not screen.busy, "the refusal")
        await pilot.pause(0.1)
        assert "locked" in screen.problem.text
        assert [box.value for box in screen.inputs] == ["", ""]   # the secret is not in the number field


@pytest.mark.parametrize("gap", GAPS)
async def test_the_next_person_scanning_on_thank_you_starts_with_the_whole_number(gap):
    service = FakeService()
    app = RecipientApp(service, inactivity_s=600, done_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await scanner_types(app, "1234-5678\n424242\n", gap)
        await wait_for_screen(pilot, DoorOpenScreen)
        service.publish("door_open", locker=3, op="pickup")
        service.publish("parcel_collected", locker=3, trade_number="1234-5678")
        await wait_for_screen(pilot, DoneScreen)
        await scanner_types(app, "8765-4321", gap)
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await wait_for(pilot, lambda: len(screen.inputs[0].value) >= 9, "the whole number", timeout=3)
        assert screen.inputs[0].value == "8765-4321"


async def test_keys_held_for_a_screen_that_never_answers_are_let_go_in_order(monkeypatch):
    from kiosk.ui import type_ahead
    monkeypatch.setattr(type_ahead, "HOLD_MAX_S", 0.2)
    app = RecipientApp(FakeService(), inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await scanner_types(app, "1", 0.0)
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        app.type_ahead.hold(screen)       # as if the form had asked and never answered
        await scanner_types(app, "23", 0.0)
        await pilot.pause(0.4)
        assert screen.inputs[0].value == "1"
        await scanner_types(app, "4", 0.0)  # the next key finds the hold overdue
        await wait_for(pilot, lambda: len(screen.inputs[0].value) >= 4, "the held keys", timeout=3)
        assert screen.inputs[0].value == "1234"
