"""Helpers for driving the recipient screen: a simulated site, typing, waiting."""

from __future__ import annotations

import contextlib

import pytest

from kiosk.clock import ManualClock
from kiosk.security.secrets import hash_secret
from kiosk.service.socket_client import ServiceClient
from hwsim.site import FAST_HASH, start_site
from tests.support import wait_until_async

TECH_CODE = "86420"


def technician_entry() -> str:
    """One ``[[staff]]`` technician, tech-kim, whose code is TECH_CODE."""
    return f"""
[[staff]]
id = "tech-kim"
role = "technician"
code_hash = "{hash_secret(TECH_CODE, FAST_HASH)}"
"""


def technician_staff(sock) -> str:
    """``[service]`` on ``sock`` and the technician of ``technician_entry``."""
    return f'\n[service]\nsocket = "{sock}"\n' + technician_entry()


@contextlib.asynccontextmanager
async def technician_site(tmp_path, **site):
    """A started simulated site and a client on its socket signed in as the technician."""
    sock = tmp_path / "run" / "service.sock"
    sim = await start_site(tmp_path / "site", clock=ManualClock(), extra=technician_staff(sock), **site)
    client = await ServiceClient.connect(sock)
    try:
        assert await client.sign_in(TECH_CODE) == "technician"
        yield sim, client
    finally:
        await client.close()
        await sim.controller.stop()

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
