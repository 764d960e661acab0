"""A courier's own terminal (``kiosk screen courier``): a screen process on kioskd's socket
that starts at the courier code, loads parcels, and comes back to the code after the round
(the session ended) — driven through Pilot against the real controller over the socket."""

from __future__ import annotations

import pytest

from hwsim.site import COURIER_CODE, start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from kiosk.service.socket_client import ServiceClient
from kiosk.ui.app import RecipientApp
from kiosk.ui.screens import CourierDoneScreen, CourierEntryScreen
from tests.ui.conftest import SIZE, type_text, wait_for, wait_for_screen
from tests.ui.test_courier_flow import answer, load

pytestmark = pytest.mark.slow


async def test_the_courier_terminal_over_the_socket(tmp_path, rng):
    sock = tmp_path / "run" / "service.sock"
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2,
                            extra=f'\n[service]\nsocket = "{sock}"\n')
    c = site.controller
    [parcel] = await site.add_parcels(1, rng)
    client = await ServiceClient.connect(sock)
    try:
        app = RecipientApp(client.as_service(), couriers_only=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = await wait_for_screen(pilot, CourierEntryScreen)       # no welcome screen: the code
            assert screen.active == 0
            await type_text(pilot, COURIER_CODE)
            await pilot.press("enter")
            assert await answer(pilot, screen) == ""
            locker = await load(pilot, site, parcel.trade_number)
            assert isinstance(app.screen, CourierDoneScreen)
            await pilot.click(".end-button:last-of-type")                  # finish the round
            home = await wait_for_screen(pilot, CourierEntryScreen)
            await wait_for(pilot, lambda: app.courier_token is None and home.active == 0, "signed out, the code")
            await wait_for(pilot, lambda: len(c.site.couriers) == 0, "the session ended at kioskd")
        assert c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED
        assert c.site.db.locker(locker).parcel == parcel.trade_number
    finally:
        await client.close()
        await c.stop()
