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

    def record(self, source: str, kind: str, **detail) -> Entry:
        entry = Entry(time.monotonic(), source, kind, detail)
        with self._lock:
            self._entries.append(entry)
        return entry

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
