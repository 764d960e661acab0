"""The ends of a visit: "Thank you" after a pickup, or a message that needs staff.

Both go back to the start by themselves; a touch or a key goes back at once. A character
of a trade number typed here (the next person, or their scanner) starts their pickup with it,
as on the idle screen, so nothing they typed is lost.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button

from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.idle import CARRIED, FOCUS_KEYS
from kiosk.ui.texts import Say
from kiosk.ui.widgets import SayButton, TopBar, Words


class _EndScreen(KioskScreen):
    AUTO_FOCUS = None
    WARNS_BEFORE_IDLE = False   # it says itself that it goes back to the start

    def holds_keys_after(self, key: events.Key) -> bool:
        return key.key not in FOCUS_KEYS   # every other key leaves (on_key, or the focused button)

    def on_key(self, event: events.Key) -> None:
        if event.key in FOCUS_KEYS:
            return
        event.stop()
        if event.character and event.character in CARRIED:
            self.kiosk.start_pickup(event.character)
        else:
            self.kiosk.action_go_idle()

    def on_click(self, event: events.Click) -> None:
        self.kiosk.action_go_idle()

    @on(Button.Pressed)
    def _finish(self, event: Button.Pressed) -> None:
        event.stop()
        self.kiosk.action_go_idle()


class DoneScreen(_EndScreen):
    """The parcel is out and the door is shut."""

    def __init__(self, locker: int) -> None:
        super().__init__()
        self.locker = locker

    def idle_after(self) -> float | None:
        return self.kiosk.done_s

    def compose_main(self) -> ComposeResult:
        n = self.locker
        yield TopBar(lambda t: t.pickup_title)
        with Vertical(classes="end-body -done"):
            yield Words(lambda t: t.thank_you, classes="end-headline")
            yield Words(lambda t: t.door_closed.format(n=n), classes="end-text")
            yield Words(lambda t: t.returning, classes="hint")
            with Center():
                yield SayButton(lambda t: t.finish, variant="primary", classes="end-button")


class MessageScreen(_EndScreen):
    """Something the machine cannot solve: say so plainly, and who can help."""

    def __init__(self, headline: Say, text: Say, *, title: Say | None = None, problem: bool = True) -> None:
        """``problem`` False: good news (a hold extended), said the same plain way."""
        super().__init__()
        self.headline = headline
        self.text = text
        self.title_phrase = title
        self.problem = problem

    def compose_main(self) -> ComposeResult:
        yield TopBar(self.title_phrase)
        with Vertical(classes="end-body -problem" if self.problem else "end-body"):
            yield Words(self.headline, classes="end-headline")
            yield Words(self.text, classes="end-text")
            with Center():
                yield SayButton(lambda t: t.ok, variant="primary", classes="end-button")
