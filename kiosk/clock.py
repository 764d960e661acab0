"""Clocks. The domain never reads the time itself: a ``Clock`` is passed in.

``SystemClock`` is wall time for production; ``ManualClock`` is advanced by tests and
scenarios, so nothing in a test ever sleeps on the wall clock.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, UTC
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (UTC)."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to. Thread-safe."""

    def __init__(self, start: float = 1_800_000_000.0):
        self._t = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._t += seconds
            return self._t

    def __repr__(self) -> str:
        return f"ManualClock({self._t!r})"


def iso(ts: float) -> str:
    """An ISO 8601 UTC timestamp with milliseconds, as used in events and the audit log."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
