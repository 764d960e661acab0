"""The operator's fleet view (``hwsim fleet --view``): every site on the broker at a glance
— online or not, healthy or what needs a person, its store backlog, its last event — the
alarms across the fleet, newest first, and, with Enter on a site, that site's health, doors,
counters and recent events. Read from what the operator's subscriber has received
(hwsim.fleet.operator): the retained state topics and the event stream; refreshed each second.
"""

from __future__ import annotations

import json
import time

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from hwsim.fleet.operator import Operator, SiteView

ALARM_KINDS = frozenset({"alarm", "locker_fault", "cancellation_needs_staff", "service_state"})
REFRESH_S = 1.0


def health_line(view: SiteView) -> tuple[str, str, str]:
    """(state, what needs a person, store backlog) of one site."""
    online = view.online
    state = "online" if online else "OFFLINE" if online is False else "?"
    health = view.state.get("health", {}).get("data", {})
    if not health:
        return state, "—", "—"
    problems = [f"devices down: {', '.join(health['devices_down'])}" if health.get("devices_down") else "",
                f"lockers in fault: {', '.join(map(str, health['lockers_faulty']))}" if health.get("lockers_faulty") else "",
                "database not writable" if not health.get("in_service", True) else "",
                f"tasks down: {', '.join(health['tasks_down'])}" if health.get("tasks_down") else ""]
    link = health.get("store_link") or {}
    backlog = str(link.get("pending", 0)) + (" failing" if link.get("failing") else "")
    if online is False:
        problems.insert(0, "not reachable (its last health below)")
    return state, "; ".join(p for p in problems if p) or "ok", backlog


def alarms(operator: Operator, sites: list[str], limit: int = 50) -> list[tuple[float, str, dict]]:
    out = []
    for site in sites:
        for event in list(operator.view(site).events.values()):
            if event.get("kind") in ALARM_KINDS:
                out.append((event.get("at") or 0.0, site, event))
    return sorted(out, key=lambda a: a[0], reverse=True)[:limit]


def clock(at: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) if at else "—"


class FleetScreen(Screen):
    BINDINGS = [Binding("q", "app.quit", "Quit")]

    def __init__(self, operator: Operator, sites: list[str]) -> None:
        super().__init__()
        self.operator, self.sites = operator, sites

    def compose(self) -> ComposeResult:
        with Vertical():
            self.summary = Static(classes="fleet-summary")
            yield self.summary
            self.table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, classes="fleet-sites")
            yield self.table
            yield Static("Alarms across the fleet, newest first", classes="fleet-heading")
            self.alarm_table: DataTable[str] = DataTable(cursor_type="none", classes="fleet-alarms")
            yield self.alarm_table
        yield Footer()

    def on_mount(self) -> None:
        self.table.add_columns("Site", "State", "Needs a person", "Store backlog", "Events", "Last event")
        self.alarm_table.add_columns("When", "Site", "What")
        self.set_interval(REFRESH_S, self.refresh_view)
        self.refresh_view()

    def refresh_view(self) -> None:
        views = {site: self.operator.view(site) for site in self.sites}
        online = sum(bool(v.online) for v in views.values())
        offline = sum(v.online is False for v in views.values())
        unwell = [s for s, v in views.items() if health_line(v)[1] not in ("ok", "—")]
        self.summary.update(f"{len(self.sites)} sites · {online} online · {offline} OFFLINE · "
                            f"{len(unwell)} need a person · {self.operator.received} messages received")
        row = self.table.cursor_row
        self.table.clear()
        for site, view in views.items():
            state, needs, backlog = health_line(view)
            last = max(view.events.values(), key=lambda e: e.get("at") or 0.0, default=None)
            self.table.add_row(site, state, needs, backlog, str(len(view.events)),
                               f"{clock(last.get('at'))} {last.get('kind')}" if last else "—", key=site)
        if self.sites:
            self.table.move_cursor(row=min(row, len(self.sites) - 1))
        self.alarm_table.clear()
        for at, site, event in alarms(self.operator, self.sites):
            self.alarm_table.add_row(clock(at), site, f"{event.get('kind')}: {json.dumps(event.get('data'))[:80]}")

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        if message.data_table is self.table and message.row_key.value:
            self.app.push_screen(SiteScreen(self.operator, str(message.row_key.value)))


class SiteScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, operator: Operator, site: str) -> None:
        super().__init__()
        self.operator, self.site = operator, site

    def compose(self) -> ComposeResult:
        with Vertical():
            self.head = Static(classes="fleet-summary")
            yield self.head
            self.doors: DataTable[str] = DataTable(cursor_type="none", classes="fleet-doors")
            yield self.doors
            yield Static("Recent events", classes="fleet-heading")
            self.events: DataTable[str] = DataTable(cursor_type="none", classes="fleet-events")
            yield self.events
        yield Footer()

    def on_mount(self) -> None:
        self.doors.add_columns("Locker", "State", "Door", "Fault")
        self.events.add_columns("When", "Kind", "Data")
        self.set_interval(REFRESH_S, self.refresh_view)
        self.refresh_view()

    def refresh_view(self) -> None:
        view = self.operator.view(self.site)
        state, needs, backlog = health_line(view)
        counters = view.state.get("counters", {}).get("data", {})
        self.head.update(f"{self.site} · {state} · {needs} · store backlog {backlog}\n"
                         f"parcels {json.dumps(counters.get('parcels', {}))} · "
                         f"fleet outbox {counters.get('fleet_outbox_pending', '—')}")
        self.doors.clear()
        for door in view.state.get("doors", {}).get("data", {}).get("doors", []):   # a list is sent as {name: list}
            self.doors.add_row(str(door.get("locker")), str(door.get("state")), str(door.get("door")),
                               door.get("fault") or "—")
        self.events.clear()
        recent = sorted(view.events.values(), key=lambda e: e.get("at") or 0.0, reverse=True)[:30]
        for event in recent:
            self.events.add_row(clock(event.get("at")), str(event.get("kind")), json.dumps(event.get("data"))[:90])


class FleetView(App):
    TITLE = "Fleet"
    CSS = """
    .fleet-summary { height: auto; padding: 0 1; text-style: bold; }
    .fleet-heading { height: 1; padding: 0 1; text-style: bold; margin-top: 1; }
    .fleet-sites, .fleet-doors { height: 1fr; }
    .fleet-alarms, .fleet-events { height: 1fr; }
    """

    def __init__(self, operator: Operator, sites: list[str]) -> None:
        super().__init__()
        self.operator, self.sites = operator, sites

    def on_mount(self) -> None:
        self.push_screen(FleetScreen(self.operator, self.sites))
