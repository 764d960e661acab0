"""Courier drop-off: the courier code, then a parcel's trade number; then the next parcel.

The courier code is checked as soon as it is entered (a wrong one is said at once, not
after a trade number has been typed too). The session token it yields stays with the app
until the courier finishes or walks away, so "Next parcel" goes straight to the trade
number.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button

from kiosk.errors import CodeInvalid, KioskError, SlowDown
from kiosk.service.api import DoorOpening
from kiosk.ui.explain import courier_login_problem, deposit_problem
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.entry import MIN_TRADE_NUMBER
from kiosk.ui.screens.form import SECRET_CHARS, CodeFormScreen, Field
from kiosk.ui.texts import Say
from kiosk.ui.widgets import SayButton, TopBar, Words

COURIER_CODE = Field(label=lambda t: t.courier_code, prompt=lambda t: t.courier_code_prompt,
                     hint=lambda t: t.courier_code_hint, secret=True, restrict=SECRET_CHARS, max_length=64)
PARCEL = Field(label=lambda t: t.trade_number, prompt=lambda t: t.parcel_prompt, hint=lambda t: t.parcel_hint)


class CourierEntryScreen(CodeFormScreen):
    """Courier code (skipped while a session is open), then the parcel's trade number."""

    FORM_TITLE = "courier_title"

    FIELDS = (COURIER_CODE, PARCEL)

    class LoggedIn(Message):
        """The courier code was accepted; ``token`` opens deposits until logout."""

        def __init__(self, token: str) -> None:
            super().__init__()
            self.token = token

    class SessionEnded(Message):
        """The service no longer accepts ``token``."""

        def __init__(self, token: str) -> None:
            super().__init__()
            self.token = token

    class DoorOpened(Message):
        """A locker was unlocked for ``started.trade_number``; its events follow ``since``."""

        def __init__(self, started: DoorOpening, since: int) -> None:
            super().__init__()
            self.started = started
            self.since = since

    class RoundChosen(Message):
        """Empty the doors of parcels to send and expired ones (kiosk.ui.screens.round)."""

        def __init__(self, token: str) -> None:
            super().__init__()
            self.token = token

    def __init__(self, token: str | None = None, *, problem: Say | None = None) -> None:
        super().__init__(start_at=0 if token is None else 1, problem=problem)
        self.token = token

    def compose_extra(self) -> ComposeResult:
        self.round_button = SayButton(lambda t: t.round_button, action="screen.round", classes="courier-round")
        self.round_button.display = self.token is not None   # once signed in
        yield self.round_button

    def action_round(self) -> None:
        if self.token is not None:
            self.post_message(self.RoundChosen(self.token))

    async def field_done(self, index: int, value: str) -> None:
        if index == 0:
            await self._log_in(value)
        else:
            await self._deposit(value)

    async def _log_in(self, code: str) -> None:
        if not code:
            self.fail(lambda t: t.courier_code_empty, 0)
            return
        try:
            self.token = (await self.service.courier_login(code)).token
        except SlowDown as err:
            self.wait_out(err.retry_after, 0)
            return
        except KioskError as err:
            self.fail(courier_login_problem(err), 0)
            return
        self.post_message(self.LoggedIn(self.token))
        self.round_button.display = True
        self.show_field(0, False)  # done: nothing to see, nothing to touch by mistake
        self.go_to(1)

    async def _deposit(self, trade_number: str) -> None:
        if self.token is None:
            self.fail(lambda t: t.courier_code_empty, 0)
            return
        if len(trade_number) < MIN_TRADE_NUMBER:
            self.fail(lambda t: t.trade_number_too_short, 1)
            return
        since = self.kiosk.events.seq
        try:
            started = await self.service.deposit(self.token, trade_number)
        except CodeInvalid:
            self.post_message(self.SessionEnded(self.token))
            self.token = None
            self.round_button.display = False
            self.show_field(0, True)
            self.fail(lambda t: t.courier_session_over, 0)
            return
        except KioskError as err:
            self.fail(deposit_problem(err, trade_number.upper()), 1, clear=(1,))
            return
        self.post_message(self.DoorOpened(started, since))


class CourierDoneScreen(KioskScreen):
    """A parcel is in its locker: the next one, or finish."""

    AUTO_FOCUS = ".courier-next"

    class NextParcel(Message):
        """Load another parcel in the same session."""

    def __init__(self, trade_number: str, locker: int) -> None:
        super().__init__()
        self.trade_number = trade_number
        self.locker = locker

    def compose_main(self) -> ComposeResult:
        trade, n = self.trade_number, self.locker
        yield TopBar(lambda t: t.courier_title)
        with Vertical(classes="end-body -done"):
            yield Words(lambda t: t.thank_you, classes="end-headline")
            yield Words(lambda t: t.deposited.format(trade=trade, n=n), classes="end-text")
            with Horizontal(classes="end-buttons"):
                self.next_button = SayButton(lambda t: t.next_parcel, variant="primary", classes="end-button courier-next")
                yield self.next_button
                yield SayButton(lambda t: t.finish, classes="end-button", action="app.go_idle")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button is self.next_button:
            event.stop()
            self.post_message(self.NextParcel())

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            self.kiosk.action_go_idle()
