"""A screen in its own process loses kioskd's socket: it says "reconnecting" over whatever
it shows, in its language, and clears it when the controller is back (issue 12 §1)."""

from __future__ import annotations

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.service.socket_client import ServiceClient
from kiosk.ui.app import RecipientApp
from kiosk.ui.counter import CounterApp
from kiosk.ui.counter.texts import EN as COUNTER_EN
from kiosk.ui.texts import EN, JA
from tests.ui.conftest import SIZE, wait_for
from tests.ui.fakes import FakeCounterService


def shown(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_the_recipient_screen_says_reconnecting_and_recovers(tmp_path):
    sock = tmp_path / "run" / "service.sock"
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2,
                            extra=f'\n[service]\nsocket = "{sock}"\n')
    c = site.controller
    client = await ServiceClient.connect(sock)
    try:
        app = RecipientApp(client.as_service())
        async with app.run_test(size=SIZE) as pilot:
            app.language = "ja"
            await c.socket.close()                          # kioskd's socket goes away
            await wait_for(pilot, lambda: app.service_down == "reconnecting", "the reconnecting notice")
            assert shown(app) == [JA.reconnecting]
            await c.socket.start()                          # and comes back
            await wait_for(pilot, lambda: app.service_down is None and not shown(app), "the notice cleared")
            assert client.reconnects == 1
    finally:
        await client.close()
        await c.stop()


async def test_the_counter_says_when_the_controller_is_out_of_service():
    service = FakeCounterService()
    app = CounterApp(service, "clerk-1")
    async with app.run_test(size=SIZE) as pilot:
        service.bus.publish("service_state", 0.0, in_service=False, reason="storage: disk full")
        await wait_for(pilot, lambda: app.service_down is not None, "the notice")
        assert shown(app) == [COUNTER_EN.out_of_service]
        service.bus.publish("service_state", 0.0, in_service=True, reason="connected")
        await wait_for(pilot, lambda: not shown(app), "the notice cleared")


def test_the_words_exist_in_both_languages():
    assert EN.reconnecting and JA.reconnecting and EN.out_of_service and JA.out_of_service
