"""Fixtures for the scanner tests: scanners built from URLs, a fake clock. The waiting,
recording and leak-check helpers are in tests/support.py."""

from __future__ import annotations

import threading

import pytest

from kiosk.devices import registry
from tests.support import ScanRecorder


class FakeTime:
    """A monotonic clock the test moves: duplicate windows without waiting them out."""

    def __init__(self, start: float = 1000.0):
        self.t = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds


@pytest.fixture
def make_scanner():
    """Build, subscribe and (by default) open scanners from URLs; close them all afterwards."""
    made = []

    def make(url: str, open_it: bool = True, **context):
        scanner = registry.create("scanner", url, **context)
        made.append(scanner)
        recorder = ScanRecorder()
        scanner.subscribe(recorder)
        if open_it:
            scanner.open()
        return scanner, recorder

    yield make
    for scanner in made:
        scanner.close()
