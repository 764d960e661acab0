"""A recorded history for every emulator: what happened, when, in order.

Tests assert on it; the technician's panel shows it; scenarios summarise it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    monotonic: float
    source: str       # e.g. "kerong", "door 3"
    kind: str         # e.g. "rx", "tx", "unlock", "opened", "fault"
    detail: dict = field(default_factory=dict)


class History:
    """Thread-safe and bounded: a long-running emulator keeps the newest ``maxlen`` entries."""

    def __init__(self, maxlen: int = 200_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._grown = threading.Condition(self._lock)

    def record(self, source: str, kind: str, **detail) -> Entry:
        entry = Entry(time.monotonic(), source, kind, detail)
        with self._lock:
            self._entries.append(entry)
            self._grown.notify_all()
        return entry

    def wait_for(self, source: str | None, kind: str | None, count: int, timeout: float) -> bool:
        """Wait until ``count`` entries match (as ``count()`` counts them); False on timeout."""
        def enough() -> bool:
            return sum(1 for e in self._entries
                       if (source is None or e.source == source) and (kind is None or e.kind == kind)) >= count
        with self._lock:
            return self._grown.wait_for(enough, timeout)

    def entries(self, source: str | None = None, kind: str | None = None) -> list[Entry]:
        with self._lock:
            items = list(self._entries)
        return [e for e in items if (source is None or e.source == source) and (kind is None or e.kind == kind)]

    def count(self, source: str | None = None, kind: str | None = None) -> int:
        return len(self.entries(source, kind))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def format_entry(entry: Entry, since: float) -> str:
    """One line for a console: seconds since ``since``, source, kind, details."""
    detail = " ".join(f"{k}={v}" for k, v in entry.detail.items())
    return f"{entry.monotonic - since:9.3f} {entry.source:8} {entry.kind:13} {detail}"


class HistoryPrinter:
    """Prints a history's new entries as they appear (History has no listeners, so it is
    polled every ``interval`` s), leaving out those ``skip`` says are noise."""

    def __init__(self, history: History, say, skip=lambda entry: False, interval: float = 0.1):
        self._history, self._say, self._skip, self._interval = history, say, skip, interval
        self._printed = len(history)
        entries = history.entries()
        self._since = entries[0].monotonic if entries else time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="history-printer", daemon=True)
        self._thread.start()

    def flush(self) -> None:
        with self._lock:
            entries = self._history.entries()
            for entry in entries[self._printed:]:
                if not self._skip(entry):
                    self._say(format_entry(entry, self._since))
            self._printed = len(entries)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
