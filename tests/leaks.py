"""The strict leak check for driver and emulator tests (python-can's leak-check idea).

Stricter than the suite-wide thread check in tests/conftest.py, which gives threads 3 s
to end: a driver's close() and an emulator's stop() join their threads and close their
descriptors, so nothing may outlive them.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager


@contextmanager
def strict_no_leaks():
    """Fail if the block leaves a thread running or a file descriptor (pty, port, pipe) open."""
    threads = set(threading.enumerate())
    fds = set(os.listdir("/proc/self/fd"))
    yield
    leaked = [t.name for t in threading.enumerate() if t not in threads]
    assert not leaked, f"threads left running: {leaked}"
    left_open = set(os.listdir("/proc/self/fd")) - fds
    assert not left_open, f"file descriptors left open: {sorted(left_open)}"
