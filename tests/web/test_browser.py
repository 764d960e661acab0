"""The staff screens in a real browser (issue 12 §6): ``kiosk serve counter|technician``
(textual-serve) on loopback, each connection its own ``kiosk screen`` process on kioskd's
socket, driven by headless Chromium through Playwright — Debian's chromium, no browser
download. What the page shows is drawn on a canvas, so each step is judged where it
lands: kioskd's database and audit log; and each screen is photographed
(``KIOSK_BROWSER_SHOTS=DIR`` keeps the pictures; docs/screens/browser-*.png were made so).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.domain.parcels import ParcelState
from tests.service.test_service_socket import CLERK_CODE, staff_config
from tests.support import wait_until_async
from tests.ui.conftest import TECH_CODE, technician_entry

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
SCANNER = "sim+serial-scanner://?aim=1"
SETTLE_S = 1.5      # a key's screen change reaching the page before the next key depends on it
# As the machine's own probe runs it: no sandbox as root, no calls home on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def site(tmp_path):
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: ./dev setup installs Debian's chromium (scripts/debian-packages.txt)")
    sock = tmp_path / "run" / "service.sock"
    extra = staff_config(sock) + technician_entry()
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=2, extra=extra,
                           scanner=SCANNER, desk_scanners=(SCANNER,))
    try:
        yield sim, sock
    finally:
        await sim.controller.stop()


class Served:
    """``kiosk serve ROLE`` running, and one Chromium page on it."""

    def __init__(self, role: str, sock: Path, shots: Path) -> None:
        self.role, self.sock, self.shots = role, sock, shots
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"

    async def __aenter__(self) -> "Served":
        from playwright.async_api import async_playwright
        env = {**os.environ, "XDG_STATE_HOME": str(self.shots / "state")}
        self.server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kiosk.cli", "serve", self.role, "--socket", str(self.sock),
            "--port", str(self.port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await wait_until_async(self._answers, f"kiosk serve {self.role} to answer", timeout=30)
        self._pw = await async_playwright().start()
        self.browser = await self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = await self.browser.new_page(viewport={"width": 1280, "height": 800})
        await self.page.goto(self.url)
        await self.page.wait_for_selector("body.-first-byte", timeout=30_000)   # the screen drew
        await self.page.click("#terminal")
        return self

    def _answers(self) -> bool:
        try:
            return httpx.get(self.url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    async def keys(self, text: str, *then: str) -> None:
        await self.page.keyboard.type(text)
        for key in then:
            await self.page.keyboard.press(key)

    async def shot(self, name: str) -> bytes:
        await asyncio.sleep(SETTLE_S)
        png = await self.page.screenshot()
        (self.shots / f"browser-{name}.png").write_bytes(png)
        keep = os.environ.get("KIOSK_BROWSER_SHOTS")
        if keep:
            shutil.copy(self.shots / f"browser-{name}.png", keep)
        return png

    async def __aexit__(self, *exc) -> None:
        await self.browser.close()
        await self._pw.stop()
        self.server.terminate()
        await asyncio.wait_for(self.server.wait(), timeout=10)


def signed_in(c, actor: str) -> bool:
    return any(e["actor"] == actor for e in c.site.db.audit_entries("staff_signed_in"))


async def test_counter_in_a_browser_sign_in_take_in_hand_over(site, tmp_path):
    sim, sock = site
    c = sim.controller
    [parcel] = await sim.add_parcels(1, random.Random(8), method="secret")
    async with Served("counter", sock, tmp_path) as web:
        await web.shot("counter-sign-in")
        await web.keys(CLERK_CODE, "Enter")
        await wait_until_async(lambda: signed_in(c, "clerk:clerk-ana"), "the clerk's sign-in", timeout=20)
        await web.shot("counter-desk")

        await web.page.keyboard.press("F5")                                # take in the courier's pile
        await asyncio.sleep(SETTLE_S)
        await web.keys(parcel.trade_number, "Enter")
        await wait_until_async(lambda: c.site.db.parcel(parcel.trade_number).state == ParcelState.ARRIVED,
                               "the parcel taken in", timeout=20)
        await web.shot("counter-take-in")
        await web.page.keyboard.press("Escape")                            # back at the desk

        c.scanner.sim.scan(parcel.trade_number, "code128")                 # the desk's scanner reads the label

        async def desk():
            return await c.counter_desk()
        await wait_until_async_value(desk, lambda s: s.label == parcel.trade_number, "the label at the desk")
        await asyncio.sleep(SETTLE_S)
        await web.keys(parcel.secret, "Enter")                             # the recipient's secret, typed
        await wait_until_async_value(desk, lambda s: s.verified is not None, "the verification")
        await web.shot("counter-verified")
        await web.page.keyboard.press("Enter")                             # Confirm has the focus
        await wait_until_async(lambda: c.site.db.parcel(parcel.trade_number).state == ParcelState.COLLECTED,
                               "the hand-over", timeout=20)
        png = await web.shot("counter-handed-over")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000          # a drawn screen, not a blank page
    assert [e["actor"] for e in c.site.db.audit_entries("parcel_collected")] == ["clerk:clerk-ana"]


async def test_technician_panel_in_a_browser_refuses_a_clerk_code(site, tmp_path):
    sim, sock = site
    c = sim.controller
    async with Served("technician", sock, tmp_path) as web:
        await web.keys(CLERK_CODE, "Enter")                                # a clerk's code: not here
        await wait_until_async(lambda: [e["detail"].get("reason") for e in c.site.db.audit_entries("staff_signed_out")]
                               == ["asked"], "the clerk's code turned away", timeout=20)
        await web.shot("technician-refused")
        await web.keys(TECH_CODE, "Enter")
        await wait_until_async(lambda: signed_in(c, "technician:tech-kim"), "the technician's sign-in", timeout=20)
        png = await web.shot("technician-status")
    assert len(png) > 20_000


async def wait_until_async_value(get, ok, what: str, timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not ok(await get()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
