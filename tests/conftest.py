"""Shared fixtures: a whole simulated pickup point on either lock driver, and leak checks."""

from __future__ import annotations

import random
import threading

import pytest

from kiosk.clock import ManualClock
from hwsim.site import start_site


@pytest.fixture(params=["kerong", "gpio"])
def lock_driver(request):
    """Run the test once per LockBank driver: each against its own emulator."""
    return request.param


@pytest.fixture
async def site(tmp_path, lock_driver):
    """A started controller with 6 lockers and the real driver of ``lock_driver``."""
    s = await start_site(tmp_path / "site", clock=ManualClock(), locks=lock_driver, doors=6)
    try:
        yield s
    finally:
        await s.controller.stop()


@pytest.fixture
def rng():
    return random.Random(1234)


@pytest.fixture(autouse=True)
def no_thread_leaks():
    """Fail a test that leaves a driver or emulator thread running (python-can's leak check)."""
    before = {t.ident for t in threading.enumerate()}
    yield
    import time
    deadline = time.monotonic() + 3.0
    while True:
        extra = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()
                 and not t.name.startswith(("asyncio_", "ThreadPoolExecutor", "hasher"))]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
