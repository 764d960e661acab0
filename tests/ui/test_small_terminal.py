"""The screens fit an 80x24 terminal: every step of the recipient's and the clerk's flows
in every language, and the demo, whose side panel folds away below 128 columns (F3 swaps
it with the screen). `clipped` (tests/ui/fit.py) lists whatever is cut off."""

from __future__ import annotations

import asyncio

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Button

from kiosk.errors import CodeInvalid
from kiosk.languages import CODES
from kiosk.service.api import DeskState
from kiosk.ui.counter import CounterApp
from kiosk.ui.screens import (CourierDoneScreen, CourierEntryScreen, DoneScreen, DoorOpenScreen, MessageScreen,
                              PickupEntryScreen)
from hwsim.doors import DoorBank
from hwsim.panel import DoorPanel
from tests.ui.conftest import wait_for, wait_for_screen
from tests.ui.fakes import FakeCounterService, FakeService
from tests.ui.fit import clipped
from tests.ui.test_counter_app import reads_then_secret
from tests.ui.test_snapshots import courier_logged_in, enter_code, in_language, make_app, to_door

SMALL = (80, 24)
LANGUAGES = list(CODES)   # every language: Hangul and kana are two columns wide


async def wrong_secret(pilot, service):
    service.answers["submit_code"] = CodeInvalid("x", attempts_left=3)
    await enter_code(pilot)
    await wait_for(pilot, lambda: pilot.app.screen.problem.text, "the refusal")


async def checking(pilot, service):
    service.gate = asyncio.Event()    # the service holds its answer: "Checking…" shows
    await enter_code(pilot)
    await wait_for(pilot, lambda: pilot.app.screen.busy, "the check")


async def door_open(pilot, service):
    await to_door(pilot)


async def left_open(pilot, service):
    await to_door(pilot)
    service.publish("alarm", locker=3, alarm="left_open")
    await wait_for(pilot, lambda: pilot.app.screen.reminder.text, "the reminder")


async def done(pilot, service):
    await to_door(pilot)
    service.publish("parcel_collected", locker=3, trade_number="1234-5678")
    await wait_for_screen(pilot, DoneScreen)


async def did_not_open(pilot, service):
    await to_door(pilot)
    service.publish("locker_fault", locker=3, reason="jammed", op="pickup")
    await wait_for_screen(pilot, MessageScreen)


async def courier_code(pilot, service):
    await pilot.click(".idle-courier")
    await wait_for_screen(pilot, CourierEntryScreen)


async def courier_done(pilot, service):
    await courier_logged_in(pilot)
    await pilot.press(*"1234-5678", "enter")
    await wait_for_screen(pilot, DoorOpenScreen)
    service.publish("parcel_arrived", locker=5, trade_number="1234-5678")
    await wait_for_screen(pilot, CourierDoneScreen)


async def idle(pilot, service):
    await pilot.pause()


RECIPIENT_STEPS = [idle, wrong_secret, checking, door_open, left_open, done, did_not_open, courier_code, courier_done]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("step", RECIPIENT_STEPS, ids=lambda f: f.__name__)
async def test_every_recipient_step_fits_80x24(step, language):
    service = FakeService()
    app = make_app(service)
    async with app.run_test(size=SMALL) as pilot:
        app.language = language
        await step(pilot, service)
        await pilot.pause()
        assert clipped(app.screen) == []


async def counter_hand_over(pilot):
    await reads_then_secret(pilot)
    await wait_for(pilot, lambda: pilot.app.screen.confirm.display and not pilot.app.screen.busy, "ready")


async def counter_wrong_secret(pilot):
    pilot.app.service.answers["counter_verify"] = CodeInvalid("the secret does not match", 3)
    await reads_then_secret(pilot)
    await wait_for(pilot, lambda: pilot.app.screen.verdict.has_class("-refused") and not pilot.app.screen.busy,
                   "the refusal")


async def counter_forged(pilot):
    service = pilot.app.service
    service.read("label", DeskState("counter", label="1234-5678", missing=("secret",)))
    service.publish("counter_rejected", reason="forged", source="scan", tag_dropped=True,
                    state=DeskState("counter", label="1234-5678", missing=("secret",)))
    await wait_for(pilot, lambda: pilot.app.screen.verdict.has_class("-grave"), "the refusal")


