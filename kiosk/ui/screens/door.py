"""A door is being opened: the locker number, huge, and what to do; then wait for the door.

The screen says only what the controller's evidence shows, never what a timer assumes:
"Opening door N…" until the door sensor reports the door open (a jammed door never does),
then "Door N is open — take your parcel". The parcel is collected (or delivered) when the
sensor has seen the door open and close again; a fault (the door did not open within the
open timeout) ends the wait. There is no inactivity timeout while the door is opening or
open: nobody may walk away from an open door and find the screen reset behind them. Once
the left-open alarm has gone off (staff have been told), the screen reminds the person to
close the door and then, if nobody touches it, goes back to the start for the next person.

A door shut on the parcel (the compartment's occupancy sensor says it is still inside:
``pickup_not_taken``) is not a collection: the screen says so and offers to open the door
once more (``reopen``, no secret, within the controller's window); when that is not
offered or has run out, it says to enter the trade number and secret again, and goes back
to the start after the site's inactivity timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message

from kiosk.errors import KioskError
from kiosk.service.api import Event
from kiosk.ui.events import ServiceEvent
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.texts import join
from kiosk.ui.widgets import BigNumber, SayButton, TopBar, Words

PICKUP: Final = "pickup"
DEPOSIT: Final = "deposit"


@dataclass(frozen=True)
class Opening:
    """One door opened for one parcel, and where its events start in the app's feed."""

    kind: Literal["pickup", "deposit"]
    locker: int
    trade_number: str
    since: int
    card: bool = False      # opened with the parcel's IC card: remind to take it from the reader
    others: tuple[int, ...] = ()   # the visit's other doors, opened with this one (issue 15 §1)
    sender: bool = False    # a deposit by someone sending a parcel (issue 15 §4), not by a courier


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
        self.opened = False          # the sensor has shown the door open
        self.left_open = False       # the left-open alarm went off
        self.still_inside = False    # the door was shut on the parcel (pickup_not_taken)
        self.others: list[int] = list(opening.others)   # the visit's other open doors

    def idle_after(self) -> float | None:
        # Waiting on a door: never. After the left-open alarm: the site's inactivity timeout.
        return self.kiosk.inactivity_s if self.left_open or self.still_inside else None

    def compose_main(self) -> ComposeResult:
        n = self.opening.locker
        title = (lambda t: t.pickup_title) if self.opening.kind == PICKUP else (lambda t: t.courier_title)
        yield TopBar(title)
        with Vertical(classes="door-body"):
            self.headline = Words(lambda t: t.door_opening.format(n=n), classes="door-headline")
            yield self.headline
            with Horizontal(classes="door-number"):
                yield Words(lambda t: t.door, classes="door-caption")
                yield BigNumber(n, classes="door-digits")
            self.instruction = Words(lambda t: t.wait_for_door.format(n=n), classes="door-instruction")
            yield self.instruction
            self.reminder = Words(classes="door-reminder")
            yield self.reminder
            # Not focusable until offered: a hidden button would take the screen's focus (and
            # with it the keys meant for the demo's door panel).
            self.again = SayButton(lambda t: t.open_again.format(n=n), variant="primary", action="screen.reopen",
                                   classes="door-again", focusable=False)
            with Horizontal(classes="door-again-row") as self.again_row:
                yield self.again
            self.again_row.display = False

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
        if (event.kind == "pickup_started" and event.data.get("with_locker") == self.opening.locker
                and event.data.get("locker") not in self.others):
            self.others.append(event.data["locker"])     # the same visit's next door (a phone code's too)
            if self.opened:
                self._say_open()
            return
        if event.data.get("locker") != self.opening.locker:
            return
        if self._completes(event):
            self._finish(self.Closed(self.opening))
        elif event.kind == "locker_fault":
            self._finish(self.Failed(self.opening, event.data.get("reason")))
        elif event.kind == "door_open":
            self._door_opened()
        elif event.kind == "pickup_not_taken" and event.data.get("trade_number") == self.opening.trade_number:
            self._left_inside(event.data.get("reopen_until") is not None)
        elif event.kind == "alarm" and event.data.get("alarm") == "left_open":
            n = self.opening.locker
            self.reminder.say(lambda t: t.close_reminder.format(n=n))
            self.kiosk.announce(self.reminder.phrase)
            self.add_class("-left-open")
            self.left_open = True
            self.kiosk.restart_idle_timer()   # staff have the alarm: the next person may come

    def _door_opened(self) -> None:
        if self.opened:
            return
        self.opened = True
        self._say_open()
        self.add_class("-open")
        self.kiosk.announce(self.headline.phrase, self.instruction.phrase)

    def _say_open(self) -> None:
        n = self.opening.locker
        self.headline.say(lambda t: t.door_is_open.format(n=n))
        if self.others:              # several parcels, one visit: every door of it is open
            doors = ", ".join(str(d) for d in (n, *self.others))
            self.headline.say(lambda t: t.doors_are_open.format(doors=doors))
            self.instruction.say(lambda t: t.take_all_and_close)
        elif self.opening.card:
            self.instruction.say(lambda t: join(t.take_card, t.take_and_close))
        else:
            self.instruction.say((lambda t: t.take_and_close) if self.opening.kind == PICKUP
                                 else (lambda t: t.put_and_close))

    def _left_inside(self, can_reopen: bool) -> None:
        n = self.opening.locker
        self.still_inside, self.opened = True, False
        self.remove_class("-open")
        self.add_class("-still-inside")
        self.headline.say(lambda t: t.still_inside.format(n=n))
        self.instruction.say((lambda t: t.open_again_hint) if can_reopen else (lambda t: t.still_inside_secret))
        self.reminder.say(None)
        self.again_row.display = can_reopen
        self.again.can_focus = can_reopen
        if can_reopen:
            self.again.focus()
        self.kiosk.announce(self.headline.phrase, self.instruction.phrase)
        self.kiosk.restart_idle_timer()

    def action_reopen(self) -> None:
        if self.still_inside and self.again_row.display:
            self.again_row.display = False
            self.again.can_focus = False
            self._reopen()

    @work(group="door-reopen")
    async def _reopen(self) -> None:
        n = self.opening.locker
        try:
            await self.service.reopen(self.opening.trade_number)
        except KioskError:
            self.instruction.say(lambda t: t.still_inside_secret)
            return
        self.still_inside = False
        self.remove_class("-still-inside")
        self.headline.say(lambda t: t.door_opening.format(n=n))
        self.instruction.say(lambda t: t.wait_for_door.format(n=n))
        self.kiosk.restart_idle_timer()

    def _completes(self, event: Event) -> bool:
        expected = "parcel_collected" if self.opening.kind == PICKUP else "parcel_arrived"
        return event.kind == expected and event.data.get("trade_number") == self.opening.trade_number

    def _finish(self, outcome: Message) -> None:
        self._finished = True
        self.post_message(outcome)
