"""SVG snapshots of each screen, in both languages where the words matter.

Driven by ``FakeService`` so every pixel is the test's choice. Update after a deliberate
change with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and look at the report.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from kiosk.errors import CodeInvalid, LockedOut, NoLockerFree, PaymentDue
from kiosk.service.dto import PaymentSession
from kiosk.ui.screens.payment import PaymentScreen
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import (CourierDoneScreen, CourierEntryScreen, DoneScreen, DoorOpenScreen, MessageScreen,
                              PickupEntryScreen)
from hwsim.doors import DoorBank
from hwsim.panel import DoorPanel
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen
from tests.ui.fakes import FakeService

LANGUAGES = ["en", "ja"]
EVERY_LANGUAGE = [*LANGUAGES, "ko"]   # the main screens also in the third language


def make_app(service: FakeService | None = None, **kw) -> RecipientApp:
    return RecipientApp(service or FakeService(), inactivity_s=600, done_s=600, **kw)


async def settle(pilot) -> None:
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False  # a blinking cursor would make the picture depend on timing
    await pilot.pause()


async def enter_code(pilot, secret: str = "424242") -> None:
    await type_text(pilot, "1234-5678")
    await wait_for_screen(pilot, PickupEntryScreen)
    await pilot.press("enter", *secret, "enter")


def in_language(language: str, steps=None):
    async def run_before(pilot) -> None:
        pilot.app.language = language
        if steps is not None:
            await steps(pilot)
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("language", EVERY_LANGUAGE)
def test_idle(snap_compare, language):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=in_language(language))


@pytest.mark.slow
@pytest.mark.parametrize("language", EVERY_LANGUAGE)
def test_entry_with_wrong_secret(snap_compare, language):
    service = FakeService()
    service.answers["submit_code"] = CodeInvalid("x", attempts_left=3)

    async def steps(pilot):
        await enter_code(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.problem.text, "the refusal")

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


CONTACT = {"en": "the counter inside the shop, or call 0120-000-000",
           "ja": "店内のカウンター、またはお電話 0120-000-000"}


async def to_opening(pilot) -> None:
    """The code accepted and the lock pulsed; the door sensor has not shown the door open."""
    await enter_code(pilot)
    await wait_for_screen(pilot, DoorOpenScreen)


async def to_door(pilot) -> None:
    """The door sensor shows the door open."""
    await to_opening(pilot)
    pilot.app.service.publish("door_open", locker=3, op="pickup")
    await wait_for(pilot, lambda: pilot.app.screen.opened, "the door open")


async def to_still_inside(pilot) -> None:
    """The door was opened and shut again on the parcel: offered to open it once more."""
    await to_door(pilot)
    pilot.app.service.publish("pickup_not_taken", locker=3, trade_number="1234-5678", reopen_until=60.0)
    await wait_for(pilot, lambda: pilot.app.screen.still_inside, "the parcel left inside")


@pytest.mark.parametrize("language", LANGUAGES)
def test_parcel_still_inside(snap_compare, language):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=in_language(language, to_still_inside))


@pytest.mark.parametrize("language", LANGUAGES)
def test_door_opening(snap_compare, language):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=in_language(language, to_opening))


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_door_open(snap_compare, language):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=in_language(language, to_door))


@pytest.mark.parametrize("language", LANGUAGES)
def test_locked_out_before_the_secret(snap_compare, language):
    service = FakeService(staff_contact=CONTACT)
    service.answers["check_trade_number"] = LockedOut("x")

    async def steps(pilot):
        await type_text(pilot, "1234-5678")
        await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.screen.problem.text, "the refusal")

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", LANGUAGES)
def test_finger_with_tries_left(snap_compare, language):
    service = FakeService(staff_contact=CONTACT)
    service.answers["check_trade_number"] = "biometric"
    service.answers["submit_finger"] = CodeInvalid("another finger", 3)

    async def steps(pilot):
        await type_text(pilot, "1234-5678")
        await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.screen.finger and pilot.app.screen.active == 1, "the finger prompt")
        await pilot.press("4", "2", "enter")                 # nothing to type: keys do nothing
        await wait_for(pilot, lambda: pilot.app.screen.problem.text and not pilot.app.screen.busy, "the refusal")

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


async def to_card_pin(pilot) -> None:
    """An IC-card parcel: after the trade number, the card and its PIN."""
    await type_text(pilot, "1234-5678")
    await wait_for_screen(pilot, PickupEntryScreen)
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.screen.card and pilot.app.screen.active == 1, "the card prompt")


@pytest.mark.parametrize("language", LANGUAGES)
def test_card_pin_with_tries_left(snap_compare, language):
    service = FakeService(staff_contact=CONTACT)
    service.answers["check_trade_number"] = "ic_card"
    service.answers["submit_card"] = CodeInvalid("wrong PIN", 2)

    async def steps(pilot):
        await to_card_pin(pilot)
        await type_text(pilot, "1111")
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.screen.problem.text and not pilot.app.screen.busy, "the refusal")

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", LANGUAGES)
def test_card_door_open_take_your_card(snap_compare, language):
    service = FakeService(staff_contact=CONTACT)
    service.answers["check_trade_number"] = "ic_card"

    async def steps(pilot):
        await to_card_pin(pilot)
        await type_text(pilot, "4242")
        await pilot.press("enter")
        await wait_for_screen(pilot, DoorOpenScreen)
        pilot.app.service.publish("door_open", locker=3, op="pickup")
        await wait_for(pilot, lambda: pilot.app.screen.opened, "the door open")

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.parametrize("language", LANGUAGES)
def test_paying_at_the_locker(snap_compare, language):
    service = FakeService(staff_contact=CONTACT, pays_cash=True)
    service.answers["check_trade_number"] = PaymentDue("due", 1980)
    service.answers["pay_at_locker"] = PaymentSession("pay-1", "1234-5678", 1980, 0, "collecting",
                                                      (10, 50, 100, 500, 1000, 5000))

    async def steps(pilot):
        await type_text(pilot, "1234-5678")
        await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.screen.active == 1, "the secret")
        await type_text(pilot, "424242")
        await pilot.press("enter")
        screen = await wait_for_screen(pilot, PaymentScreen)
        pilot.app.service.publish("payment", payment_id="pay-1", trade_number="1234-5678", state="collecting",
                                  amount_due=1980, credited=1500)
        await wait_for(pilot, lambda: screen.credited == 1500, "the money counted")

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.slow
def test_door_left_open_reminder(snap_compare):
    service = FakeService()

    async def steps(pilot):
        await to_door(pilot)
        service.publish("alarm", locker=3, alarm="left_open")
        await wait_for(pilot, lambda: pilot.app.screen.reminder.text, "the reminder")

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language("en", steps))


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_done(snap_compare, language):
    service = FakeService()

    async def steps(pilot):
        await to_door(pilot)
        service.publish("parcel_collected", locker=3, trade_number="1234-5678")
        await wait_for_screen(pilot, DoneScreen)

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_door_did_not_open(snap_compare, language):
    service = FakeService(staff_contact=CONTACT)

    async def steps(pilot):
        await to_opening(pilot)   # jammed: it never opens
        service.publish("locker_fault", locker=3, reason="jammed", op="pickup")
        await wait_for_screen(pilot, MessageScreen)

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


async def courier_logged_in(pilot) -> None:
    await pilot.click(".idle-courier")
    await wait_for_screen(pilot, CourierEntryScreen)
    await pilot.press(*"24680", "enter")
    await wait_for(pilot, lambda: pilot.app.courier_token, "the courier session")


@pytest.mark.slow
def test_courier_no_locker_free(snap_compare):
    service = FakeService()
    service.answers["deposit"] = NoLockerFree("x")

    async def steps(pilot):
        await courier_logged_in(pilot)
        await pilot.press(*"1234-5678", "enter")
        await wait_for(pilot, lambda: pilot.app.screen.problem.text, "the refusal")

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language("en", steps))


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_courier_done(snap_compare, language):
    service = FakeService()

    async def steps(pilot):
        await courier_logged_in(pilot)
        await pilot.press(*"1234-5678", "enter")
        await wait_for_screen(pilot, DoorOpenScreen)
        service.publish("parcel_arrived", locker=5, trade_number="1234-5678")
        await wait_for_screen(pilot, CourierDoneScreen)

    assert snap_compare(make_app(service), terminal_size=SIZE, run_before=in_language(language, steps))


class _Site:
    """Just the emulator's doors: the panel needs nothing else."""

    def __init__(self) -> None:
        self.doors = DoorBank(6)


@pytest.mark.slow
def test_demo_layout_with_door_panel(snap_compare):
    site = _Site()
    site.doors.put(1)
    site.doors.put(3)
    site.doors.jam(4)
    notes = "Demo parcels:\n  1234-5678  secret 424242\n\nCourier code: 24680"

    async def steps(pilot):
        await to_door(pilot)
        site.doors[3].pulse(100)  # the controller's unlock, as the emulator would see it
        await pilot.pause(0.3)    # one panel refresh

    app = make_app(side_panel=lambda: DoorPanel(site, notes=notes))
    assert snap_compare(app, terminal_size=(150, 36), run_before=in_language("en", steps))
