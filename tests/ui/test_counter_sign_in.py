"""The counter terminal on kioskd's socket signs the clerk in on the screen (not on a
terminal prompt): a wrong code is refused and said, the right one opens the desk under the
clerk's id; after kioskd signs the clerk out for inactivity, the next command brings the
sign-in back, saying why."""

from __future__ import annotations

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.service.socket_client import ServiceClient
from kiosk.ui.counter.app import CounterApp
from kiosk.ui.counter.screen import CounterScreen
from kiosk.ui.sign_in import SignInScreen
from kiosk.ui.counter.texts import EN
from tests.service.test_service_socket import CLERK_CODE, staff_config
from tests.ui.conftest import SIZE, type_text, wait_for

pytestmark = pytest.mark.slow


async def test_sign_in_on_the_screen_and_again_after_a_sign_out(tmp_path, rng):
    sock = tmp_path / "run" / "service.sock"
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2, extra=staff_config(sock))
    c = site.controller
    [parcel] = await site.add_parcels(1, rng, method="secret")
    await c.counter_receive("clerk-setup", parcel.trade_number)
    client = await ServiceClient.connect(sock)

    async def sign_in(code: str) -> str:
        await client.sign_in(code)
        return client.staff_id or ""

    try:
        app = CounterApp(client.as_service(), sign_in=sign_in)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), "the sign-in")
            await type_text(pilot, "00000")
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen.problem.text == EN.sign_in_refused, "the refusal")
            assert app.screen.code.value == ""                        # the code never stays on screen
            await type_text(pilot, CLERK_CODE)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CounterScreen), "the desk")
            assert app.clerk_id == "clerk-ana"
            site.clock.advance(61)                                     # idle past staff_idle_s
            app.screen.label_box.focus()
            await type_text(pilot, parcel.trade_number)
            await pilot.press("enter")                                 # refused: signed out
            await wait_for(pilot, lambda: isinstance(app.screen, SignInScreen), "the sign-in again")
            assert app.screen.problem.text == EN.signed_out
    finally:
        await client.close()
        await c.stop()
