"""The Scanner role's contract (kiosk/devices/roles.py), written once and run against every
implementation.

Each implementation is reached the way the controller reaches it, through the registry by
URL, wherever a URL can reach a device here: the ``sim+…`` ones (the real drivers on their
emulators), ``serial://`` on the emulated scanner's pty and ``camera://`` on an image
sequence read by OpenCV's own VideoCapture. ``hid://`` needs an evdev node, which a
container has not, so the real keyboard-wedge class is built directly on the emulated
node. A rig says, per implementation, how the device is made to read a code and to send
garbage, and which counters count what it drops.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import pytest

from drivers.scanners.hid import ScannerHid
from hwsim.scanners import frames
from hwsim.scanners.keyboard import KeyboardWedgeSim
from hwsim.scanners.serial_scanner import SerialScannerSim
from kiosk.devices import registry
from kiosk.devices.roles import Scan, Scanner
from kiosk.errors import DeviceError, DeviceURLError
from tests.support import ScanRecorder, wait_until

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test

CODES = [b"1234-5678", b"F2:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE", b"9999-0001"]


class Rig:
    """One implementation: builds the scanner and plays the device's side."""

    garbage_counters: tuple[str, ...] = ()   # stats that count what the garbage was dropped as
    live = True                              # False: the codes are recorded before open()

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path

    def make(self, codes: list[bytes] = CODES):
        """The scanner, built and not opened (``codes``: for a recorded rig, what it will read)."""
        raise NotImplementedError

    def read(self, scanner, code: bytes) -> None:
        """Make the device read ``code`` (a live rig: now, twice, as a held trigger does)."""

    def garbage(self, scanner) -> None:
        """Make the device send something that is not a code."""

    def unplug(self, scanner) -> None:
        raise NotImplementedError

    def replug(self, scanner) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Release what the rig itself started."""

    def dropped(self, scanner) -> int:
        stats = scanner.stats
        return sum(stats[key] for key in self.garbage_counters)


class SerialRig(Rig):
    """The serial driver on the emulated scanner: ``sim+serial-scanner://``."""

    garbage_counters = ("garbage", "empty")
    url = "sim+serial-scanner://?aim=1"

    def make(self, codes=CODES):
        return registry.create("scanner", self.url)

    def sim(self, scanner) -> SerialScannerSim:
        return scanner.sim

    def read(self, scanner, code):
        self.sim(scanner).scan(code, "qr")
        self.sim(scanner).scan(code, "qr")

    def garbage(self, scanner):
        self.sim(scanner).garbage(40)

    def unplug(self, scanner):
        self.sim(scanner).disconnect()

    def replug(self, scanner):
        self.sim(scanner).reconnect()


class RealSerialRig(SerialRig):
    """``serial://`` on the emulated scanner's stable path, the emulator started here."""

    def __init__(self, tmp_path):
        super().__init__(tmp_path)
        self._sim = SerialScannerSim(aim=True).start()

    def make(self, codes=CODES):
        return registry.create("scanner", f"serial://{self._sim.path}?aim=1")

    def sim(self, scanner):
        return self._sim

    def stop(self):
        self._sim.stop()


class HidRig(Rig):
    """The keyboard-wedge driver on the emulated input node: ``sim+hid://``. With AIM on, a
    code typed without its identifier is the noise a keyboard wedge can produce."""

    garbage_counters = ("garbage",)

    def make(self, codes=CODES):
        return registry.create("scanner", "sim+hid://?aim=1")

    def sim(self, scanner) -> KeyboardWedgeSim:
        return scanner.sim

    def read(self, scanner, code):
        self.sim(scanner).scan(code, "qr")
        self.sim(scanner).scan(code, "qr")

    def garbage(self, scanner):
        self.sim(scanner).scan("NO-AIM-IDENTIFIER")

    def unplug(self, scanner):
        self.sim(scanner).disconnect()

    def replug(self, scanner):
        self.sim(scanner).reconnect()


class RealHidRig(HidRig):
    """The ``hid://`` driver class, on the emulated node instead of python-evdev's."""

    def __init__(self, tmp_path):
        super().__init__(tmp_path)
        self._sim = KeyboardWedgeSim()

    def make(self, codes=CODES):
        return ScannerHid(self._sim.path, aim=True, opener=self._sim.open_device)

    def sim(self, scanner):
        return self._sim


