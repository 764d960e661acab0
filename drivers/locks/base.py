"""Shared behaviour of every LockBank driver; drivers fill narrow hooks.

The base class owns (with ``drivers.base.DeviceBase``: idempotent open/close, the context
manager, the closed-state check, the repr) subscriber fan-out, de-duplication of door
reports (a driver may report the same state on every poll; subscribers hear changes
only), door-number checks. A driver implements::

    _open_hw()      open the port/pins; drive every lock safe; must call _report() for
                    every door before returning (the first reading)
    _close_hw()     de-energise and release the hardware
    _unlock_hw(d)   fire one bounded pulse on door d (1-based)
    _make_safe_hw() de-energise every lock now
"""

from __future__ import annotations

import logging
import threading
from abc import abstractmethod
import time
from collections.abc import Callable

from drivers.base import DeviceBase
from kiosk.devices.roles import DoorChange, DoorState

log = logging.getLogger(__name__)


class LockBankBase(DeviceBase):
    def __init__(self, url: str, door_count: int):
        if door_count < 1:
            raise ValueError("a lock bank has at least one door")
        super().__init__(url)
        self._door_count = door_count
        self._states: dict[int, DoorState] = {d: DoorState.UNKNOWN for d in range(1, door_count + 1)}
        self._subscribers: list[Callable[[DoorChange], None]] = []
        self._state_lock = threading.Lock()

    # --- public API ----------------------------------------------------------------------

    @property
    def door_count(self) -> int:
        return self._door_count

    def unlock(self, door: int) -> None:
        self._check_door(door)
        self._check_open()
        self._unlock_hw(door)

    def make_safe(self) -> None:
        if self._is_open:
            self._make_safe_hw()

    def occupancy(self) -> dict[int, bool | None]:
        """Whether a parcel is inside each compartment; None where no sensor tells (the
        default: a bank without occupancy sensors)."""
        return dict.fromkeys(range(1, self.door_count + 1))

    def door_states(self) -> dict[int, DoorState]:
        with self._state_lock:
            return dict(self._states)

    def subscribe(self, callback: Callable[[DoorChange], None]) -> None:
        self._subscribers.append(callback)

    # --- DeviceBase hooks -----------------------------------------------------------------

    def _open_device(self) -> None:
        self._open_hw()

    def _close_device(self) -> None:
        try:
            self._close_hw()
        finally:
            with self._state_lock:
                for door in self._states:
                    self._states[door] = DoorState.UNKNOWN

    def _repr_details(self) -> str:
        return f"doors={self._door_count}"

    # --- for drivers ---------------------------------------------------------------------

    def _check_door(self, door: int) -> None:
        if not isinstance(door, int) or isinstance(door, bool) or not 1 <= door <= self._door_count:
            raise ValueError(f"door {door!r} is not in 1..{self._door_count}")

    def _report(self, door: int, state: DoorState, detail: str = "") -> None:
        """Record a reading; tell subscribers if it changed. Safe from any thread."""
        with self._state_lock:
            if self._states.get(door) == state:
                return
            self._states[door] = state
        change = DoorChange(door, state, time.monotonic(), detail)
        for callback in list(self._subscribers):
            try:
                callback(change)
            except Exception:  # a subscriber's bug must not kill the driver's thread
                log.exception("door-change subscriber failed on %s", change)

    @abstractmethod
    def _open_hw(self) -> None:
        """Open the port/pins, drive every lock safe and report every door."""

    @abstractmethod
    def _close_hw(self) -> None:
        """De-energise and release the hardware."""

    @abstractmethod
    def _unlock_hw(self, door: int) -> None:
        """Fire one bounded pulse on ``door`` (1-based)."""

    @abstractmethod
    def _make_safe_hw(self) -> None:
        """De-energise every lock now."""
