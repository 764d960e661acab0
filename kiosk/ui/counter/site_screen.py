"""The clerk's "Parcels and lockers" screen (F4 at the counter terminal; Escape goes back).

    ┌ Parcels and lockers ─────────────────────────────────── [日本語] [Back] ┐
    │ Store link: 0 waiting · last sent 10:02     Today: in 12 · out 9 (…)    │
    │ List          Trade number  State    Locker  Deadline   Method          │
    │ Locked out    1234-5678     arrived  3       12-05 18:00 secret         │
    │ [Reset attempts] [Mark returned]                                        │
    │ Locker  State         Door    Parcel                                    │
    │ [Open to inspect] [reason______] [Take out of service] [Back in service]│
    │ what the last action did                                                │

Everything shown comes from one call (``clerk_overview``): the lists and which actions
apply are the service's decisions; the screen only offers them. Each action is the
clerk's own call (``clerk_reset_attempts``, ``clerk_mark_returned``, ``clerk_open_locker``,
``clerk_set_in_service``), audited under the clerk's id by the controller; the screen
reloads after each, and whenever the controller reports a change.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input

from kiosk.errors import KioskError
from kiosk.service.api import ClerkService
from kiosk.service.dto import ClerkOverview
from kiosk.ui.counter.site_names import ALARMS, DOOR_STATES, LIST_NAMES, LOCKER_STATES, METHODS, PARCEL_STATES, name
from kiosk.ui.counter.texts import Say
from kiosk.ui.events import ServiceEvent
from kiosk.ui.widgets import SayButton, TopBar, Words

if TYPE_CHECKING:
    from kiosk.ui.counter.app import CounterApp

log = logging.getLogger(__name__)
RELOAD_ON = frozenset({"alarm", "tamper", "parcel_arrived", "parcel_collected", "parcel_expired", "parcel_returned", "door_open",
                       "door_closed", "locker_fault", "verification_failed", "attempts_reset", "manifest_imported",
                       "forgotten_pickup", "locker_state"})


def clock_text(at: float | None) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(at)) if at else "—"


class SiteScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", show=False)]

    def __init__(self, service: ClerkService) -> None:
        super().__init__()
        self.service = service
        self.overview: ClerkOverview | None = None
        self.result: Say | None = None

    @property
    def counter(self) -> "CounterApp":
        return cast("CounterApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="kiosk-main"):
            yield TopBar(lambda t: t.site_title, language=True, cancel=lambda t: t.back, cancel_action="app.pop_screen")
            with Vertical(classes="site-body"):
                self.summary = Words(classes="site-summary")
                yield self.summary
                self.alarms: DataTable[str] = DataTable(cursor_type="row", classes="site-alarms")
                yield self.alarms
                self.parcels: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, classes="site-parcels")
                yield self.parcels
                with Horizontal(classes="site-actions"):
                    yield SayButton(lambda t: t.acknowledge, action="screen.acknowledge", classes="site-ack")
                    yield SayButton(lambda t: t.take_in, action="screen.take_in", classes="site-take-in")
                    yield SayButton(lambda t: t.reset_attempts, action="screen.reset_attempts",
                                    classes="site-reset")
                    yield SayButton(lambda t: t.hand_over_in_person, action="screen.hand_over",
                                    classes="site-hand-over")
                    yield SayButton(lambda t: t.extend_hold, action="screen.extend", classes="site-extend")
                    yield SayButton(lambda t: t.mark_returned, action="screen.mark_returned", classes="site-returned")
                self.lockers: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, classes="site-lockers")
                yield self.lockers
                with Horizontal(classes="site-actions"):
                    yield SayButton(lambda t: t.open_locker, action="screen.open_locker", classes="site-open")
                    self.reason = Input(max_length=200, classes="site-reason")
                    yield self.reason
                    yield SayButton(lambda t: t.take_out, action="screen.take_out", classes="site-take-out")
                    yield SayButton(lambda t: t.back_in, action="screen.back_in", classes="site-back-in")
                self.outcome = Words(classes="site-outcome")
                yield self.outcome

    def on_mount(self) -> None:
        self.watch(self.app, "language", lambda _: self.show(), init=False)
        self.reload()

    @on(ServiceEvent)
    def _event(self, message: ServiceEvent) -> None:
        if message.event.kind in RELOAD_ON:
            self.reload()

    @work(exclusive=True, group="site-reload")
    async def reload(self) -> None:
        try:
            self.overview = await self.service.clerk_overview()
        except KioskError as err:
            log.warning("clerk overview failed: %s", err)
            why = str(err)
            self.result = lambda t: t.action_failed.format(why=why)
        self.show()

    # --- showing it --------------------------------------------------------------------

    def show(self) -> None:
        language = self.counter.language
        t, view = self.counter.texts_for(language), self.overview
        self.reason.placeholder = t.reason_placeholder
        self.outcome.say(self.result)
        if view is None:
            return
        link, today = view.store_link, view.today
        sent = link.channels.get("events")
        out = ", ".join(f"{name(METHODS, language, m)} {n}" for m, n in today.collected.items()) or "0"
        store = (t.store_line.format(n=link.pending, at=clock_text(sent.last_success_at if sent else None))
                 if link.enabled else t.store_off)
        summary = store + "\n" + t.today_line.format(arrived=today.arrived, out=out, expired=today.expired,
                                                      returned=today.returned)
        self.summary.say(lambda _t: summary)
        self._fill(self.alarms, (t.col_alarm, t.col_when, t.col_locker, t.col_what),
                   [(name(ALARMS, language, a.kind), clock_text(a.at), str(a.locker or "—"),
                     " ".join(x for x in (a.trade_number or "", a.what) if x)) for a in view.alarms]
                   or [(t.no_alarms, "", "", "")], [a.event_id for a in view.alarms] or [""])
        self._fill(self.parcels, (t.col_list, t.col_trade, t.col_state, t.col_locker, t.col_deadline, t.col_method),
                   [(name(LIST_NAMES, language, r.list), r.trade_number, name(PARCEL_STATES, language, r.state),
                     str(r.locker or "—"), clock_text(r.deadline), name(METHODS, language, r.method))
                    for r in view.parcels], [r.trade_number for r in view.parcels])
        self._fill(self.lockers, (t.col_number, t.col_state, t.col_door, t.col_parcel),
                   [(str(lk.number), name(LOCKER_STATES, language, lk.state) + (" …" if lk.busy else ""),
                     name(DOOR_STATES, language, lk.door), lk.parcel or "—") for lk in view.lockers], [str(lk.number) for lk in view.lockers])

    def _fill(self, table: DataTable, columns: tuple[str, ...], rows: list[tuple[str, ...]], keys: list[str]) -> None:
        """Rebuild ``table``; the selection stays on the same parcel or locker (the rows move
        between lists as things change), else on the same line."""
        selected, line = self._selected(table), table.cursor_row
        table.clear(columns=True)
        table.add_columns(*columns)
        for key, row in zip(keys, rows, strict=True):
            table.add_row(*row, key=key)
        if rows:
            table.move_cursor(row=keys.index(selected) if selected in keys else min(line, len(rows) - 1))

    # --- the clerk's actions -----------------------------------------------------------------

    def _selected(self, table: DataTable) -> str | None:
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _parcel(self, action: str):
        trade = self._selected(self.parcels)
        row = next((r for r in self.overview.parcels if r.trade_number == trade), None) if self.overview else None
        if row is None or action not in row.actions:
            self.result = lambda t: t.action_not_for_this
            self.show()
            return None
        return row

    def action_acknowledge(self) -> None:
        event_id = self._selected(self.alarms)
        if event_id:
            self._act(self.service.clerk_acknowledge_alarm(self.counter.clerk_id, event_id), lambda t: t.done_ack)

    def action_take_in(self) -> None:
        if (row := self._parcel("receive")) is not None:
            trade = row.trade_number
            self._act(self.counter.service.counter_receive(self.counter.clerk_id, trade),
                      lambda t: t.done_take_in.format(trade=trade))

    def action_hand_over(self) -> None:
        if (row := self._parcel("hand_over")) is None or (why := self._reason()) is None:
            return
        trade = row.trade_number
        self._act(self.service.clerk_hand_over(self.counter.clerk_id, trade, why),
                  lambda t: t.done_hand_over.format(trade=trade))

    def _reason(self) -> str | None:
        """The reason typed (and cleared), or None after asking for one."""
        why = self.reason.value.strip()
        if not why:
            self.result = lambda t: t.reason_needed
            self.show()
            self.reason.focus()
            return None
        self.reason.clear()
        return why

    def action_reset_attempts(self) -> None:
        if (row := self._parcel("reset_attempts")) is not None:
            trade = row.trade_number
            self._act(self.service.clerk_reset_attempts(self.counter.clerk_id, trade),
                      lambda t: t.done_reset.format(trade=trade))

    def action_extend(self) -> None:
        if (row := self._parcel("extend")) is not None:
            trade = row.trade_number
            self._act(self.service.clerk_extend_hold(self.counter.clerk_id, trade),
                      lambda t: t.done_extend.format(trade=trade))

    def action_mark_returned(self) -> None:
        if (row := self._parcel("mark_returned")) is not None:
            trade = row.trade_number
            self._act(self.service.clerk_mark_returned(self.counter.clerk_id, trade),
                      lambda t: t.done_returned.format(trade=trade))

    def _locker(self) -> int | None:
        key = self._selected(self.lockers)
        return int(key) if key else None

    def action_open_locker(self) -> None:
        if (n := self._locker()) is not None:
            self._act(self.service.clerk_open_locker(self.counter.clerk_id, n), lambda t: t.done_open.format(n=n))

    def action_take_out(self) -> None:
        if (n := self._locker()) is None or (why := self._reason()) is None:
            return
        self._act(self.service.clerk_set_in_service(self.counter.clerk_id, n, False, why),
                  lambda t: t.done_out.format(n=n))

    def action_back_in(self) -> None:
        if (n := self._locker()) is not None:
            self._act(self.service.clerk_set_in_service(self.counter.clerk_id, n, True, self.reason.value.strip()),
                      lambda t: t.done_in.format(n=n))

    @work(group="site-actions")   # never exclusive: a cancelled call would lose its answer
    async def _act(self, call, done: Say) -> None:
        try:
            await call
            self.result = done
        except KioskError as err:
            why = str(err)
            self.result = lambda t: t.action_failed.format(why=why)
        self.reload()
