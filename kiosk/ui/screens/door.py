"""A door is open: the locker number, huge, and what to do; then wait for the door.

The screen waits on the controller's evidence, never on a timer: the parcel is collected
(or delivered) when the door sensor has seen the door open and close again. Meanwhile a
left-open alarm turns into a reminder on the screen, and a fault (the door never opened)
ends the wait. There is no inactivity timeout here: nobody may walk away from an open
door and find the screen reset behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message

from kiosk.service.api import Event
from kiosk.ui.events import ServiceEvent
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import BigNumber, TopBar, Words

PICKUP: Final = "pickup"
DEPOSIT: Final = "deposit"


@dataclass(frozen=True)
class Opening:
    """One door opened for one parcel, and where its events start in the app's feed."""

    kind: Literal["pickup", "deposit"]
    locker: int
    trade_number: str
    since: int


class DoorOpenScreen(KioskScreen):
    """Door N is open — take (or put) the parcel and close the door."""

    class Closed(Message):
        """The door closed on the expected result: parcel collected / parcel arrived."""

        def __init__(self, opening: Opening) -> None:
            super().__init__()
            self.opening = opening

    class Failed(Message):
        """The controller recorded a fault for this opening (the door did not open)."""

        def __init__(self, opening: Opening, reason: str | None) -> None:
            super().__init__()
            self.opening = opening
            self.reason = reason

    def __init__(self, opening: Opening) -> None:
        super().__init__()
        self.opening = opening
        self._seen: set[int] = set()
        self._finished = False

    def idle_after(self) -> float | None:
        return None

    def compose_main(self) -> ComposeResult:
        n = self.opening.locker
        title = (lambda t: t.pickup_title) if self.opening.kind == PICKUP else (lambda t: t.courier_title)
        yield TopBar(title)
        with Vertical(classes="door-body"):
            yield Words(lambda t: t.door_is_open.format(n=n), classes="door-headline")
            with Horizontal(classes="door-number"):
                yield Words(lambda t: t.door, classes="door-caption")
                yield BigNumber(n, classes="door-digits")
            instruction = (lambda t: t.take_and_close) if self.opening.kind == PICKUP else (lambda t: t.put_and_close)
            yield Words(instruction, classes="door-instruction")
            self.reminder = Words(classes="door-reminder")
            yield self.reminder

    def on_mount(self) -> None:
        # Events that arrived while the previous screen was still showing.
        for message in self.kiosk.events.since(self.opening.since):
            self._handle(message)

    def on_service_event(self, message: ServiceEvent) -> None:
        self._handle(message)

    def _handle(self, message: ServiceEvent) -> None:
        if message.seq <= self.opening.since or message.seq in self._seen or self._finished:
            return
        self._seen.add(message.seq)
        event = message.event
        if event.data.get("locker") != self.opening.locker:
            return
        if self._completes(event):
            self._finish(self.Closed(self.opening))
        elif event.kind == "locker_fault":
            self._finish(self.Failed(self.opening, event.data.get("reason")))
        elif event.kind == "alarm" and event.data.get("alarm") == "left_open":
            n = self.opening.locker
            self.reminder.say(lambda t: t.close_reminder.format(n=n))
            self.add_class("-left-open")

    def _completes(self, event: Event) -> bool:
        expected = "parcel_collected" if self.opening.kind == PICKUP else "parcel_arrived"
        return event.kind == expected and event.data.get("trade_number") == self.opening.trade_number

    def _finish(self, outcome: Message) -> None:
        self._finished = True
        self.post_message(outcome)
