"""Door physics shared by every lock-board emulator.

A locker door has a latch held by a solenoid lock, a spring that pushes the door ajar
when the latch lets go, a door sensor, and (on some boards) an infra-red occupancy
sensor. People act on doors through the control API (``close``, ``force_open``, ``put``,
``take``); the board emulator calls ``pulse`` when its lock output fires.

Fault modes, settable per door at any time:
- ``jammed``     a pulse does not release the latch (the door stays shut);
- ``left_open``  the person walks away: ``close()`` is ignored until the fault is cleared;
- forced opening is an action, ``force_open()``: the door opens with no pulse (tamper).

Timing, settable per door (``DoorBank.set_timing``): ``spring_ms``, how long after the
latch lets go the door sensor first reads open (0: at once), and ``shut_after_ms``, a quick
person who shuts the door that long after it opened (None: people close doors through the
control API). Together they make a door that opens and shuts between two status polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from hwsim.history import History

FAULTS = ("jammed", "left_open")


class Door:
    def __init__(self, number: int, history: History, min_pulse_ms: int = 50):
        self.number = number
        self.history = history
        self.min_pulse_ms = min_pulse_ms
        self.is_open = False
        self.occupied = False
        self.faults: set[str] = set()
        self.pulses = 0
        self.spring_ms = 0.0
        self.shut_after_ms: float | None = None
        self._listeners: list[Callable[["Door"], None]] = []
        self._lock = threading.RLock()

    @property
    def source(self) -> str:
        return f"door {self.number}"

    def on_change(self, listener: Callable[["Door"], None]) -> None:
        """``listener(door)`` is called after the door opens or closes (e.g. to drive a sensor pin)."""
        self._listeners.append(listener)

    # --- what the lock does --------------------------------------------------------------

    def pulse(self, ms: float) -> None:
        """The solenoid was energised for ``ms`` milliseconds."""
        with self._lock:
            self.pulses += 1
            self.history.record(self.source, "pulse", ms=round(ms, 1))
            if ms < self.min_pulse_ms:
                self.history.record(self.source, "pulse_too_short", ms=round(ms, 1))
                return
            if "jammed" in self.faults:
                self.history.record(self.source, "jammed_stays_shut")
                return
            if self.is_open:
                return
            if self.spring_ms > 0:
                self.history.record(self.source, "latch_released")
                self._after(self.spring_ms, self._spring_open)
            else:
                self._set_open(True, "released")

    def _spring_open(self) -> None:
        with self._lock:
            if not self.is_open:
                self._set_open(True, "released")

    def _after(self, ms: float, action: Callable[[], object]) -> None:
        timer = threading.Timer(ms / 1000, action)
        timer.name = f"{self.source} timing"
        timer.daemon = True
        timer.start()

    # --- what people do ------------------------------------------------------------------

    def close(self) -> bool:
        """A person pushes the door shut; the latch catches. False if the fault keeps it open."""
        with self._lock:
            if not self.is_open:
                return True
            if "left_open" in self.faults:
                self.history.record(self.source, "left_open")
                return False
            self._set_open(False, "closed")
            return True

    def force_open(self) -> None:
        """Somebody prises the door open with no command: tamper."""
        with self._lock:
            if not self.is_open:
                self._set_open(True, "forced")

    def put(self) -> None:
        with self._lock:
            self.occupied = True
            self.history.record(self.source, "parcel_in")
        self._tell()

    def take(self) -> None:
        with self._lock:
            self.occupied = False
            self.history.record(self.source, "parcel_out")
        self._tell()

    def _tell(self) -> None:
        for listener in list(self._listeners):
            listener(self)

    def set_fault(self, fault: str, on: bool = True) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown door fault {fault!r} (known: {', '.join(FAULTS)})")
        with self._lock:
            (self.faults.add if on else self.faults.discard)(fault)
            self.history.record(self.source, "fault", fault=fault, on=on)

    def _set_open(self, is_open: bool, why: str) -> None:
        self.is_open = is_open
        self.history.record(self.source, "opened" if is_open else "closed", why=why)
        if is_open and self.shut_after_ms is not None:
            self._after(self.shut_after_ms, self.close)
        self._tell()


class DoorBank:
    """The doors of one emulated locker bank, numbered 1..n, with one shared history."""

    def __init__(self, count: int, history: History | None = None):
        self.history = history if history is not None else History()
        self.doors = {n: Door(n, self.history) for n in range(1, count + 1)}

    def __getitem__(self, number: int) -> Door:
        try:
            return self.doors[number]
        except KeyError:
            raise ValueError(f"no door {number} (1..{len(self.doors)})") from None

    def __len__(self) -> int:
        return len(self.doors)

    # Control API used by tests, scenarios and the hwsim command line.
    def close(self, number: int) -> bool:
        return self[number].close()

    def force_open(self, number: int) -> None:
        self[number].force_open()

    def jam(self, number: int, on: bool = True) -> None:
        self[number].set_fault("jammed", on)

    def leave_open(self, number: int, on: bool = True) -> None:
        self[number].set_fault("left_open", on)

    def put(self, number: int) -> None:
        self[number].put()

    def set_timing(self, number: int, *, spring_ms: float = 0.0, shut_after_ms: float | None = None) -> None:
        """How door ``number`` moves (see the module docstring). Raises ValueError."""
        if spring_ms < 0 or (shut_after_ms is not None and shut_after_ms < 0):
            raise ValueError("door timings are not negative")
        door = self[number]
        door.spring_ms, door.shut_after_ms = spring_ms, shut_after_ms
        self.history.record(door.source, "timing", spring_ms=spring_ms, shut_after_ms=shut_after_ms)

    def take(self, number: int) -> None:
        self[number].take()
