"""The simulator's door panel: every emulated locker door, and a hand on each of them.

A Textual widget for the demo and for technicians. It shows each door of a simulated
site's lock bank (open or shut, parcel inside or not, jammed or held open) and refreshes a
few times a second from the emulator's ``DoorBank``; its buttons do what a person at the
lockers would: close an open door, force a shut one open (tamper), jam or free a latch,
put a parcel in or take it out. ``c`` closes the door opened most recently.

It belongs to the simulator, not to the kiosk UI: it touches the emulated doors directly,
which no kiosk screen may ever do. The recipient app shows it beside its screens when the
demo passes it in (``RecipientApp(..., side_panel=lambda: DoorPanel(site))``).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from hwsim.doors import Door, DoorBank

REFRESH_S = 0.2


FAULT_WORDS = {"jammed": "JAMMED", "left_open": "HELD"}
LEGEND = "▣ parcel in   JAMMED latch stuck\nHELD will not shut"


def describe(door: Door) -> str:
    """One door in a few characters: " 3 OPEN ▣ JAMMED"."""
    state = "OPEN" if door.is_open else "shut"
    parcel = "▣" if door.occupied else " "
    faults = " ".join(FAULT_WORDS.get(f, f) for f in sorted(door.faults))
    return f"{door.number:>2} {state} {parcel} {faults}".rstrip()


class DoorRow(Horizontal):
    """One door's state and its buttons."""

    DEFAULT_CSS = """
    DoorRow { height: 1; width: 100%; }
    DoorRow > .door-state { width: 1fr; height: 1; }
    DoorRow.-open > .door-state { color: $warning; text-style: bold; }
    DoorRow.-jammed > .door-state { color: $error; }
    DoorRow > Button { min-width: 7; margin-left: 1; }
    """

    def __init__(self, door: Door) -> None:
        super().__init__()
        self.door = door
        self.state = Static("", classes="door-state", markup=False)
        self.open_close, self.jam, self.parcel = (Button("", compact=True) for _ in range(3))
        for button in (self.open_close, self.jam, self.parcel):
            button.active_effect_duration = 0  # no 0.2 s lock-out: a technician clicks fast
        self._shown: tuple | None = None

    def compose(self) -> ComposeResult:
        yield self.state
        yield self.open_close
        yield self.jam
        yield self.parcel

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        door = self.door
        seen = (door.is_open, door.occupied, frozenset(door.faults))
        if seen == self._shown:
            return
        self._shown = seen
        self.state.update(describe(door))
        self.set_class(door.is_open, "-open")
        self.set_class("jammed" in door.faults, "-jammed")
        self.open_close.label = "Close" if door.is_open else "Force"
        self.open_close.variant = "warning" if door.is_open else "default"
        self.jam.label = "Unjam" if "jammed" in door.faults else "Jam"
        self.parcel.label = "Take" if door.occupied else "Put"

    @on(Button.Pressed)
    def _act(self, event: Button.Pressed) -> None:
        event.stop()
        door = self.door
        if event.button is self.open_close:
            if not door.is_open:
                door.force_open()
            elif not door.close():
                self.notify(f"Door {door.number} is held open (HELD fault)", severity="warning")
        elif event.button is self.jam:
            door.set_fault("jammed", "jammed" not in door.faults)
        elif event.button is self.parcel:
            (door.take if door.occupied else door.put)()
        self.show()


class DoorPanel(Vertical):
    """All doors of a simulated site, refreshed ``REFRESH_S``; ``notes`` (e.g. the demo's
    parcels and secrets) are shown below them."""

    DEFAULT_CSS = """
    DoorPanel {
        width: 48;
        height: 1fr;
        background: $surface;
        padding: 0 1;
    }
    DoorPanel > .panel-title { text-style: bold; color: $secondary; height: 1; margin-bottom: 1; }
    DoorPanel > .panel-help { color: $text-muted; height: auto; margin-top: 1; }
    DoorPanel > .panel-rows { height: auto; }
    DoorPanel > .panel-notes { height: 1fr; margin-top: 1; border-top: solid $panel; }
    DoorPanel:focus-within > .panel-title { color: $accent; }
    Screen.-short DoorPanel > .panel-title { margin-bottom: 0; }
    Screen.-short DoorPanel > .panel-notes { margin-top: 0; }
    """

    BINDINGS = [Binding("c", "close_last", "Close last opened door")]

    def __init__(self, site, *, notes: str = "") -> None:
        """``site`` is a ``hwsim.site.SimSite`` (anything with a ``doors`` DoorBank will do)."""
        super().__init__()
        self.bank: DoorBank = site.doors
        self.notes = notes.strip()
        self.rows = [DoorRow(door) for door in self.bank.doors.values()]

    def compose(self) -> ComposeResult:
        yield Static("Simulated locker doors", classes="panel-title")
        with Vertical(classes="panel-rows"):
            yield from self.rows
        yield Static(f"{LEGEND}\nc  close the door opened last", classes="panel-help")
        if self.notes:
            with VerticalScroll(classes="panel-notes"):
                yield Static(self.notes, markup=False)

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self.refresh_doors)

    def refresh_doors(self) -> None:
        for row in self.rows:
            row.show()

    def last_opened(self) -> Door | None:
        """The open door whose latest opening is the most recent (from the emulator's history)."""
        for entry in reversed(self.bank.history.entries(kind="opened")):
            number = int(entry.source.split()[-1])
            door = self.bank.doors.get(number)
            if door is not None and door.is_open:
                return door
        return None

    def action_close_last(self) -> None:
        door = self.last_opened()
        if door is None:
            self.notify("No door is open")
        elif not door.close():
            self.notify(f"Door {door.number} is held open (HELD fault)", severity="warning")
        self.refresh_doors()
