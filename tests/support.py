"""What many tests share: waiting on a condition, recording what a device reports, leak checks.

Nothing here sleeps to let time pass: a test waits on a condition (a scan arriving, a door
reported, a counter moving) with a timeout that is only reached when the test fails, so a
slow machine is slower, not flaky.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from kiosk.devices.roles import DoorChange, DoorState, Scan

WAIT = 10.0   # seconds; generous for a busy 2-core CI box, reached only by a failing test
POLL = 0.005  # seconds between two looks at a condition nothing signals

T = TypeVar("T")


# --- waiting ---------------------------------------------------------------------------------

def wait_until(predicate: Callable[[], object], what: str = "", *, timeout: float = WAIT) -> None:
    """Poll ``predicate`` (a counter, a health report: things nothing signals) until it holds.
    Fails after ``timeout`` seconds, naming ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        time.sleep(POLL)


async def wait_until_async(predicate: Callable[[], object], what: str | Callable[[], str] = "", *,
                           timeout: float = WAIT, pause: Callable[[], Awaitable[object]] | None = None) -> None:
    """``wait_until`` for a test running in the event loop: the loop keeps running while it
    waits. ``pause`` replaces ``asyncio.sleep(POLL)`` (e.g. a Textual pilot's ``pause``);
    ``what`` may be a function, asked for the failure message only when it fails."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            text = what() if callable(what) else what
            raise AssertionError(f"timed out waiting for {text or predicate}")
        await (pause() if pause is not None else asyncio.sleep(POLL))


# --- recording what a device reports ---------------------------------------------------------

class Recorder(Generic[T]):
    """A subscriber keeping everything it is called with, and the threads it was called from;
    tests wait on it instead of sleeping."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self.threads: set[str] = set()   # names of the threads the items came from
        self._cv = threading.Condition()

    def __call__(self, item: T) -> None:
        with self._cv:
            self.items.append(item)
            self.threads.add(threading.current_thread().name)
            self._cv.notify_all()

    def mark(self) -> int:
        """A position to look from later (``since``, ``wait_for``)."""
        with self._cv:
            return len(self.items)

    def wait(self, found: Callable[[list[T]], T | bool | None], what: str, timeout: float = WAIT):
        """Wait until ``found(items)`` is truthy and return it; fail naming ``what``."""
        with self._cv:
            result = self._cv.wait_for(lambda: found(self.items), timeout)
            assert result, f"{what}; saw {self.items}"
            return result

    def wait_count(self, n: int, timeout: float = WAIT) -> list[T]:
        """Wait for at least ``n`` items; return all of them."""
        self.wait(lambda items: len(items) >= n, f"expected {n} items, got {len(self.items)}", timeout)
        with self._cv:
            return list(self.items)


class ScanRecorder(Recorder[Scan]):
    """Records a Scanner's scans."""

    @property
    def scans(self) -> list[Scan]:
        return self.items

    @property
    def data(self) -> list[bytes]:
        with self._cv:
            return [s.data for s in self.items]


class DoorRecorder(Recorder[DoorChange]):
    """Records a LockBank's door changes."""

    @property
    def changes(self) -> list[DoorChange]:
        return self.items

    def since(self, mark: int, door: int | None = None) -> list[DoorChange]:
        with self._cv:
            return [c for c in self.items[mark:] if door is None or c.door == door]

    def wait_for(self, door: int, state: DoorState, since: int = 0, timeout: float = WAIT) -> DoorChange:
        """The first change of ``door`` to ``state`` after ``since`` (waiting for it)."""
        def match(items):
            return next((c for c in items[since:] if c.door == door and c.state is state), None)
        return self.wait(match, f"door {door} never reported {state.value}", timeout)


# --- leaks (python-can's leak-check idea) ----------------------------------------------------

# Threads a test may leave to end on their own: the event loop's executor and the hasher pool.
POOL_THREADS = ("asyncio_", "ThreadPoolExecutor", "hasher")


@contextmanager
def no_thread_leaks(grace: float = 3.0) -> Iterator[None]:
    """Fail if the block leaves a thread (other than a pool's) running ``grace`` seconds later."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + grace
    while True:
        extra = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()
                 and not t.name.startswith(POOL_THREADS)]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@contextmanager
def strict_no_leaks() -> Iterator[None]:
    """Fail if the block leaves a thread running or a file descriptor (pty, port, pipe) open.

    For driver and emulator tests: a driver's close() and an emulator's stop() join their
    threads and close their descriptors, so nothing may outlive them, not even briefly."""
    threads = set(threading.enumerate())
    fds = set(os.listdir("/proc/self/fd"))
    yield
    leaked = [t.name for t in threading.enumerate() if t not in threads]
    assert not leaked, f"threads left running: {leaked}"
    left_open = set(os.listdir("/proc/self/fd")) - fds
    assert not left_open, f"file descriptors left open: {sorted(left_open)}"