async def counter_start(pilot):
    await pilot.pause()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("step", [counter_start, counter_hand_over, counter_wrong_secret, counter_forged],
                         ids=lambda f: f.__name__)
async def test_every_counter_state_fits_80x24(step, language):
    app = CounterApp(FakeCounterService(), "clerk-7")
    async with app.run_test(size=SMALL) as pilot:
        app.language = language
        await step(pilot)
        await pilot.pause()
        assert clipped(app.screen) == []


class _Site:
    """Just the emulator's doors: the panel needs nothing else."""

    def __init__(self) -> None:
        self.doors = DoorBank(8)


NOTES = "Demo parcels: trade number, secret\n" + "\n".join(
    f"1234-567{n}  42424{n}  locker {n}" for n in range(6)) + "\nCourier code: 24680\n"   # as hwsim.demo.describe


async def test_the_demo_folds_its_door_panel_away_at_80x24_and_f3_swaps_it_in():
    site = _Site()
    app = make_app(side_panel=lambda: DoorPanel(site, notes=NOTES))
    async with app.run_test(size=SMALL) as pilot:
        await to_door(pilot)
        panel = app.screen.query_one(DoorPanel)
        main = app.screen.query_one(".kiosk-main")
        assert not panel.display and main.display
        assert clipped(app.screen) == []
        assert any("F3 shows the side panel" in str(n.message) for n in app._notifications)

        await pilot.press("f3")
        await pilot.pause()
        assert panel.display and not main.display
        assert clipped(app.screen) == []
        assert panel.query_one(".panel-notes", VerticalScroll).max_scroll_y == 0   # every parcel in sight
        site.doors[3].pulse(100)                   # the controller's unlock, as the emulator sees it
        await pilot.pause(0.3)                     # one panel refresh
        close = next(b for b in panel.query(Button) if str(b.label) == "Close")
        await pilot.click(close)
        assert not site.doors[3].is_open           # the panel's buttons work where it is shown
        site.doors[3].pulse(100)
        await pilot.press("c")                     # and its key: the focus went into the panel
        assert not site.doors[3].is_open

        await pilot.press("f3")
        await pilot.pause()
        assert not panel.display and main.display
        assert clipped(app.screen) == []


async def test_f3_gives_the_focus_back_to_the_field_being_filled():
    app = make_app(side_panel=lambda: DoorPanel(_Site(), notes=NOTES))
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press(*"1234")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        field = screen.inputs[0]
        assert app.focused is field
        await pilot.press("f3")
        await pilot.pause()
        assert app.focused is not None and app.focused in screen.query_one(DoorPanel).query("*")
        await pilot.press("f3", *"-5678")
        await pilot.pause()
        assert app.focused is field and field.value == "1234-5678"


async def test_a_wide_terminal_shows_the_panel_beside_the_screen():
    app = make_app(side_panel=lambda: DoorPanel(_Site(), notes=NOTES))
    async with app.run_test(size=(150, 36)) as pilot:
        await to_door(pilot)
        assert app.screen.query_one(DoorPanel).display and app.screen.query_one(".kiosk-main").display
        assert not app._notifications
        await pilot.press("f3")                    # nothing to unfold
        await pilot.pause()
        assert app.screen.query_one(DoorPanel).display and app.screen.query_one(".kiosk-main").display
        assert clipped(app.screen) == []


def test_demo_at_80x24(snap_compare):
    site = _Site()
    site.doors.put(1)
    site.doors.jam(4)

    async def steps(pilot):
        await to_door(pilot)
        pilot.app.clear_notifications()

    app = make_app(side_panel=lambda: DoorPanel(site, notes=NOTES))
    assert snap_compare(app, terminal_size=SMALL, run_before=in_language("en", steps))


def test_demo_at_80x24_with_the_door_panel_shown(snap_compare):
    site = _Site()
    site.doors.put(1)
    site.doors.jam(4)

    async def steps(pilot):
        await to_door(pilot)
        pilot.app.clear_notifications()
        site.doors[3].pulse(100)
        await pilot.press("f3")
        await pilot.pause(0.3)    # one panel refresh

    app = make_app(side_panel=lambda: DoorPanel(site, notes=NOTES))
    assert snap_compare(app, terminal_size=SMALL, run_before=in_language("en", steps))
