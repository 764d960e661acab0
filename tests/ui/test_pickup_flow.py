"""The recipient screen driving the real controller on a simulated pickup point."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.errors import CodeInvalid, LockedOut
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import DoneScreen, DoorOpenScreen, IdleScreen, MessageScreen, PickupEntryScreen
from kiosk.ui.widgets import BigNumber, Keypad
from tests.ui.conftest import SIZE, record_screens, type_text, wait_for, wait_for_screen


def wrong(secret: str) -> str:
    return "000000" if secret != "000000" else "111111"


async def enter_code(pilot, trade_number: str, secret: str) -> None:
    """From the idle screen: type the trade number and the secret, each ended with Enter."""
    await type_text(pilot, trade_number)  # the first key also leaves the idle screen
    await wait_for_screen(pilot, PickupEntryScreen)
    await pilot.press("enter")
    await type_text(pilot, secret)
    await pilot.press("enter")


async def submit_secret(pilot, secret: str) -> None:
    """On the entry screen with the secret field active: type it and wait for the answer."""
    screen = pilot.app.screen
    await type_text(pilot, secret)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not screen.busy and screen.problem.text, "an answer")


@pytest.mark.slow
@pytest.mark.parametrize("locks", ["gpio", "kerong"])
async def test_full_pickup(tmp_path, rng, locks):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks=locks, doors=6)
    try:
        [parcel] = await site.add_parcels(1, rng)
        locker = await site.deposit(parcel)
        app = RecipientApp(site.controller, done_s=0.3)
        async with app.run_test(size=SIZE) as pilot:
            assert isinstance(app.screen, IdleScreen)
            await enter_code(pilot, parcel.trade_number, parcel.secret)

            door = await wait_for_screen(pilot, DoorOpenScreen)
            assert door.opening.locker == locker
            assert door.query_one(BigNumber).number == locker
            await wait_for(pilot, lambda: site.doors[locker].is_open, "the door to open")
            await wait_for(pilot, lambda: door.opened, "the door sensor's evidence")
            assert door.headline.text == f"Door {locker} is open"
            assert door.instruction.text == "Take your parcel and close the door."

            seen = record_screens(app)
            site.doors.take(locker)
            site.doors.close(locker)
            await wait_for(pilot, lambda: len(seen) >= 2, "thank you, then the start")
            done, idle = seen[:2]  # "thank you", then the start again by itself after done_s
            assert isinstance(done, DoneScreen) and done.locker == locker and isinstance(idle, IdleScreen)
            assert site.controller.site.db.parcel(parcel.trade_number).state == ParcelState.COLLECTED
    finally:
        await site.controller.stop()


@pytest.mark.slow
async def test_wrong_secret_says_how_many_tries_are_left(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    await gpio_site.deposit(parcel)
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        await enter_code(pilot, parcel.trade_number, wrong(parcel.secret))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: not screen.busy and screen.problem.text, "an answer")
        assert screen.problem.text == "That secret code is not right. You can try 4 more times."
        # The secret is gone from the widget; the trade number stays; the secret field is active.
        assert screen.inputs[1].value == ""
        assert screen.inputs[0].value == parcel.trade_number
        assert screen.active == 1 and app.focused is screen.inputs[1]


@pytest.mark.slow
async def test_five_wrong_secrets_lock_the_parcel(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    await gpio_site.deposit(parcel)
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        await enter_code(pilot, parcel.trade_number, wrong(parcel.secret))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: not screen.busy and screen.problem.text, "an answer")
        messages = [screen.problem.text]
        for _ in range(4):
            await submit_secret(pilot, wrong(parcel.secret))
            messages.append(screen.problem.text)
        assert messages[1:4] == [f"That secret code is not right. You can try {n} more times." for n in (3, 2)] + [
            "That secret code is not right. You can try 1 more time."]
        assert messages[4] == "Too many wrong tries: this parcel is now locked. Please see staff."
        # Back to an empty form: nothing left for the next person to see.
        assert [box.value for box in screen.inputs] == ["", ""] and screen.active == 0
        assert gpio_site.controller.site.db.parcel(parcel.trade_number).locked_out


@pytest.mark.slow
async def test_unknown_trade_number_keeps_it_for_correction(gpio_site):
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "9999-0000")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")   # checked at once: the secret is never asked for
        await wait_for(pilot, lambda: not screen.busy and screen.problem.text, "an answer")
        assert "9999-0000" in screen.problem.text and "check the number" in screen.problem.text
        assert screen.active == 0 and screen.inputs[0].value == "9999-0000" and screen.inputs[1].value == ""


async def test_a_locked_out_parcel_says_so_before_the_secret_is_typed(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    await gpio_site.deposit(parcel)
    for _ in range(gpio_site.controller.config.attempts.per_parcel_max):
        with pytest.raises((CodeInvalid, LockedOut)):
            await gpio_site.controller.submit_code(parcel.trade_number, wrong(parcel.secret))
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, parcel.trade_number)
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.busy and screen.problem.text, "an answer")
        assert screen.problem.text.startswith("Too many wrong tries: this parcel is now locked.")
        assert screen.active == 0 and screen.prompt.text == "Enter your trade number"


@pytest.mark.slow
async def test_keypad_enters_the_code(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    locker = await gpio_site.deposit(parcel)
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click(offset=(5, 30))  # a touch anywhere starts
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        keys = {button.key: button for button in screen.keypad.query(".keypad-key")}

        async def touch(*names):
            for name in names:
                await pilot.click(keys[name])

        await touch("9", "9", Keypad.BACKSPACE, Keypad.CLEAR)
        assert screen.inputs[0].value == ""
        await touch(*parcel.trade_number, Keypad.OK)
        assert screen.inputs[0].value == parcel.trade_number and screen.active == 1
        assert app.focused is screen.inputs[1]  # the keypad never takes the focus
        await touch(*parcel.secret)
        assert screen.inputs[1].value == parcel.secret and screen.inputs[1].password
        await touch(Keypad.OK)
        door = await wait_for_screen(pilot, DoorOpenScreen)
        assert door.opening.locker == locker


STAFF = '[ui.staff]\nen = "the service counter inside the shop, or call 0120-000-000"\nja = "店内のサービスカウンター、またはお電話 0120-000-000"\n'


@pytest.mark.slow
async def test_a_jammed_door_says_opening_never_open_then_how_to_reach_staff(tmp_path, rng):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=6, extra=STAFF)
    try:
        [parcel] = await site.add_parcels(1, rng)
        locker = await site.deposit(parcel)
        site.doors.jam(locker)
        app = RecipientApp(site.controller)
        async with app.run_test(size=SIZE) as pilot:
            await enter_code(pilot, parcel.trade_number, parcel.secret)
            door = await wait_for_screen(pilot, DoorOpenScreen)
            await wait_for(pilot, lambda: site.controller.site.db.locker(locker).busy, "the unlock")
            await site.controller.settle()
            await pilot.pause(0.1)
            # The lock was pulsed but the door never opened: the screen must not say it did.
            assert door.headline.text == f"Opening door {locker}…" and not door.opened
            assert door.instruction.text == f"Please wait by door {locker}: it opens in a moment."
            site.clock.advance(site.controller.config.timing.open_timeout_s + 1)
            site.controller.tick()
            screen = await wait_for_screen(pilot, MessageScreen)
            assert [w.text for w in screen.query("Words") if w.text][-2:] == [
                "The door did not open.", "Your parcel is safe inside. Please see staff: the service counter "
                "inside the shop, or call 0120-000-000"]
            app.language = "ja"
            assert screen.query(".end-text").first().text == (
                "荷物は扉の中に安全に保管されています。係員にお声がけください：店内のサービスカウンター、またはお電話 0120-000-000")
    finally:
        await site.controller.stop()


@pytest.mark.slow
async def test_door_left_open_shows_a_reminder(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    locker = await gpio_site.deposit(parcel)
    app = RecipientApp(gpio_site.controller)
    async with app.run_test(size=SIZE) as pilot:
        await enter_code(pilot, parcel.trade_number, parcel.secret)
        door = await wait_for_screen(pilot, DoorOpenScreen)
        await wait_for(pilot, lambda: gpio_site.controller.site.db.locker(locker).door == "open", "door evidence")
        gpio_site.clock.advance(gpio_site.controller.config.timing.left_open_alarm_s + 1)
        gpio_site.controller.tick()
        await wait_for(pilot, lambda: door.reminder.text, "the reminder")
        assert door.reminder.text == f"Please close door {locker}: push it until it clicks."
        gpio_site.doors.close(locker)
        await wait_for_screen(pilot, DoneScreen)


@pytest.mark.slow
async def test_inactivity_returns_to_idle_with_everything_cleared(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    await gpio_site.deposit(parcel)
    app = RecipientApp(gpio_site.controller, inactivity_s=60)
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, parcel.trade_number)
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await pilot.press("enter")
        await type_text(pilot, "12")
        secret_box = screen.inputs[1]
        await pilot.click(".language-toggle")
        assert app.language == "ja"
        app.inactivity_s = 0.3  # from the next key on; short, so the test does not wait long
        await pilot.press("3")
        await wait_for_screen(pilot, IdleScreen)
        assert secret_box.value == ""          # the half-typed secret went with the screen
        assert app.language == "en"            # the next person starts in the default language
        assert not app.screen.query(Input)


@pytest.mark.slow
async def test_no_inactivity_timeout_while_a_door_is_open(gpio_site, rng):
    [parcel] = await gpio_site.add_parcels(1, rng)
    locker = await gpio_site.deposit(parcel)
    app = RecipientApp(gpio_site.controller, inactivity_s=60)
    async with app.run_test(size=SIZE) as pilot:
        await enter_code(pilot, parcel.trade_number, parcel.secret)
        await wait_for_screen(pilot, DoorOpenScreen)
        app.inactivity_s = 0.2
        await pilot.press("x")  # a key restarts the inactivity timer, as on any screen
        await pilot.pause(0.8)  # four inactivity periods
        assert isinstance(app.screen, DoorOpenScreen)
        gpio_site.doors.close(locker)
        await wait_for_screen(pilot, DoneScreen)
