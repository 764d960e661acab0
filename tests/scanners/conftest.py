"""Fixtures for the scanner tests: a recording subscriber, a fake clock, a strict leak check.

Nothing here sleeps to let time pass: tests wait on a condition (a scan arriving, a
counter moving, health changing) with a timeout that is only reached when a test fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from tests.leaks import strict_no_leaks

from kiosk.devices import registry
from kiosk.devices.roles import Scan

WAIT = 10.0  # seconds; generous for a busy 2-core CI box, reached only by a failing test


@pytest.fixture(autouse=True)
def no_leaks():
    """Fail a test that leaves a thread running or a file descriptor open (tests/leaks.py)."""
    with strict_no_leaks():
        yield


class Recorder:
    """Subscriber keeping every Scan; tests wait on it instead of sleeping."""

    def __init__(self) -> None:
        self.scans: list[Scan] = []
        self.threads: set[str] = set()
        self._cv = threading.Condition()

    def __call__(self, scan: Scan) -> None:
        with self._cv:
            self.scans.append(scan)
            self.threads.add(threading.current_thread().name)
            self._cv.notify_all()

    @property
    def data(self) -> list[bytes]:
        with self._cv:
            return [s.data for s in self.scans]

    def wait_count(self, n: int, timeout: float = WAIT) -> list[Scan]:
        with self._cv:
            ok = self._cv.wait_for(lambda: len(self.scans) >= n, timeout)
            assert ok, f"expected {n} scans, got {[s.data for s in self.scans]}"
            return list(self.scans)


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT, what: str = "") -> None:
    """Poll ``predicate`` (a driver's counters or health, which nothing signals) until true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        time.sleep(0.005)


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
        recorder = Recorder()
        scanner.subscribe(recorder)
        if open_it:
            scanner.open()
        return scanner, recorder

    yield make
    for scanner in made:
        scanner.close()
