"""Helpers for driving the recipient screen: a simulated site, typing, waiting."""

from __future__ import annotations

import pytest

from kiosk.clock import ManualClock
from hwsim.site import start_site
from tests.support import wait_until_async

SIZE = (100, 34)


@pytest.fixture
async def gpio_site(tmp_path):
    """A started controller on the GPIO driver and its emulator, 6 lockers, a manual clock."""
    s = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=6)
    try:
        yield s
    finally:
        await s.controller.stop()


async def type_text(pilot, text: str) -> None:
    """Type ``text`` on the physical keyboard."""
    await pilot.press(*text)


async def wait_for(pilot, condition, what: str, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    await wait_until_async(condition, lambda: f"{what}; the screen is {type(pilot.app.screen).__name__}",
                           timeout=timeout, pause=lambda: pilot.pause(0.02))


def record_screens(app) -> list:
    """Every screen the app shows from now on, in order (call inside ``run_test``)."""
    seen: list = []
    app.screen_change_signal.subscribe(app, seen.append)
    return seen


async def wait_for_screen(pilot, screen_type, timeout: float = 10.0):
    """Wait until ``screen_type`` is showing and mounted; return it."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen_type) and pilot.app.screen.is_mounted,
                   screen_type.__name__, timeout)
    await pilot.pause()
    return pilot.app.screen
