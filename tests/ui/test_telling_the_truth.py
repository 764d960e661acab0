"""The recipient screen tells the truth and never blocks the next person (issue 9 §2):
a slow-down counts down, an untouched screen warns before it clears, a door left open
gives the kiosk back, and every "see staff" says where staff are."""

from __future__ import annotations

import dataclasses

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import DoorFault, KioskError, LockedOut, NotCollectable, SeeStaff, SlowDown
from kiosk.ui.app import RecipientApp
from kiosk.ui.explain import pickup_problem
from kiosk.ui.screens import DoorOpenScreen, IdleScreen, PickupEntryScreen
from kiosk.ui.texts import EN, JA, LANGUAGES, for_site
from kiosk.ui.widgets import IdleWarning
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen
from tests.ui.fakes import FakeService

CONTACT = {"en": "the counter inside the shop, or call 0120-000-000",
           "ja": "店内のカウンター、またはお電話 0120-000-000",
           "ko": "매장 안 카운터 또는 전화 0120-000-000"}


async def to_secret(pilot) -> PickupEntryScreen:
    await type_text(pilot, "1234-5678")
    screen = await wait_for_screen(pilot, PickupEntryScreen)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not screen.busy, "the number checked")
    return screen


# --- the site's slow-down counts down --------------------------------------------------------

async def test_the_slow_down_counts_the_seconds_left_then_says_try_again():
    service = FakeService()
    service.answers["submit_code"] = SlowDown(3.5)
    app = RecipientApp(service, inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_secret(pilot)
        said: list[str] = []          # every phrase put on the problem line, in order
        say = screen.problem.say
        screen.problem.say = lambda phrase: (said.append(phrase(EN) if phrase else ""), say(phrase))[1]
        await pilot.press(*"42", "enter")
        await wait_for(pilot, lambda: said and said[-1] == "You can try again now.", "the end of the wait")
        shown = [line for i, line in enumerate(said) if i == 0 or line != said[i - 1]]   # as the eye sees it
        waits = [line for line in shown if line.startswith("Too many wrong tries")]
        assert waits[0] == "Too many wrong tries at this machine. Please wait 4 seconds, then try again."
        assert waits[-1] == "Too many wrong tries at this machine. Please wait 1 second, then try again."
        # Every second shown at most once, counting down (a stalled machine may skip one).
        seconds = [int(line.split("wait ")[1].split(" ")[0]) for line in waits]
        assert seconds == sorted(set(seconds), reverse=True) and len(seconds) >= 3
        assert screen.active == 1


async def test_typing_during_the_slow_down_keeps_the_countdown():
    service = FakeService()
    service.answers["check_trade_number"] = SlowDown(30)
    app = RecipientApp(service, inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "1234-5678")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.problem.text, "the refusal")
        await pilot.press("9")
        assert "Please wait" in screen.problem.text and "seconds" in screen.problem.text
        assert screen.active == 0 and screen.inputs[0].value == "1234-56789"


# --- an untouched screen warns before it clears -----------------------------------------------

async def test_the_inactivity_timeout_warns_and_any_key_keeps_the_session():
    app = RecipientApp(FakeService(), inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_secret(pilot)
        warning = screen.query_one(IdleWarning)
        assert not warning.showing
        app.inactivity_s = 4.0            # warns for the last 2 s
        await pilot.press("4")
        await wait_for(pilot, lambda: warning.showing, "the warning")
        assert warning.text.startswith("Are you still there? This screen goes back to the start in ")
        assert warning.text.endswith("Press any key or touch the screen to carry on.")
        await pilot.press("2")            # still here
        assert not warning.showing and app.screen is screen
        assert screen.inputs[1].value == "42"   # the key that kept the session is typed too
        await wait_for(pilot, lambda: warning.showing, "the warning again")
        await wait_for_screen(pilot, IdleScreen)


# --- a door left open gives the kiosk back --------------------------------------------------------

async def test_after_the_left_open_alarm_the_kiosk_goes_back_to_the_start(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    locker = await gpio_site.deposit(parcel)
    app = RecipientApp(gpio_site.controller, inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, parcel.trade_number)
        await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter", *parcel.secret, "enter")
        door = await wait_for_screen(pilot, DoorOpenScreen)
        await wait_for(pilot, lambda: door.opened, "the door open")
        gpio_site.doors.take(locker)
        app.inactivity_s = 1.0
        await pilot.pause(1.5)            # an open door is never timed out
        assert app.screen is door
        gpio_site.clock.advance(gpio_site.controller.config.timing.left_open_alarm_s + 1)
        gpio_site.controller.tick()
        await wait_for(pilot, lambda: door.reminder.text, "the reminder")
        assert door.reminder.text == f"Please close door {locker}: push it until it clicks."
        await wait_for_screen(pilot, IdleScreen)   # the next person can start
        gpio_site.doors.close(locker)               # the books follow the door, screen or not
        db = gpio_site.controller.site.db
        await wait_for(pilot, lambda: db.parcel(parcel.trade_number).state == ParcelState.COLLECTED, "collected")


# --- every "see staff" says where they are ----------------------------------------------------------

STAFF_ERRORS: list[KioskError] = [LockedOut("x"), SeeStaff("x"), DoorFault("x"), KioskError("x"),
                                  NotCollectable("x", "expired"), NotCollectable("x", "at_counter"),
                                  NotCollectable("something new")]


@pytest.mark.parametrize("err", STAFF_ERRORS, ids=lambda e: f"{type(e).__name__}-{getattr(e, 'reason', '')}")
def test_every_refusal_that_sends_to_staff_names_where_they_are(err):
    tables = for_site(CONTACT)
    for language in LANGUAGES:
        assert pickup_problem(err, "1234-5678")(tables[language]).endswith(CONTACT[language])
    # Without a configured contact, the plain words.
    assert pickup_problem(err, "1234-5678")(EN).endswith("Please see staff.")
    assert pickup_problem(err, "1234-5678")(JA).endswith("係員にお声がけください。")


def test_no_phrase_sends_to_staff_by_itself():
    """Every mention of staff goes through ``staff`` (with_staff), so none can miss the contact."""
    for table in (EN, JA):
        for field in dataclasses.fields(table):
            if field.name not in ("staff", "staff_at"):
                text = getattr(table, field.name)
                assert "see staff" not in text.lower() and "係員" not in text, field.name
    for code, table in LANGUAGES.items():
        for field in dataclasses.fields(table):
            if field.name not in ("staff", "staff_at"):
                assert table.staff.rstrip(".。") not in getattr(table, field.name), (code, field.name)


async def test_a_lockout_on_the_screen_names_the_staff_contact():
    service = FakeService(staff_contact=CONTACT)
    service.answers["check_trade_number"] = LockedOut("x")
    app = RecipientApp(service, inactivity_s=600)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "1234-5678")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.problem.text, "the refusal")
        assert screen.problem.text == ("Too many wrong tries: this parcel is now locked. "
                                       f"Please see staff: {CONTACT['en']}")
        app.language = "ja"
        assert screen.problem.text == ("入力の誤りが多すぎるため、この荷物はロックされました。"
                                       f"係員にお声がけください：{CONTACT['ja']}")


async def test_a_site_without_a_staff_contact_still_says_see_staff(tmp_path, rng):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2)
    try:
        assert RecipientApp(site.controller).texts_for("en").staff == "Please see staff."
    finally:
        await site.controller.stop()
