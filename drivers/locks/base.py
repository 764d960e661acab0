"""Shared behaviour of every LockBank driver; drivers fill narrow hooks.

The base class owns: idempotent open/close, subscriber fan-out, de-duplication of door
reports (a driver may report the same state on every poll; subscribers hear changes
only), door-number checks, and the repr. A driver implements::

    _open_hw()      open the port/pins; drive every lock safe; must call _report() for
                    every door before returning (the first reading)
    _close_hw()     de-energise and release the hardware
    _unlock_hw(d)   fire one bounded pulse on door d (1-based)
    _make_safe_hw() de-energise every lock now
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
import time
from collections.abc import Callable

from kiosk.devices.roles import DoorChange, DoorState
from kiosk.errors import DeviceClosed

log = logging.getLogger(__name__)


class LockBankBase(ABC):
    def __init__(self, url: str, door_count: int):
        if door_count < 1:
            raise ValueError("a lock bank has at least one door")
        self.url = url
        self._door_count = door_count
        self._states: dict[int, DoorState] = {d: DoorState.UNKNOWN for d in range(1, door_count + 1)}
        self._subscribers: list[Callable[[DoorChange], None]] = []
        self._state_lock = threading.Lock()
        self._is_open = False
        self._open_lock = threading.Lock()

    # --- public API ----------------------------------------------------------------------

    @property
    def door_count(self) -> int:
        return self._door_count

    @property
    def is_open(self) -> bool:
        return self._is_open

    def open(self) -> None:
        with self._open_lock:
            if self._is_open:
                return
            self._open_hw()
            self._is_open = True

    def close(self) -> None:
        with self._open_lock:
            if not self._is_open:
                return
            self._is_open = False
            try:
                self._close_hw()
            finally:
                with self._state_lock:
                    for door in self._states:
                        self._states[door] = DoorState.UNKNOWN

    def unlock(self, door: int) -> None:
        self._check_door(door)
        if not self._is_open:
            raise DeviceClosed(f"{self!r} is not open")
        self._unlock_hw(door)

    def make_safe(self) -> None:
        if self._is_open:
            self._make_safe_hw()

    def door_states(self) -> dict[int, DoorState]:
        with self._state_lock:
            return dict(self._states)

    def subscribe(self, callback: Callable[[DoorChange], None]) -> None:
        self._subscribers.append(callback)

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._is_open else "closed"
        return f"<{type(self).__name__} {self.url!r} doors={self._door_count} {state}>"

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
