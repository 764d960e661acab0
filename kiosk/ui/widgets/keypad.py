"""The on-screen keypad: digits, '-', backspace, clear and OK, with large touch targets.

It types nothing itself. It posts ``Keypad.Pressed`` (a digit, '-', ``Keypad.BACKSPACE``
or ``Keypad.CLEAR``) and ``Keypad.Submitted`` (OK), and the screen applies them to the
field being filled, exactly as it would keys from a physical keyboard. Its buttons never
take the focus, so a touch on the keypad leaves the cursor where it was.

    1 2 3
    4 5 6
    7 8 9
    - 0 ⌫
    Clear  OK
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Button

from textual.widgets.button import ButtonVariant

from kiosk.ui.widgets.words import Phrase, SayButton


class _Key(SayButton):
    def __init__(self, key: str, label: Phrase, *, variant: ButtonVariant = "default", classes: str = "") -> None:
        super().__init__(label, variant=variant, classes=f"keypad-key {classes}".strip(), focusable=False)
        self.key = key

    def on_click(self, event: events.Click) -> None:
        # A Button ignores a second click while it still shows the first (0.2 s); on a
        # keypad that would swallow the second "2" of "22" from a quick finger.
        event.stop()
        event.prevent_default()
        self.press()


class Keypad(Grid):
    """A touch keypad for trade numbers, secrets and courier codes."""

    BACKSPACE = "backspace"
    CLEAR = "clear"

    @classmethod
    def apply(cls, key: str, box) -> None:
        """Apply one pressed key to ``box`` (a Textual Input) and give it the focus."""
        if key == cls.CLEAR:
            box.clear()
        elif key == cls.BACKSPACE:
            box.action_delete_left()
        else:
            box.insert_text_at_cursor(key)
        box.focus()
    OK = "ok"
    CHARACTERS = "0123456789-"

    DEFAULT_CSS = """
    Keypad {
        grid-size: 3 5;
        grid-rows: 3;
        grid-columns: 1fr;
        grid-gutter: 1 1;
        width: 40;
        height: 19;
    }
    Keypad .keypad-key {
        width: 100%;
        height: 3;
        min-width: 8;
        text-style: bold;
    }
    Keypad .keypad-ok { column-span: 2; }
    """

    class Pressed(Message):
        """A key other than OK was touched: a digit, '-', ``Keypad.BACKSPACE`` or ``Keypad.CLEAR``."""

        def __init__(self, keypad: "Keypad", key: str) -> None:
            super().__init__()
            self.keypad = keypad
            self.key = key

        @property
        def control(self) -> "Keypad":
            return self.keypad

    class Submitted(Message):
        """OK was touched."""

        def __init__(self, keypad: "Keypad") -> None:
            super().__init__()
            self.keypad = keypad

        @property
        def control(self) -> "Keypad":
            return self.keypad

    @staticmethod
    def _literal(ch: str) -> Phrase:
        return lambda _t: ch        # a digit is the same in every language

    def compose(self) -> ComposeResult:
        for ch in "123456789-0":
            yield _Key(ch, self._literal(ch))
        yield _Key(self.BACKSPACE, lambda t: "⌫")
        yield _Key(self.CLEAR, lambda t: t.clear, variant="warning")
        yield _Key(self.OK, lambda t: t.ok, variant="success", classes="keypad-ok")

    @on(Button.Pressed, ".keypad-key")
    def _key_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button
        assert isinstance(button, _Key)
        key = button.key
        self.post_message(self.Submitted(self) if key == self.OK else self.Pressed(self, key))
