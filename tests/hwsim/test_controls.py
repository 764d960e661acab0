"""The simulator's controls in one place (hwsim.controls): one command line reaches every
emulated device of a running site, and what follows is the real drivers' and the
controller's doing — a forced door becomes a locker fault, a scanned code reaches the
controller's scan router, a token's frames reach its driver, a note reaches the payment
slot's driver. Bad commands are said plainly, and so is a device that is not simulated.
Plus the technician demo's layout (the panel beside the technician screen), rendered."""

from __future__ import annotations

import pytest

from hwsim.controls import SiteControls
from hwsim.controls_panel import ControlsPanel
from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.ui.technician import TechnicianApp
from tests.support import wait_until_async
from tests.ui.conftest import type_text, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
async def site(tmp_path):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="kerong", doors=4,
                           scanner="sim+serial-scanner://?aim=1", token="sim+rdm6300://",
                           cash="sim+cctalk://?poll_ms=10")
    try:
        yield sim
    finally:
        await sim.controller.stop()


async def test_every_device_from_one_command_line(site):
    c = site.controller
    controls = SiteControls(c)
    assert "locks" in controls.run("help") and "cash" in controls.run("help")

    assert controls.run("locks force 2") == "ok: force 2"
    await wait_until_async(lambda: c.site.db.locker(2).fault is not None, "locker 2 in fault")

    assert controls.run("locks silent on").startswith("ok")
    await wait_until_async(lambda: c.site.locks.stats["timeouts"] > 0, "the silent bus seen by the driver")
    assert controls.run("locks silent off").startswith("ok")

    assert controls.run("scan 1234-5678 code128").startswith("ok")
    await wait_until_async(lambda: sum(c.scans.counts.values()) >= 1, "the scan routed")

    assert controls.run("token 0A001B2C3D").startswith("ok")
    await wait_until_async(lambda: c.token_reader.stats["frames"] >= 1, "the token's frames")

    assert controls.run("cash note 1000").startswith("note 1000")
    await wait_until_async(lambda: any(f.direction == "rx" for f in c.site.cash.wire.snapshot().frames),
                           "the payment slot's driver polling")

    assert controls.run("card insert").startswith("error: the card reader is not simulated")
    assert controls.run("finger 1").startswith("error: the fingerprint sensor is not simulated")
    assert controls.run("locks close 99").startswith("error:")
    assert controls.run("locks") == "error: which command? (try 'help')"
    assert controls.run("teleport 3").startswith("error: no device 'teleport'")
    assert controls.run("") == ""


async def test_the_panel_beside_the_technician_screen(site, tmp_path):
    c = site.controller
    controls = SiteControls(c)
    app = TechnicianApp(c, "tech-demo", side_panel=lambda: ControlsPanel(controls))
    async with app.run_test(size=(150, 40)) as pilot:
        panel = app.screen.query_one(ControlsPanel)
        panel.line.focus()
        await type_text(pilot, "locks jam 3")
        await pilot.press("enter")
        await wait_for(pilot, lambda: site.doors.doors[3].faults == {"jammed"}, "door 3 jammed")
        await pilot.press("up")
        assert panel.line.value == "locks jam 3"
        await pilot.pause()
        (tmp_path / "technician-demo.svg").write_text(app.export_screenshot())
