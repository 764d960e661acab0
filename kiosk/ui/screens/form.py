"""A screen that asks for codes one field at a time, by keyboard or on-screen keypad.

The recipient's (trade number, then secret) and the courier's (courier code, then trade
number) screens are both this: a prompt saying what to type now, the fields, the keypad,
and one line for what went wrong. Subclasses list their ``FIELDS`` and say what happens
when one is completed (``field_done``), which runs in a worker so the screen stays live
while the service works (Argon2 takes its time on purpose).

Secrets: a secret field is emptied the moment its value is read for submission, again
when the screen goes away, and its value is never logged or put in a message.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input

from kiosk.ui.explain import UNEXPECTED, slow_down_left
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.texts import Say
from kiosk.ui.widgets import Keypad, TopBar, Words, count_down

log = logging.getLogger(__name__)

TRADE_NUMBER_CHARS = r"[0-9A-Za-z-]*"
SECRET_CHARS = r"[0-9A-Za-z]*"


@dataclass(frozen=True)
class Field:
    label: Say
    prompt: Say
    hint: Say
    secret: bool = False
    restrict: str = TRADE_NUMBER_CHARS
    max_length: int = 40


class CodeFormScreen(KioskScreen):
    """Fields filled in order; OK (or Enter) completes the field being filled."""

    FIELDS: ClassVar[tuple[Field, ...]] = ()
    FORM_TITLE: ClassVar[str] = ""   # the phrase (a field of kiosk.ui.texts.Texts) across the top; every form names one
    BINDINGS = [Binding("escape", "app.go_idle", show=False)]

    def __init__(self, *, start_at: int = 0, typed: str = "", problem: Say | None = None) -> None:
        super().__init__()
        self.active = start_at
        self.busy = False
        self._refused = False
        self._wait: Timer | None = None      # the site's slow-down, counting down
        self._start_at = start_at
        self._typed = typed
        self._first_problem = problem
        self.inputs: list[Input] = []
        self._labels: list[Words] = []

    def compose_main(self) -> ComposeResult:
        title = self.FORM_TITLE
        yield TopBar(lambda t: getattr(t, title), language=True, cancel=lambda t: t.cancel)
        with Horizontal(classes="form-body"):
            with Vertical(classes="form-fields"):
                self.step = Words(classes="form-step")
                self.prompt = Words(classes="form-prompt")
                self.hint = Words(classes="hint form-hint")
                yield self.step
                yield self.prompt
                yield self.hint
                for index, field in enumerate(self.FIELDS):
                    label = Words(field.label, classes="field-label")
                    box = Input(password=field.secret, restrict=field.restrict, max_length=field.max_length,
                                select_on_focus=False, classes="code-input")
                    if index < self._start_at:  # done on an earlier visit (the courier's code)
                        label.display = box.display = False
                    self._labels.append(label)
                    self.inputs.append(box)
                    yield label
                    yield box
                self.problem = Words(self._first_problem, classes="form-problem")
                self.status = Words(classes="form-status")
                yield self.problem
                yield self.status
                yield from self.compose_extra()
            self.keypad = Keypad()
            yield self.keypad

    def compose_extra(self) -> ComposeResult:
        """What a form shows under its fields (a second way to finish, say)."""
        yield from ()

    def on_mount(self) -> None:
        if self._typed:
            self.inputs[self._start_at].insert_text_at_cursor(self._typed)
        self.go_to(self._start_at)

    def on_unmount(self) -> None:
        self.clear_secrets()

    def can_go_idle(self) -> bool:
        return not self.busy

    def holds_keys_after(self, key: events.Key) -> bool:
        # Enter completes the field: what is typed after it waits for the answer.
        return key.key == "enter" and not self.busy and self.focused in self.inputs

    # --- what subclasses use ----------------------------------------------------------

    async def field_done(self, index: int, value: str) -> None:
        """Field ``index`` was completed with ``value`` (stripped; a secret field is already emptied).
        Every form defines it; ``__init_subclass__`` refuses a form class that does not."""

    def __init_subclass__(cls, **kwargs) -> None:
        # A Textual screen cannot also be an ABC (metaclass conflict): check at class creation.
        super().__init_subclass__(**kwargs)
        if not cls.FORM_TITLE:
            raise TypeError(f"{cls.__name__} must name its FORM_TITLE")
        if cls.field_done is CodeFormScreen.field_done:
            raise TypeError(f"{cls.__name__} must define field_done()")

    def value(self, index: int) -> str:
        return self.inputs[index].value.strip()

    def go_to(self, index: int) -> None:
        """Make field ``index`` the one being filled."""
        self.active = index
        field = self.FIELDS[index]
        self.step.say(lambda t: t.step.format(n=index + 1, total=len(self.FIELDS)))
        self.prompt.say(field.prompt)
        self.hint.say(field.hint)
        for i, label in enumerate(self._labels):
            label.set_class(i == index, "-active")
        if not self.busy:
            self.inputs[index].focus()

    def wait_out(self, seconds: float, index: int) -> None:
        """The site is slowed down for ``seconds``: count them down on the problem line, then
        say the person may try again; go back to ``index``."""
        self.fail(slow_down_left(max(1, math.ceil(seconds))), index)
        self._wait = count_down(self.problem, seconds, slow_down_left, then=lambda t: t.slow_down_over)

    def fail(self, phrase: Say, index: int, *, clear: tuple[int, ...] = ()) -> None:
        """Say what went wrong, empty the ``clear`` fields (and every secret), go back to ``index``."""
        self._stop_waiting()
        self._refused = True
        for i in clear:
            self.inputs[i].clear()
        self.clear_secrets()
        self.problem.say(phrase)
        self.kiosk.announce(phrase)
        self.go_to(index)

    def show_field(self, index: int, shown: bool) -> None:
        """Show or hide field ``index`` (a field already done is hidden)."""
        self.inputs[index].display = self._labels[index].display = shown

    def clear_secrets(self) -> None:
        for field, box in zip(self.FIELDS, self.inputs, strict=True):
            if field.secret:
                box.clear()

    # --- input ------------------------------------------------------------------------

    @on(Keypad.Pressed)
    def _keypad_pressed(self, event: Keypad.Pressed) -> None:
        Keypad.apply(event.key, self.inputs[self.active])

    @on(Keypad.Submitted)
    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.submit()

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        if event.value and self._wait is None:   # a slow-down keeps counting while they type
            self.problem.say(None)

    def _stop_waiting(self) -> None:
        if self._wait is not None:
            self._wait.stop()
            self._wait = None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if not self.busy and event.widget in self.inputs and event.widget is not self.inputs[self.active]:
            self.go_to(self.inputs.index(event.widget))

    def submit(self) -> None:
        """Complete the field being filled (OK on the keypad, Enter on a keyboard)."""
        if self.busy:
            return
        index = self.active
        value = self.value(index)
        if self.FIELDS[index].secret:
            self.inputs[index].clear()
        self._stop_waiting()
        self.problem.say(None)
        self._refused = False
        self.kiosk.type_ahead.hold(self)  # keys typed from now on wait for the answer
        self._set_busy(True)  # now, not in the worker: a second Enter must find the form busy
        self._complete(index, value)

    @work(group="form-submit")  # never exclusive: cancelling a sent command would lose its answer
    async def _complete(self, index: int, value: str) -> None:
        try:
            await self.field_done(index, value)
        except Exception:
            # Never the value: it may be a secret.
            log.exception("%s: completing field %d failed", type(self).__name__, index)
            self.fail(UNEXPECTED, index)
        finally:
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.status.say((lambda t: t.checking) if busy else None)
        if busy:
            self.set_focus(None)  # else disabling the focused field hands the focus to the next one
        for box in self.inputs:
            box.disabled = busy
        self.keypad.disabled = busy
        if not busy and self.is_attached:
            self.inputs[self.active].focus()
            # After that focus: keys typed during the check go to the next field, unless it was refused.
            self.app.call_later(self.kiosk.keys_ready, self, not self._refused)
