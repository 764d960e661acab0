"""Issue 8 §7: the counter desk takes labels and tags only from its own scanners. The
site's scanner faces recipients at the lockers (phone codes); a label or tag it reads must
not become part of a hand-over at the desk."""

from __future__ import annotations

from kiosk.clock import ManualClock
from kiosk.config import load
from kiosk.errors import ConfigError
from hwsim.site import start_site, write_config

from tests.support import wait_until_async

SERIAL = "sim+serial-scanner://?aim=1"
LABEL = "1234-5678"


async def _read_label(tmp_path, **kw):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="kerong", doors=2, scanner=SERIAL, **kw)
    c = sim.controller
    assert c.scanner is not None, c.scanner_error
    c.scanner.sim.scan(LABEL, "code128")
    await wait_until_async(lambda: c.scans.counts["counter"] + c.scans.counts["not_a_desk_scanner"] == 1, "the scan to reach the router")
    await c.settle()
    return sim


async def test_a_label_read_by_the_lockers_scanner_never_reaches_the_desk(tmp_path):
    sim = await _read_label(tmp_path)
    try:
        state = await sim.controller.counter_desk()
        assert state.label is None
        assert sim.controller.scans.counts["not_a_desk_scanner"] == 1
    finally:
        await sim.controller.stop()


async def test_the_desks_own_scanner_feeds_the_desk(tmp_path):
    sim = await _read_label(tmp_path, desk_scanners=(SERIAL,))
    try:
        state = await sim.controller.counter_desk()
        assert state.label == LABEL
        assert sim.controller.scans.counts["counter"] == 1
    finally:
        await sim.controller.stop()


def test_a_bad_desk_scanner_url_is_named(tmp_path):
    path = write_config(tmp_path / "site", desk_scanners=("nonsense://x", SERIAL, SERIAL))
    try:
        load(path)
    except ConfigError as err:
        keys = [key for key, _ in err.problems]
        assert "counter.scanners[0]" in keys and "counter.scanners" in keys
    else:
        raise AssertionError("a bad [counter] scanners entry was accepted")