class CameraRig(Rig):
    """The camera driver on the emulated camera: ``sim+camera://``. A code is held in view
    until the camera has read it and seen it again; garbage is a counter with print and
    no code on it."""

    garbage_counters = ("empty",)

    def make(self, codes=CODES):
        return registry.create("scanner", "sim+camera://?width=640&height=480&fps=60&formats=qr")

    def read(self, scanner, code):
        before = scanner.stats["duplicates"]
        scanner.sim.show(code, "qr")
        wait_until(lambda: scanner.stats["duplicates"] > before, f"{code!r} to be read and seen again")

    def garbage(self, scanner):
        scanner.sim.idle()
        seen = scanner.stats["decoded"]
        wait_until(lambda: scanner.stats["decoded"] >= seen + 3, "the idle counter to be looked at")

    def unplug(self, scanner):
        scanner.sim.unplug()

    def replug(self, scanner):
        scanner.sim.replug()


class RealCameraRig(Rig):
    """``camera://`` on an image sequence (OpenCV's image backend): each code in a few
    frames in a row, idle frames between, replayed from the start when it ends. The
    sequence is recorded before open(), so this rig cannot read on demand."""

    garbage_counters = ("empty",)
    live = False

    def make(self, codes=CODES):
        seq = self.tmp_path / "frames"
        seq.mkdir(exist_ok=True)
        shots = [None] + [c for code in codes for c in (code,) * 3 + (None,)]
        for n, payload in enumerate(shots):
            cv2.imwrite(str(seq / f"frame_{n:03d}.png"), frames.render_frame(640, 480, payload, seed=n))
        # A window longer than the test: every replay of the sequence is a repeat.
        return registry.create("scanner", f"camera://{seq}/frame_%2503d.png?backend=images&fps=30"
                                          "&formats=qr&dedupe_ms=600000")

    def unplug(self, scanner):
        (self.tmp_path / "frames").rename(self.tmp_path / "unplugged")

    def replug(self, scanner):
        (self.tmp_path / "unplugged").rename(self.tmp_path / "frames")


RIGS = {"sim+serial-scanner": SerialRig, "serial": RealSerialRig, "sim+hid": HidRig, "hid": RealHidRig,
        "sim+camera": CameraRig, "camera": RealCameraRig}


def test_every_registered_scheme_has_a_rig():
    assert set(RIGS) == set(registry.schemes("scanner"))


@pytest.fixture(params=sorted(RIGS))
def rig(request, tmp_path):
    rig = RIGS[request.param](tmp_path)
    yield rig
    rig.stop()


@pytest.fixture
def scanner(rig):
    scanner = rig.make()
    yield scanner
    scanner.close()


def play(rig, scanner, codes=CODES) -> None:
    """The device reads ``codes`` with garbage before each (a recorded rig: already did)."""
    if rig.live:
        for code in codes:
            rig.garbage(scanner)
            rig.read(scanner, code)


# --- the role ----------------------------------------------------------------------------------

def test_is_a_scanner(scanner):
    assert isinstance(scanner, Scanner)
    assert type(scanner).__name__ in repr(scanner)
    health = scanner.health()
    assert (health["state"], health["ok"]) == ("closed", False)


def test_open_and_close_are_idempotent(scanner):
    scanner.open()
    scanner.open()
    assert scanner.health()["state"] == "connected" and scanner.health()["ok"]
    scanner.close()
    scanner.close()
    assert scanner.health()["state"] == "closed" and not scanner.health()["ok"]


def test_closing_what_was_never_opened(scanner):
    scanner.close()
    scanner.close()
    assert scanner.health()["state"] == "closed"


def test_a_context_manager_opens_and_closes(scanner):
    with scanner as same:
        assert same is scanner and scanner.health()["ok"]
    assert scanner.health()["state"] == "closed"


