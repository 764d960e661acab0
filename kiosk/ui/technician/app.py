"""The technician panel (issue 12 §4, first part): the site at a glance for whoever keeps it
running — every configured device up or down with its detail, the controller's tasks
(restarts, last error), the database, the store link's backlog, the lockers with their
faults — refreshed every ``REFRESH_S`` and on every event, in English or Japanese, plus
"Pull manifest now". Everything comes from the technician's part of the service API
(``site_status``, ``pull_manifest``): in process, or over kioskd's socket, where the
technician signs in on the panel itself (``kiosk screen technician``, or in a browser with
``kiosk serve technician``) and is brought back there when kioskd signs them out.

Enter on a device shows its line (kiosk.ui.technician.wire): the frames both ways, in hex
with their meaning, its counters and round-trip times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import DataTable

from kiosk.errors import KioskError, NotAllowed
from kiosk.service.api import Subscription, TechnicianService
from kiosk.service.dto import SiteStatus
from kiosk.ui.app import HIGH_CONTRAST_THEME, KIOSK_THEME
from kiosk.ui.app_base import CONTRAST_KEY, SIDE_PANEL_KEY, KioskAppMixin
from kiosk.ui.sign_in import SignIn, SignInScreen, SignsIn
from kiosk.ui.technician.texts import LANGUAGES, Say, TechnicianTexts
from kiosk.ui.technician.frame import TechScreen
from kiosk.ui.technician.wire import WireScreen
from kiosk.ui.widgets import SayButton, TopBar, Words

log = logging.getLogger(__name__)
REFRESH_S = 2.0


def ago(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def clock(at: float | None) -> str:
    return time.strftime("%m-%d %H:%M:%S", time.localtime(at)) if at else "—"


def megabytes(n: int | None) -> str:
    return "—" if n is None else f"{n / 1e6:,.0f} MB"


class StatusScreen(TechScreen):
    def __init__(self) -> None:
        super().__init__()
        self.status: SiteStatus | None = None
        self.result: Say | None = None

    def compose_main(self) -> ComposeResult:
        yield TopBar(lambda t: t.title, language=True, cancel=lambda t: t.quit, cancel_action="app.quit")
        with Vertical(classes="tech-body"):
            self.summary = Words(classes="tech-summary")
            yield self.summary
            yield Words(lambda t: t.devices, classes="tech-heading")
            yield Words(lambda t: t.wire_hint, classes="tech-hint")
            self.devices: DataTable[str] = DataTable(cursor_type="row", classes="tech-devices")
            yield self.devices
            yield Words(lambda t: t.tasks, classes="tech-heading")
            self.tasks: DataTable[str] = DataTable(cursor_type="row", classes="tech-tasks")
            yield self.tasks
            yield Words(lambda t: t.lockers, classes="tech-heading")
            self.lockers: DataTable[str] = DataTable(cursor_type="row", classes="tech-lockers")
            yield self.lockers
            with Horizontal(classes="tech-actions"):
                yield SayButton(lambda t: t.pull_manifest, action="screen.pull", classes="tech-pull")
                self.outcome = Words(classes="tech-outcome")
                yield self.outcome

    def on_mount(self) -> None:
        self.watch(self.app, "language", lambda _: self.show(), init=False)
        self.set_interval(REFRESH_S, self.reload)
        self.reload()

    @on(DataTable.RowSelected, ".tech-devices")
    def _device_chosen(self, message: DataTable.RowSelected) -> None:
        """Enter (or a click) on a device: its line."""
        if self.status is not None and 0 <= message.cursor_row < len(self.status.devices):
            self.app.push_screen(WireScreen(self.status.devices[message.cursor_row].role))

    @work(exclusive=True, group="tech-reload")
    async def reload(self) -> None:
        try:
            self.status = await self.tech.service.site_status()
        except NotAllowed:
            self.tech.signed_out()
            return
        except KioskError as err:
            why = str(err)
            self.result = lambda t: t.failed.format(why=why)
        self.show()

    def show(self) -> None:
        t: TechnicianTexts = self.tech.texts_for(self.tech.language)
        self.outcome.say(self.result)
        status = self.status
        if status is None:
            return
        storage, link = status.storage, status.store_link
        disk = (t.storage_ok.format(free=megabytes(storage.free_bytes)) if storage.writable
                else t.storage_failing.format(why=storage.failing or "?"))
        sent = link.channels.get("events")
        store = (t.store_line.format(pending=link.pending,
                                     age=ago(time.time() - link.oldest_pending if link.oldest_pending else None),
                                     at=clock(sent.last_success_at if sent else None))
                 if link.enabled else t.store_off)
        text = f"{status.site_id} · {disk}\n{store}"
        self.summary.say(lambda _t: text)
        self._fill(self.devices, (t.col_role, t.col_state, t.col_device, t.col_detail),
                   [(d.role, t.up if d.ok else t.down, d.url, d.detail[:80]) for d in status.devices])
        self._fill(self.tasks, (t.col_task, t.col_state, t.col_restarts, t.col_last_error),
                   [(k.name, t.running if k.running else t.stopped, str(k.restarts),
                     f"{clock(k.last_error_at)} {k.last_error}" if k.last_error else "—") for k in status.tasks])
        self._fill(self.lockers, (t.col_locker, t.col_state, t.col_door, t.col_fault),
                   [(str(lk.number), lk.state, lk.door, lk.fault or "—") for lk in status.lockers])

    @staticmethod
    def _fill(table: DataTable, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        line = table.cursor_row
        table.clear(columns=True)
        table.add_columns(*columns)
        for row in rows:
            table.add_row(*row)
        if rows:
            table.move_cursor(row=min(line, len(rows) - 1))

    def action_pull(self) -> None:
        self._pull()

    @work(group="tech-actions")
    async def _pull(self) -> None:
        try:
            done = await self.tech.service.pull_manifest()
            self.result = lambda t: t.pulled.format(added=done.added, cancelled=done.cancelled)
        except NotAllowed:
            self.tech.signed_out()
            return
        except KioskError as err:
            why = str(err)
            self.result = lambda t: t.failed.format(why=why)
        self.reload()


class TechnicianApp(SignsIn, KioskAppMixin, App):
    """The panel for one technician (``staff_id``, kept for the record of what they did)."""

    CSS_PATH = ["../kiosk.tcss", "technician.tcss"]
    TITLE = "Technician"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("f2", "toggle_language", "Language", show=False, priority=True),
                Binding(CONTRAST_KEY, "toggle_contrast", "High contrast", show=False, priority=True),
                Binding(SIDE_PANEL_KEY, "toggle_side_panel", "Side panel", show=False, priority=True)]

    language: reactive[str] = reactive("en")

    def __init__(self, service: TechnicianService, staff_id: str = "", *, sign_in: SignIn | None = None,
                 side_panel: Callable[[], Widget] | None = None) -> None:
        """``sign_in`` (code -> technician id, refusing any other role's code): the panel
        asks for the code on the screen first, and again after kioskd signs them out.
        ``side_panel`` makes a widget shown beside each screen (the demo's simulator controls)."""
        if not staff_id and sign_in is None:
            raise ValueError("a technician id is required: what they do is recorded under it")
        super().__init__()
        self.service = service
        self.staff_id = staff_id
        self.sign_in = sign_in
        self._side_panel = side_panel
        self._subscription: Subscription | None = None
        settings = service.ui_settings()   # type: ignore[attr-defined]  # every transport offers it
        self.languages: tuple[str, ...] = tuple(x for x in settings.languages if x in LANGUAGES) or ("en",)
        self.set_reactive(TechnicianApp.language, self.languages[0])
        self.register_theme(KIOSK_THEME)
        self.register_theme(HIGH_CONTRAST_THEME)
        self.theme = KIOSK_THEME.name

    def texts_for(self, language: str) -> TechnicianTexts:
        return LANGUAGES[language]

    def on_mount(self) -> None:
        subscribe = getattr(self.service, "subscribe", None)
        if subscribe is not None:
            self._subscription = subscribe()
            self._pump_events(self._subscription)
        self.push_screen(SignInScreen() if self.sign_in is not None else StatusScreen())

    def signed_in(self, staff_id: str) -> None:
        self.staff_id = staff_id
        self.switch_screen(StatusScreen())

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    @work(exclusive=True, group="service-events")
    async def _pump_events(self, subscription: Subscription) -> None:
        async for event in subscription:
            if event.kind == "service_state":
                self.show_service_state(event.data["in_service"], event.data.get("reason") or "")
            elif isinstance(self.screen, StatusScreen):
                self.screen.reload()

    def action_toggle_language(self) -> None:
        self.language = self.next_language

    def action_go_idle(self) -> None:
        """The top bar's way out: the panel has no idle state; refresh instead."""
        if isinstance(self.screen, StatusScreen):
            self.screen.reload()
