"""The counter desk of the tags-day scenario: a serial scanner and a camera, both real
drivers on their emulators, and the clerk's keyboard.

The serial scanner is the site's own: ``[devices] scanner = "sim+serial-scanner://?aim=1"``
in the config, so the controller opens it and routes each Scan to the counter itself
(``Controller._on_scan``). The controller takes one scanner, so the camera
(``sim+camera://``) is opened here and its scans forwarded with
``controller.counter_present(scan.data, source="scan")``, as ``_on_scan`` does.

Both drivers take the site's ManualClock as their monotonic clock: duplicate suppression
and the serial framer's gap timing run in the day's time, not in the seconds the run takes.
A read is judged by the bus events it causes (``counter_read``, ``counter_rejected``),
waited for with timeouts; a read that never reaches the counter (line noise, a frame cut
off, a label the camera cannot read) is seen in the driver's counters instead, and
counted as unreadable, as a "read refused" is.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from pathlib import Path

from hwsim.site import SimSite, write_config
from kiosk.clock import ManualClock
from kiosk.config import load
from kiosk.devices import registry
from kiosk.errors import KioskError, TagMalformed
from kiosk.service.controller import Controller

SERIAL_URL = "sim+serial-scanner://?aim=1"
CAMERA_URL = "sim+camera://?formats=qr,code128&fps=30"
READS = ("counter_read", "counter_rejected")
DROPS = ("garbage", "partial", "overlong", "empty")   # what the serial framer throws away
CAMERA_FRAMES = 45      # decoded frames a code may take before the clerk gives up (1.5 s at 30/s)
DAMAGED_FRAMES = 15     # a label known to be torn: the clerk tries for half a second
WAIT_S = 8.0            # a read that has not arrived by then is a finding (2-core CI: generous)
HARD = ("clean", "perspective", "rotation", "blur", "glare", "lowcon", "noise")


async def start_site(folder: Path, *, locks: str, doors: int) -> SimSite:
    """hwsim.site.start_site with the serial scanner in the site's config and the clock
    handed to the drivers."""
    path = write_config(folder, locks=locks, doors=doors, scanner=SERIAL_URL, desk_scanners=(SERIAL_URL,))
    clock = ManualClock()
    controller = Controller(load(path), clock=clock, device_context={"monotonic": clock.now})
    await controller.start()
    if controller.scanner is None:
        await controller.stop()
        raise RuntimeError(f"the site's scanner did not open: {controller.scanner_error}")
    return SimSite(controller, clock)


def outcome(event) -> str:
    """"tag", "label", "secret" for a read; "rejected:<reason>" for a refusal."""
    return event["read"] if event.kind == "counter_read" else f"rejected:{event['reason']}"


class Desk:
    """The reads at the counter. ``unreadable`` counts reads refused as unreadable or lost
    on the way; ``by_device`` counts reads that reached the counter, per device."""

    def __init__(self, sim: SimSite, rng: random.Random, problems: list[str]):
        self.sim, self.rng, self.problems = sim, rng, problems
        self.controller = sim.controller
        self.serial = sim.controller.scanner
        self.camera = None
        self.events = None
        self.unreadable = 0
        self.by_device = collections.Counter({"serial": 0, "camera": 0, "typed": 0})
        self._forwards: set[asyncio.Task] = set()

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self.events = self.controller.subscribe()
        self.serial.subscribe(lambda scan: self._count("serial"))
        self.camera = registry.create("scanner", CAMERA_URL, monotonic=self.sim.clock.now)
        self.camera.subscribe(lambda scan: loop.call_soon_threadsafe(self._forward, scan))
        await asyncio.to_thread(self.camera.open)

    async def close(self) -> None:
        if self.camera is not None:
            await asyncio.to_thread(self.camera.close)
        if self._forwards:
            await asyncio.gather(*self._forwards, return_exceptions=True)
        if self.events is not None:
            self.events.close()

    def _count(self, device: str) -> None:
        self.by_device[device] += 1   # the driver's thread; a Counter update under the GIL

    def _forward(self, scan) -> None:
        """The camera's scans to the counter desk, as the controller's own _on_scan does."""
        self._count("camera")

        async def present() -> None:
            try:
                await self.controller.counter_present(scan.data, source="scan")
            except KioskError:
                pass   # the counter published counter_rejected
        self._forwards.add(task := asyncio.create_task(present()))
        task.add_done_callback(self._forwards.discard)

    def moment(self) -> None:
        """The clerk picks up the next thing to scan: a few seconds of the day pass. What the
        bus said before (a verification's refusal) is no answer to this read."""
        self.sim.clock.advance(self.rng.uniform(2.0, 5.0))
        self.events.drain()

    def _judge(self, results: list[str]) -> list[str]:
        self.unreadable += sum(r == "rejected:unreadable" for r in results)
        return results

    # --- the keyboard ------------------------------------------------------------------------

    async def typed(self, text: str) -> str:
        self.by_device["typed"] += 1
        try:
            return outcome_of(await self.controller.counter_enter(text, field="label"))
        except TagMalformed:
            self.unreadable += 1
            return "rejected:unreadable"

    # --- the serial scanner ----------------------------------------------------------------------

    def _drops(self) -> int:
        stats = self.serial.stats
        return sum(stats.get(k, 0) for k in DROPS)

    async def serial_scan(self, data: str | bytes, symbology: str = "qr") -> str | None:
        """One good read of ``data``. The outcome, or None when it never reached the counter."""
        return await self.serial_do(lambda sim: sim.scan(data, symbology))

    async def serial_do(self, act) -> str | None:
        """``act(sim)`` sends something (a code, or a fault); wait until the counter answered
        or the framer threw it away (unreadable: None). A frame cut off is dropped only after
        the line has been quiet for the framer's gap, in the day's time: the clock moves on."""
        self.moment()
        drops = self._drops()
        act(self.serial.sim)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                return self._judge([outcome(await self.events.next(*READS, timeout=0.02))])[0]
            except TimeoutError:
                pass
            if self._drops() > drops:
                self.unreadable += 1
                return None
            self.sim.clock.advance(0.1)   # the clerk waits; a half frame times out
        self.problems.append("serial scanner: a read neither reached the counter nor was dropped")
        return None

    # --- the camera --------------------------------------------------------------------------------

    async def camera_show(self, show, expect: int, *, frames: int = CAMERA_FRAMES) -> list[str]:
        """``show(camera_sim)`` puts something in view; collect the counter's answers until
        ``expect`` arrived or ``frames`` frames were decoded, then take it away. Fewer
        answers than expected: the rest could not be read (counted unreadable)."""
        self.moment()
        start = self.camera.stats["decoded"]
        await asyncio.to_thread(show, self.camera.sim)
        results: list[str] = []
        deadline = time.monotonic() + WAIT_S
        while len(results) < expect and self.camera.stats["decoded"] - start < frames \
                and time.monotonic() < deadline:
            try:
                results.append(outcome(await self.events.next(*READS, timeout=0.02)))
            except TimeoutError:
                pass
        results += await self._camera_away()
        self.unreadable += max(0, expect - len(results))
        return self._judge(results)

    async def _camera_away(self) -> list[str]:
        """Take the code out of view and wait until the driver has decoded idle frames, so
        nothing of it is read again once the clock moves on (duplicates expire)."""
        await asyncio.to_thread(self.camera.sim.idle)
        seen = self.camera.stats["decoded"]
        deadline = time.monotonic() + WAIT_S
        late = []
        while self.camera.stats["decoded"] < seen + 3 and time.monotonic() < deadline:
            try:
                late.append(outcome(await self.events.next(*READS, timeout=0.02)))
            except TimeoutError:
                pass
        if self._forwards:
            await asyncio.gather(*list(self._forwards), return_exceptions=True)
        late += [outcome(e) for e in self.events.drain() if e.kind in READS]
        return late

    async def label(self, trade_number: str, tag: str | None, condition: str = "clean") -> list[str]:
        """A parcel label held up to the camera: its QR (the tag) and its Code 128."""
        return await self.camera_show(lambda cam: cam.show_parcel_label(trade_number, tag, condition),
                                      2 if tag else 1)

    async def code(self, data: str | bytes, condition: str = "clean", *, frames: int = CAMERA_FRAMES) -> list[str]:
        """One 2-D code held up to the camera (a tag sticker, a phone's screen)."""
        return await self.camera_show(lambda cam: cam.show(data, "qr", condition), 1, frames=frames)

    def hard(self) -> str:
        return self.rng.choice(HARD)


def outcome_of(answer) -> str:
    return answer.read
