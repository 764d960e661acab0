"""The start: one big "Collect a parcel", a small "Courier drop-off", the language.

Any key or any touch outside the other buttons starts a pickup; a character of a trade
number typed here is carried into the trade number field, so nobody's first key is lost.
A recipient may instead hold the code from their notice to the camera: the app then goes
straight to the open door (``RecipientApp``, ``pickup_started`` from a scan).
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Center, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button

from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import LanguageToggle, SayButton, TopBar, Words

CARRIED = set("0123456789-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
FOCUS_KEYS = {"tab", "shift+tab"}
_PRESS_KEYS = {"enter", "space"}


class IdleScreen(KioskScreen):
    """Waiting for the next person."""

    AUTO_FOCUS = None  # keys go to the screen: any key starts

    class CollectChosen(Message):
        """Start a pickup; ``typed`` is a first character already typed."""

        def __init__(self, typed: str = "") -> None:
            super().__init__()
            self.typed = typed

    class CourierChosen(Message):
        """Start a courier drop-off."""

    class SendChosen(Message):
        """Someone sends a parcel with a drop-off code."""

    def idle_after(self) -> float | None:
        return None

    def compose_main(self) -> ComposeResult:
        yield TopBar(lambda t: t.welcome)
        with Vertical(classes="idle-body"):
            with Center():
                self.collect = SayButton(lambda t: t.collect, variant="primary", classes="idle-collect")
                yield self.collect
            yield Words(lambda t: t.collect_hint, classes="hint idle-hint -first")
            if self.kiosk.reads_codes:
                yield Words(lambda t: t.scan_hint, classes="hint idle-hint")
            with Horizontal(classes="idle-row"):
                if len(self.kiosk.languages) > 1:
                    yield LanguageToggle(classes="language-toggle idle-language")
                self.send = SayButton(lambda t: t.send_parcel, classes="idle-send")
                yield self.send
                self.courier = SayButton(lambda t: t.courier, classes="idle-courier")
                yield self.courier

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button is self.collect:
            self.post_message(self.CollectChosen())
        elif event.button is self.courier:
            self.post_message(self.CourierChosen())
        elif event.button is self.send:
            self.post_message(self.SendChosen())

    def _starts(self, key: events.Key) -> bool:
        """Any key starts a pickup but moving between the buttons or pressing the focused one."""
        return not (key.key in FOCUS_KEYS or (self.focused is not None and key.key in _PRESS_KEYS))

    def holds_keys_after(self, key: events.Key) -> bool:
        return self._starts(key)

    def on_key(self, event: events.Key) -> None:
        if not self._starts(event):
            return
        event.stop()
        typed = event.character if event.character in CARRIED else ""
        self.post_message(self.CollectChosen(typed))

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.CollectChosen())
