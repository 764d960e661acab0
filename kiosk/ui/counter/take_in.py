"""Taking in parcels at the counter (F5, or the desk's "Take in" button; Escape goes back).

A courier hands the clerk a pile of counter parcels; the clerk scans (a wedge scanner types
into the field) or types each label, Enter, and the next. Each one is the clerk's own call
(``counter_receive``: arrived at the counter, the store told, audited under the clerk);
the list below shows this pile's parcels, each taken in or why not (not in the manifest,
already here, a locker parcel), newest first, so nothing is left on the counter unrecorded.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input

from kiosk.errors import KioskError, NotAllowed
from kiosk.ui.counter.texts import Say
from kiosk.ui.widgets import TopBar, Words

if TYPE_CHECKING:
    from kiosk.ui.counter.app import CounterApp

LABEL_CHARS = r"[0-9A-Za-z\-]*"


def TAKEN(t) -> str:
    return t.take_in_done


def failed(why: str) -> Say:
    return lambda t: t.action_failed.format(why=why)


class TakeInScreen(Screen):
    AUTO_FOCUS = "#take-in-label"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, float, Say]] = []      # trade number, when, what happened
        self.taken = 0
        self._pending = 0

    @property
    def counter(self) -> "CounterApp":
        return cast("CounterApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="kiosk-main"):
            yield TopBar(lambda t: t.take_in_title, language=True, cancel=lambda t: t.back,
                         cancel_action="app.pop_screen")
            with Vertical(classes="take-in-body"):
                yield Words(lambda t: t.take_in_prompt, classes="take-in-prompt")
                yield Words(lambda t: t.label_field, classes="field-label -active")
                self.label = Input(restrict=LABEL_CHARS, max_length=64, id="take-in-label", classes="code-input")
                yield self.label
                self.count = Words(classes="take-in-count")
                yield self.count
                self.table: DataTable[str] = DataTable(cursor_type="none", zebra_stripes=True, classes="take-in-list")
                yield self.table

    def on_mount(self) -> None:
        self.watch(self.app, "language", lambda _: self.show(), init=False)
        self.show()

    @on(Input.Submitted, "#take-in-label")
    def _submitted(self) -> None:
        text = self.label.value.strip()
        self.label.clear()
        if text:
            self._take_in(text)

    @work(group="take-in")   # never exclusive: each label is its own call, none cancelled
    async def _take_in(self, trade: str) -> None:
        outcome: Say
        try:
            await self.counter.service.counter_receive(self.counter.clerk_id, trade)
            self.taken += 1
            outcome = TAKEN
        except NotAllowed:
            self.counter.signed_out()
            return
        except KioskError as err:
            outcome = failed(str(err))
        self.rows.insert(0, (trade, time.time(), outcome))
        if self.is_attached:
            self.show()

    def show(self) -> None:
        t = self.counter.texts_for(self.counter.language)
        taken = self.taken
        self.count.say(lambda t: t.take_in_count.format(n=taken))
        self.table.clear(columns=True)
        self.table.add_columns(t.col_trade, t.col_when, t.col_outcome)
        for trade, at, outcome in self.rows:
            self.table.add_row(trade, time.strftime("%H:%M:%S", time.localtime(at)), outcome(t))
