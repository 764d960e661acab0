"""F5 on the recipient screen, through the real controller, the R30x driver and the store
emulator: the trade number, then "place your finger", a finger lifted too soon, another
finger (attempts left), then the enrolled one — the door opens and the parcel is collected."""

from __future__ import annotations

import pytest

from kiosk.domain.parcels import ParcelState
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens.door import DoorOpenScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.entry import PickupEntryScreen
from kiosk.ui.texts import EN
from tests.biometrics.test_finger_pickup import clock, f5_site, sensor, store  # noqa: F401 — fixtures
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen

pytestmark = pytest.mark.slow


async def test_a_finger_parcel_on_the_screen(tmp_path, clock, store):  # noqa: F811 — the fixtures
    site, trade, finger, locker = await f5_site(tmp_path, clock, store, "local")
    c = site.controller
    try:
        app = RecipientApp(c)
        async with app.run_test(size=SIZE) as pilot:
            await type_text(pilot, trade)
            screen = await wait_for_screen(pilot, PickupEntryScreen)
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.finger and screen.active == 1, "the finger prompt")
            assert screen.prompt.text == EN.finger_prompt and screen._labels[1].text == EN.finger

            async def press_ok() -> str:
                await pilot.press("enter")
                await wait_for(pilot, lambda: not screen.busy and screen.problem.text, "the answer")
                return screen.problem.text

            sensor(site).lift()
            assert await press_ok() == EN.finger_none
            sensor(site).place(finger + 1)
            assert await press_ok() == EN.finger_wrong.format(n=4)
            assert screen.active == 1                       # the finger again, the trade number kept
            sensor(site).place(finger)
            await pilot.press("enter")
            door = await wait_for_screen(pilot, DoorOpenScreen)
            await wait_for(pilot, lambda: door.opened, "the door open")
            site.doors.take(locker)
            site.doors.close(locker)
            await wait_for_screen(pilot, DoneScreen)
        assert c.site.db.parcel(trade).state == ParcelState.COLLECTED
        assert c.site.db.parcel(trade).failed_attempts == 1     # the other finger only; no finger costs nothing
    finally:
        await c.stop()
