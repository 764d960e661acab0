"""The operator's fleet view (hwsim.fleet.view), driven by Pilot over what an operator's
subscriber holds: every site's state and what needs a person, the alarms across the
fleet, and a site's doors and events on Enter. Plus its picture."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.fleet.operator import Operator
from hwsim.fleet.view import FleetScreen, FleetView, SiteScreen


def fed_operator() -> Operator:
    """An operator (not connected) holding what the broker would have delivered."""
    op = Operator("mqtt://127.0.0.1:1", "x", Ed25519PrivateKey.generate())
    now = time.time()
    healthy = {"ok": True, "in_service": True, "devices_down": [], "tasks_down": [], "lockers_faulty": [],
               "store_link": {"pending": 0, "failing": []}}
    for i, site in enumerate(("site-a", "site-b", "site-c")):
        view = op.sites[site]
        view.status.append((0.0, "online" if site != "site-c" else "offline"))
        health = dict(healthy)
        if site == "site-b":
            health.update(ok=False, lockers_faulty=[3], store_link={"pending": 12, "failing": ["events"]})
        view.state["health"] = {"data": health}
        view.state["doors"] = {"data": {"doors": [{"locker": 3, "state": "fault" if site == "site-b" else "free",
                                                   "door": "closed", "fault": "jammed" if site == "site-b" else None}]}}
        view.state["counters"] = {"data": {"parcels": {"arrived": i}, "fleet_outbox_pending": 0}}
        view.events[f"e{i}"] = {"id": f"e{i}", "kind": "door_closed", "at": now - 60, "data": {"locker": 1}}
    op.sites["site-b"].events["alarm"] = {"id": "alarm", "kind": "locker_fault", "at": now,
                                          "data": {"locker": 3, "reason": "jammed"}}
    return op


async def test_the_fleet_at_a_glance_and_one_site(tmp_path):
    app = FleetView(fed_operator(), ["site-a", "site-b", "site-c"])
    async with app.run_test(size=(130, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.pause()
        rows = [screen.table.get_row_at(i) for i in range(screen.table.row_count)]
        assert [r[1] for r in rows] == ["online", "online", "OFFLINE"]
        assert rows[1][2] == "lockers in fault: 3" and rows[1][3] == "12 failing"
        assert rows[2][2].startswith("not reachable")
        assert "3 sites · 2 online · 1 OFFLINE · 2 need a person" in str(screen.summary.render())
        assert screen.alarm_table.row_count == 1 and screen.alarm_table.get_row_at(0)[1] == "site-b"
        (tmp_path / "fleet-view.svg").write_text(app.export_screenshot())
        screen.table.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        site = app.screen
        assert isinstance(site, SiteScreen) and site.site == "site-b"
        assert site.doors.get_row_at(0) == ["3", "fault", "closed", "jammed"]
        assert site.events.get_row_at(0)[1] == "locker_fault"
        (tmp_path / "fleet-site.svg").write_text(app.export_screenshot())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