def test_each_code_is_delivered_once_to_each_subscriber(rig, scanner):
    first, second = ScanRecorder(), ScanRecorder()
    scanner.subscribe(first)
    scanner.subscribe(second)
    scanner.open()
    play(rig, scanner)
    first.wait_count(len(CODES))
    if rig.live:   # every code was read twice
        wait_until(lambda: scanner.stats["duplicates"] >= len(CODES), "the repeats to be counted")
    else:          # the whole sequence has been replayed once more
        wait_until(lambda: scanner.stats["reconnects"] >= 1 and scanner.stats["scans"] == len(CODES)
                   and scanner.stats["duplicates"] >= len(CODES), "a replay of the sequence")
    assert first.data == CODES and second.data == CODES
    assert scanner.stats["scans"] == len(CODES)
    for scan in first.scans:
        assert isinstance(scan, Scan) and scan.source == scanner.url
        assert scan.symbology == "qr" and isinstance(scan.monotonic, float)
    # from a thread the driver owns, not the caller's
    assert first.threads == second.threads and threading.current_thread().name not in first.threads


def test_garbage_is_dropped_and_counted(rig, scanner):
    rec = ScanRecorder()
    scanner.subscribe(rec)
    before = rig.dropped(scanner)
    scanner.open()
    play(rig, scanner)
    rec.wait_count(len(CODES))
    wait_until(lambda: rig.dropped(scanner) >= before + len(CODES), "the garbage to be counted")
    assert rec.data == CODES


def test_health_names_the_same_counters_from_the_start(rig, scanner):
    """health() reads zeros, not absences: a counter is there before it ever moves."""
    rec = ScanRecorder()
    scanner.subscribe(rec)
    at_first = scanner.health()
    scanner.open()
    play(rig, scanner)
    rec.wait_count(len(CODES))
    wait_until(lambda: rig.dropped(scanner) >= len(CODES), "the garbage to be counted")
    after = scanner.health()
    assert set(after) == set(at_first)
    for key in ("scans", "duplicates", "disconnects", "reconnects", "errors", *rig.garbage_counters):
        assert at_first[key] == 0 and isinstance(after[key], int)
    assert isinstance(after["detail"], str) and isinstance(after["since"], float)


def test_a_subscriber_that_raises_does_not_stop_delivery(rig, scanner):
    def broken(scan):
        raise RuntimeError("subscriber bug")

    scanner.subscribe(broken)
    rec = ScanRecorder()
    scanner.subscribe(rec)
    scanner.open()
    play(rig, scanner)
    rec.wait_count(len(CODES))
    assert rec.data == CODES and scanner.health()["ok"]


def test_a_device_that_is_not_there_is_an_error_and_leaves_it_closed(rig, scanner):
    rig.unplug(scanner)
    with pytest.raises(DeviceError):
        scanner.open()
    assert scanner.health()["state"] == "closed" and not scanner.is_open
    rig.replug(scanner)
    scanner.open()                       # a failed open leaves nothing half-open behind
    assert scanner.health()["ok"]


def test_a_device_that_goes_away_is_reported_then_reopened(rig, scanner):
    if not rig.live:
        pytest.skip("an image sequence ends and restarts by itself")
    rec = ScanRecorder()
    scanner.subscribe(rec)
    scanner.open()
    rig.unplug(scanner)
    wait_until(lambda: scanner.health()["state"] == "reconnecting", "the driver to notice")
    health = scanner.health()
    assert not health["ok"] and health["detail"]
    rig.replug(scanner)
    wait_until(lambda: scanner.health()["state"] == "connected", "the driver to reopen the device")
    rig.read(scanner, CODES[0])
    assert rec.wait_count(1) and rec.data == CODES[:1]
    assert scanner.stats["disconnects"] >= 1 and scanner.stats["reconnects"] >= 1


@pytest.mark.parametrize("url", ["sim+serial-scanner://?colour=red", "sim+hid://?colour=red",
                                 "sim+camera://?colour=red", "serial:///dev/ttyACM0?colour=red",
                                 "hid:///dev/input/event0?colour=red", "camera:///dev/video0?colour=red",
                                 "sim+serial-scanner://?suffix=semicolon", "sim+hid://?layout=klingon",
                                 "sim+camera://?fps=0", "serial://", "hid://host/x", "camera://"])
def test_bad_urls_are_refused_with_the_reason(url):
    with pytest.raises(DeviceURLError):
        registry.check("scanner", url)
    with pytest.raises(DeviceURLError):
        registry.create("scanner", url)
