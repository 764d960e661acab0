"""The technician panel (issue 12 §4, first part): signed in as a technician over kioskd's
socket, it shows every configured device, the tasks, the store link and the lockers, follows
the controller's events, and pulls the manifest on request; both languages rendered."""

from __future__ import annotations

import pytest

from kiosk.ui.technician import TechnicianApp
from kiosk.ui.technician.texts import EN, JA
from tests.ui.conftest import technician_site, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
async def panel_site(tmp_path):
    async with technician_site(tmp_path, locks="gpio", doors=3, token="sim+rdm6300://") as linked:
        yield linked


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
