"""Regenerate the pictures of the recipient screen in this folder (SVG, one per step).

    .venv/bin/python docs/screens/make_screens.py

It runs the real controller on a simulated pickup point (GPIO lock emulator, manual
clock), loads two parcels the way a courier would, and walks the recipient screen through
every step in English and in Japanese, saving a screenshot at each. The last pictures are
the demo's layout: the simulator's door panel beside the kiosk, and in an 80x24 terminal,
folded away and shown instead of the kiosk (F3).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from hwsim.panel import DoorPanel  # noqa: E402
from hwsim.site import COURIER_CODE, start_site  # noqa: E402
from kiosk.clock import ManualClock  # noqa: E402
from kiosk.errors import KioskError  # noqa: E402
from kiosk.ui.app import RecipientApp  # noqa: E402
from kiosk.ui.screens import (CourierDoneScreen, CourierEntryScreen, DoneScreen, DoorOpenScreen,  # noqa: E402
                              MessageScreen, PickupEntryScreen)
from textual.widgets import Input  # noqa: E402

SIZE = (100, 34)
DEMO_SIZE = (150, 36)
SMALL_SIZE = (80, 24)


async def until(pilot, condition, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"stuck on {type(pilot.app.screen).__name__}")
        await pilot.pause(0.02)
    await pilot.pause()


async def shoot(pilot, name: str) -> None:
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()
    pilot.app.save_screenshot(f"{name}.svg", path=str(HERE))
    print("wrote", HERE / f"{name}.svg")


def on(pilot, screen_type):
    return lambda: isinstance(pilot.app.screen, screen_type) and pilot.app.screen.is_mounted


async def recipient_tour(site, parcel, language: str) -> None:
    app = RecipientApp(site.controller, inactivity_s=600, done_s=600)
    async with app.run_test(size=SIZE) as pilot:
        app.language = language
        await shoot(pilot, f"idle-{language}")
        await pilot.press(*parcel.trade_number)
        await until(pilot, on(pilot, PickupEntryScreen))
        await shoot(pilot, f"entry-trade-number-{language}")
        app.screen.warn_idle(10)       # what an untouched screen says before it clears
        await shoot(pilot, f"entry-idle-warning-{language}")
        app.screen.warn_idle(None)
        await pilot.press("enter", *"000000", "enter")
        await until(pilot, lambda: app.screen.problem.text and not app.screen.busy)
        await shoot(pilot, f"entry-wrong-secret-{language}")
        await pilot.press(*parcel.secret, "enter")
        await until(pilot, on(pilot, DoorOpenScreen))
        locker = app.screen.opening.locker
        await until(pilot, lambda: app.screen.opened)   # the door sensor's evidence
        await shoot(pilot, f"door-open-{language}")
        site.clock.advance(site.controller.config.timing.left_open_alarm_s + 1)
        site.controller.tick()
        await until(pilot, lambda: app.screen.reminder.text)
        await shoot(pilot, f"door-left-open-{language}")
        site.doors.take(locker)
        site.doors.close(locker)
        await until(pilot, on(pilot, DoneScreen))
        await shoot(pilot, f"done-{language}")


async def fault_tour(site, parcel, language: str) -> None:
    app = RecipientApp(site.controller, inactivity_s=600, done_s=600)
    locker = site.controller.site.db.parcel(parcel.trade_number).locker
    site.doors.jam(locker)
    async with app.run_test(size=SIZE) as pilot:
        app.language = language
        await pilot.press(*parcel.trade_number)
        await until(pilot, on(pilot, PickupEntryScreen))
        await pilot.press("enter", *parcel.secret, "enter")
        await until(pilot, on(pilot, DoorOpenScreen))
        await until(pilot, lambda: site.controller.site.db.locker(locker).busy)
        await site.controller.settle()
        await shoot(pilot, f"door-opening-{language}")   # pulsed, never opened: not "open"
        site.clock.advance(site.controller.config.timing.open_timeout_s + 1)
        site.controller.tick()
        await until(pilot, on(pilot, MessageScreen))
        await shoot(pilot, f"door-did-not-open-{language}")
    site.doors.jam(locker, False)


STAFF = """
[ui.staff]
en = "the service counter inside the shop, or call 0120-000-000"
ja = "店内のサービスカウンター、またはお電話 0120-000-000"
"""


async def locked_out_tour(site, parcel, language: str) -> None:
    app = RecipientApp(site.controller, inactivity_s=600, done_s=600)
    async with app.run_test(size=SIZE) as pilot:
        app.language = language
        await pilot.press(*parcel.trade_number)
        await until(pilot, on(pilot, PickupEntryScreen))
        await pilot.press("enter")   # checked before the secret is asked for
        await until(pilot, lambda: app.screen.problem.text and not app.screen.busy)
        await shoot(pilot, f"entry-locked-out-{language}")


async def slow_down_tour(site, language: str) -> None:
    app = RecipientApp(site.controller, inactivity_s=600, done_s=600)
    async with app.run_test(size=SIZE) as pilot:
        app.language = language
        await pilot.press(*"9999-0000")
        await until(pilot, on(pilot, PickupEntryScreen))
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.problem.text and not app.screen.busy)
        await shoot(pilot, f"entry-slow-down-{language}")


async def courier_tour(site, parcel, language: str) -> None:
    app = RecipientApp(site.controller, inactivity_s=600, done_s=600)
    async with app.run_test(size=SIZE) as pilot:
        app.language = language
        await pilot.click(".idle-courier")
        await until(pilot, on(pilot, CourierEntryScreen))
        await shoot(pilot, f"courier-code-{language}")
        await pilot.press(*COURIER_CODE, "enter")
        await until(pilot, lambda: app.courier_token and not app.screen.busy)
        await pilot.press(*parcel.trade_number, "enter")
        await until(pilot, on(pilot, DoorOpenScreen))
        locker = app.screen.opening.locker
        await until(pilot, lambda: app.screen.opened)
        await shoot(pilot, f"courier-door-open-{language}")
        site.doors.put(locker)
        site.doors.close(locker)
        await until(pilot, on(pilot, CourierDoneScreen))
        await shoot(pilot, f"courier-done-{language}")


async def demo_layout(site, parcel, notes: str) -> None:
    app = RecipientApp(site.controller, inactivity_s=600, side_panel=lambda: DoorPanel(site, notes=notes))
    async with app.run_test(size=DEMO_SIZE) as pilot:
        await pilot.press(*parcel.trade_number)
        await until(pilot, on(pilot, PickupEntryScreen))
        await pilot.press("enter", *parcel.secret, "enter")
        await until(pilot, on(pilot, DoorOpenScreen))
        await until(pilot, lambda: app.screen.opened)
        await pilot.pause(0.3)  # one panel refresh
        await shoot(pilot, "demo-with-door-panel")
        await pilot.press("c")
        await until(pilot, on(pilot, DoneScreen))


async def demo_small(site, parcel, notes: str) -> None:
    """The demo in an 80x24 terminal: the door panel folds away and F3 shows it instead."""
    app = RecipientApp(site.controller, inactivity_s=600, side_panel=lambda: DoorPanel(site, notes=notes))
    async with app.run_test(size=SMALL_SIZE) as pilot:
        await pilot.press(*parcel.trade_number)
        await until(pilot, on(pilot, PickupEntryScreen))
        await pilot.press("enter", *parcel.secret, "enter")
        await until(pilot, on(pilot, DoorOpenScreen))
        locker = app.screen.opening.locker
        await until(pilot, lambda: site.doors[locker].is_open)
        await shoot(pilot, "demo-80x24")   # with the notice saying F3 shows the doors
        await pilot.press("f3")
        await pilot.pause(0.3)  # one panel refresh
        await shoot(pilot, "demo-80x24-door-panel")
        await pilot.press("c")
        await until(pilot, on(pilot, DoneScreen))


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = await start_site(Path(tmp), clock=ManualClock(), locks="gpio", doors=6, extra=STAFF)
        try:
            rng = random.Random(7)
            parcels = await site.add_parcels(6, rng)
            for parcel in parcels[:4]:
                await site.deposit(parcel)
            for language, parcel in zip(("en", "ja"), parcels[:2], strict=True):
                await recipient_tour(site, parcel, language)
            await fault_tour(site, parcels[2], "en")
            await fault_tour(site, parcels[3], "ja")
            for language, parcel in zip(("en", "ja"), parcels[4:6], strict=True):
                await courier_tour(site, parcel, language)
            [locked] = await site.add_parcels(1, rng)
            await site.deposit(locked)
            for _ in range(site.controller.config.attempts.per_parcel_max):
                with contextlib.suppress(KioskError):
                    await site.controller.submit_code(locked.trade_number, "0")
            for language in ("en", "ja"):
                await locked_out_tour(site, locked, language)
            # A burst of wrong numbers slows the whole site down for a while...
            for _ in range(site.controller.config.attempts.site_threshold):
                with contextlib.suppress(KioskError):
                    await site.controller.check_trade_number("0000-0000")
            for language in ("en", "ja"):
                await slow_down_tour(site, language)
            site.clock.advance(site.controller.config.attempts.site_window_s + 1)   # ...and the while passes
            notes = "\n".join(f"{p.trade_number}  secret {p.secret}" for p in parcels[4:])
            await demo_layout(site, parcels[4], f"Demo parcels:\n{notes}\n\nCourier code: {COURIER_CODE}")
            await demo_small(site, parcels[5], f"Demo parcels:\n{notes}\n\nCourier code: {COURIER_CODE}")
        finally:
            await site.controller.stop()


if __name__ == "__main__":
    asyncio.run(main())
