"""A recipient holds the code from their notice (``P/<trade number>/<secret>``) to the
kiosk's camera instead of typing: the real controller, the real camera driver on the
emulated camera (``sim+camera://``), the recipient screen."""

from __future__ import annotations

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import DoneScreen, DoorOpenScreen, IdleScreen, PickupEntryScreen
from kiosk.ui.widgets import BigNumber
from tests.ui.conftest import SIZE, record_screens, wait_for, wait_for_screen

CAMERA = "sim+camera://?fps=30&dedupe_ms=60000"


@pytest.fixture
async def camera_site(tmp_path):
    """A started controller with 6 GPIO lockers and an emulated camera as its scanner."""
    s = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=6, scanner=CAMERA)
    try:
        assert s.controller.scanner is not None, s.controller.scanner_error
        yield s
    finally:
        await s.controller.stop()


def camera(site):
    return site.controller.scanner.sim


async def test_phone_code_opens_the_door(camera_site, rng):
    site = camera_site
    [parcel] = await site.add_parcels(1, rng)
    locker = await site.deposit(parcel)
    app = RecipientApp(site.controller, done_s=0.3)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, IdleScreen)
        camera(site).show(f"P/{parcel.trade_number}/{parcel.secret}", "qr")

        door = await wait_for_screen(pilot, DoorOpenScreen)
        camera(site).idle()
        assert door.opening.locker == locker and door.opening.trade_number == parcel.trade_number
        assert door.query_one(BigNumber).number == locker
        await wait_for(pilot, lambda: site.doors[locker].is_open, "the door to open")

        seen = record_screens(app)
        site.doors.take(locker)
        site.doors.close(locker)
        await wait_for(pilot, lambda: len(seen) >= 2, "thank you, then the start")
        done, idle = seen[:2]
        assert isinstance(done, DoneScreen) and done.locker == locker and isinstance(idle, IdleScreen)
        assert site.controller.site.db.parcel(parcel.trade_number).state == ParcelState.COLLECTED
        assert site.controller.scans.counts["phone_code"] == 1


async def test_phone_code_with_a_wrong_secret_says_so(camera_site, rng):
    site = camera_site
    [parcel] = await site.add_parcels(1, rng)
    await site.deposit(parcel)
    wrong = "000000" if parcel.secret != "000000" else "111111"
    app = RecipientApp(site.controller)
    async with app.run_test(size=SIZE) as pilot:
        camera(site).show(f"P/{parcel.trade_number}/{wrong}", "qr")
        screen = await wait_for_screen(pilot, PickupEntryScreen)
        await wait_for(pilot, lambda: screen.problem.text, "the reason")
        camera(site).idle()
        # The same words as for a typed secret; the attempt is counted against the parcel.
        assert screen.problem.text == "That secret code is not right. You can try 4 more times."
        assert site.controller.site.db.parcel(parcel.trade_number).failed_attempts == 1
        assert [box.value for box in screen.inputs] == ["", ""]
        assert not site.doors[site.controller.site.db.parcel(parcel.trade_number).locker].is_open

        # A second code shown on the pickup screen: said in place, counted again.
        camera(site).show(f"P/{parcel.trade_number.lower()}/{wrong}1", "qr")
        await wait_for(pilot, lambda: site.controller.site.db.parcel(parcel.trade_number).failed_attempts == 2,
                       "the second attempt")
        await wait_for(pilot, lambda: "3 more times" in screen.problem.text, "the new count")
        assert app.screen is screen


@pytest.mark.parametrize("code", ["P/", "P/1234-5678", "P/1234-5678/", "P//123456", "P/1234-5678/12 34",
                                  "P/1234-5678/123456/9", "P/12/123456", "P/1234_5678/123456"])
async def test_malformed_phone_code_is_ignored(camera_site, rng, code):
    site = camera_site
    [parcel] = await site.add_parcels(1, rng)
    await site.deposit(parcel)
    app = RecipientApp(site.controller)
    async with app.run_test(size=SIZE) as pilot:
        with site.controller.subscribe() as events:
            camera(site).show(code, "qr")
            await wait_for(pilot, lambda: site.controller.scans.counts["phone_code_malformed"] == 1, "the read")
            await pilot.pause(0.1)
            assert isinstance(app.screen, IdleScreen)
            kinds = {e.kind for e in events.drain()}
        assert not kinds & {"scan_rejected", "counter_rejected", "counter_read", "verification_failed",
                            "pickup_started"}
        assert site.controller.site.db.parcel(parcel.trade_number).failed_attempts == 0
        assert site.controller.scans.counts["counter"] == 0
