"""The technician panel (issue 12 §4, first part): signed in as a technician over kioskd's
socket, it shows every configured device, the tasks, the store link and the lockers, follows
the controller's events, and pulls the manifest on request; both languages rendered."""

from __future__ import annotations

import pytest

from hwsim.site import FAST_HASH, start_site
from kiosk.clock import ManualClock
from kiosk.security.secrets import hash_secret
from kiosk.service.socket_client import ServiceClient
from kiosk.ui.technician import TechnicianApp
from kiosk.ui.technician.texts import EN, JA
from tests.ui.conftest import wait_for

pytestmark = pytest.mark.slow
TECH_CODE = "86420"


@pytest.fixture
async def panel_site(tmp_path):
    sock = tmp_path / "run" / "service.sock"
    extra = f"""
[service]
socket = "{sock}"

[[staff]]
id = "tech-kim"
role = "technician"
code_hash = "{hash_secret(TECH_CODE, FAST_HASH)}"
"""
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=3, extra=extra,
                            token="sim+rdm6300://")
    client = await ServiceClient.connect(sock)
    try:
        assert await client.sign_in(TECH_CODE) == "technician"
        yield site, client
    finally:
        await client.close()
        await site.controller.stop()


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_the_panel_over_the_socket(panel_site, language, tmp_path):
    site, client = panel_site
    app = TechnicianApp(client.as_service(), client.staff_id or "")
    async with app.run_test(size=(120, 40)) as pilot:
        app.language = language
        t = EN if language == "en" else JA
        screen = app.screen
        await wait_for(pilot, lambda: screen.status is not None and screen.devices.row_count == 2, "the devices")
        roles = [screen.devices.get_row_at(i)[0] for i in range(screen.devices.row_count)]
        assert roles == ["locks", "token"] and screen.devices.get_row_at(1)[1] == t.up
        assert screen.lockers.row_count == 3
        assert {screen.tasks.get_row_at(i)[0] for i in range(screen.tasks.row_count)} >= {"door-evidence", "timers"}
        assert t.store_off in str(screen.summary.text)
        site.doors.force_open(2)                                 # an event: the panel follows it
        await wait_for(pilot, lambda: screen.lockers.get_row_at(1)[1] == "fault", "locker 2 in fault")
        screen.query_one(".tech-pull").press()                  # no store here: said plainly
        await wait_for(pilot, lambda: t.failed.split("{")[0] in str(screen.outcome.text), "the refusal")
        await pilot.pause()
        (tmp_path / f"technician-{language}.svg").write_text(app.export_screenshot())
