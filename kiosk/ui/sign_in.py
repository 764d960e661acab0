"""Signing in on the screen itself (not on a terminal prompt before it), for every staff
screen on kioskd's socket — the counter terminal and the technician panel, in a terminal or
a browser: the staff code typed, masked, on the keyboard or the keypad; kioskd checks it
(kiosk.service.socket_server: a staff code's slow hash, attempts limited) and the app opens
under that person's id. After inactivity kioskd signs them out: the next command is refused
(NotAllowed) and the app comes back here, saying so.

The app (``StaffApp``) gives the check (``sign_in``: code -> staff id, raising KioskError
when the code is refused or not of this screen's role) and what follows (``signed_in``);
its phrase table has ``sign_in_title``, ``staff_code``, ``sign_in``, ``sign_in_refused``
and ``signed_out``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input

from kiosk.errors import KioskError
from kiosk.ui.widgets import Keypad, SayButton, TopBar, Words

SignIn = Callable[[str], Awaitable[str]]   # staff code -> the person's id (raises KioskError)
Say = Callable[[Any], str]


class StaffApp(Protocol):
    sign_in: SignIn | None

    def signed_in(self, staff_id: str) -> None: ...


class SignsIn:
    """Mixed into a staff app that signs in on the screen (``sign_in`` set): when kioskd
    refuses a call because it signed the person out, back to the sign-in, saying why."""

    sign_in: SignIn | None

    def signed_out(self) -> None:
        app = cast(App, self)
        if self.sign_in is not None and not isinstance(app.screen, SignInScreen):
            while len(app.screen_stack) > 2:      # whatever was opened over the app's main screen
                app.pop_screen()
            app.switch_screen(SignInScreen(lambda t: t.signed_out))


class SignInScreen(Screen):
    AUTO_FOCUS = "#staff-code"

    def __init__(self, problem: Say | None = None) -> None:
        super().__init__()
        self._problem = problem
        self.busy = False

    @property
    def staff_app(self) -> StaffApp:
        return cast(StaffApp, self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="kiosk-main"):
            yield TopBar(lambda t: t.sign_in_title, language=True)
            with Horizontal(classes="sign-in-body"):
                with Vertical(classes="sign-in-fields"):
                    yield Words(lambda t: t.staff_code, classes="field-label -active")
                    self.code = Input(password=True, restrict=r"[0-9A-Za-z]*", max_length=64, id="staff-code",
                                      classes="code-input")
                    yield self.code
                    self.problem = Words(self._problem, classes="form-problem")
                    yield self.problem
                    yield SayButton(lambda t: t.sign_in, variant="primary", action="screen.sign_in",
                                    classes="sign-in-button")
                self.keypad = Keypad()
                yield self.keypad

    @on(Keypad.Pressed)
    def _keypad(self, event: Keypad.Pressed) -> None:
        Keypad.apply(event.key, self.code)

    @on(Keypad.Submitted)
    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_sign_in()

    def action_sign_in(self) -> None:
        code = self.code.value
        self.code.clear()            # at once: the code never stays on the screen
        if code and not self.busy:
            self.busy = True
            self._check(code)

    @work(group="sign-in")
    async def _check(self, code: str) -> None:
        try:
            sign_in = self.staff_app.sign_in
            assert sign_in is not None, "the sign-in screen is shown only to an app that signs in"
            staff_id = await sign_in(code)
        except KioskError:
            self.problem.say(lambda t: t.sign_in_refused)
            return
        finally:
            self.busy = False
        self.staff_app.signed_in(staff_id)
