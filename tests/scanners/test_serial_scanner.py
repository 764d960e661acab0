"""The real serial scanner driver against the emulated scanner, over a pty."""

from __future__ import annotations

import os

import pytest
import serial

from drivers.scanners.serial_scanner import ScannerSerial
from hwsim.scanners.serial_scanner import SerialScannerSim
from kiosk.devices import registry
from kiosk.devices.roles import Scanner
from kiosk.errors import DeviceUnavailable, DeviceURLError

from tests.scanners.conftest import FakeTime
from tests.support import ScanRecorder, wait_until

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test


def test_scans_arrive_with_their_symbology_from_the_driver_thread(make_scanner):
    scanner, rec = make_scanner("sim+serial-scanner://?aim=1")
    assert isinstance(scanner, Scanner)
    scanner.sim.scan("1234-5678", "code128")
    scanner.sim.scan(b"F2:ABCDEFGH234567", "qr")
    scanner.sim.scan("010123456789012815", "datamatrix", identifier="]d2")
    scans = rec.wait_count(3)
    assert [(s.data, s.symbology) for s in scans] == [
        (b"1234-5678", "code128"), (b"F2:ABCDEFGH234567", "qr"), (b"010123456789012815", "datamatrix")]
    assert {s.source for s in scans} == {"sim+serial-scanner://?aim=1"}
    assert rec.threads == {f"serial-scanner {scanner.url}"}
    assert scanner.health()["ok"] and scanner.stats["scans"] == 3


@pytest.mark.parametrize("suffix", ["cr", "lf", "crlf", "tab"])
def test_every_suffix(make_scanner, suffix):
    scanner, rec = make_scanner(f"sim+serial-scanner://?suffix={suffix}")
    scanner.sim.scan("ABC")
    scanner.sim.scan("DEF")
    assert [s.data for s in rec.wait_count(2)] == [b"ABC", b"DEF"]
    assert {s.symbology for s in rec.scans} == {"unknown"}  # no AIM asked for


def test_bytes_split_as_a_usb_adapter_delivers_them(make_scanner):
    scanner, rec = make_scanner("sim+serial-scanner://?aim=1&chunk=3")
    codes = [f"CODE-{i:04d}-XYZ" for i in range(20)]
    for code in codes:
        scanner.sim.scan(code)
    assert [s.data.decode() for s in rec.wait_count(20)] == codes


def test_garbage_partial_and_overlong_are_dropped_and_counted(make_scanner):
    scanner, rec = make_scanner("sim+serial-scanner://?aim=1&max_len=256&gap_ms=100")
    sim = scanner.sim
    sim.garbage(40)
    sim.scan("GOOD-1")
    sim.overlong(1000)
    sim.scan("GOOD-2")
    sim.partial("NEVER-FINISHED")
    rec.wait_count(2)
    wait_until(lambda: scanner.stats["partial"] == 1, what="the partial frame to expire")
    sim.scan("GOOD-3")
    assert rec.wait_count(3) and rec.data == [b"GOOD-1", b"GOOD-2", b"GOOD-3"]
    stats = scanner.stats
    assert stats["garbage"] >= 1 and stats["overlong"] == 1 and stats["partial"] == 1
    assert stats["discarded_bytes"] >= 1040


def test_foreign_and_truncated_codes_are_well_framed_so_they_are_delivered(make_scanner):
    # Whether a code is ours is the tag codec's question, not the scanner's: it reports it.
    scanner, rec = make_scanner("sim+serial-scanner://?aim=1")
    scanner.sim.scan_foreign()
    scanner.sim.scan_truncated("F2:ABCDEFGHIJKLMNOP", keep=7)
    assert rec.wait_count(2) and rec.data == [b"https://example.com/p/8812", b"F2:ABCD"]


def test_duplicates_within_the_window_are_suppressed(make_scanner):
    clock = FakeTime()
    scanner, rec = make_scanner("sim+serial-scanner://?aim=1&dedupe_ms=1500", monotonic=clock)
    for _ in range(3):
        scanner.sim.scan("SAME")
    scanner.sim.scan("OTHER")
    rec.wait_count(2)
    wait_until(lambda: scanner.stats["duplicates"] == 2, what="two duplicates counted")
    clock.advance(1.0)
    scanner.sim.scan("SAME")           # 1 s after its last sighting: still a repeat
    wait_until(lambda: scanner.stats["duplicates"] == 3)
    clock.advance(1.6)
    scanner.sim.scan("SAME")           # away for a whole window: a new scan
    assert [s.data for s in rec.wait_count(3)] == [b"SAME", b"OTHER", b"SAME"]


def test_dedupe_off(make_scanner):
    scanner, rec = make_scanner("sim+serial-scanner://?dedupe_ms=0")
    for _ in range(3):
        scanner.sim.scan("SAME")
    assert len(rec.wait_count(3)) == 3


def test_unplug_and_replug_at_the_same_path(make_scanner):
    scanner, rec = make_scanner("sim+serial-scanner://?aim=1")
    sim = scanner.sim
    sim.scan("BEFORE")
    rec.wait_count(1)
    sim.partial("CUT-OFF-MID-")    # the cable goes mid-code...
    # ...after the driver got those bytes (a pty drops unread input when it closes):
    # they must not be glued to the first code after the reconnect.
    wait_until(lambda: scanner._framer.pending, what="the half frame to reach the driver")
    sim.disconnect()
    wait_until(lambda: scanner.health()["state"] == "reconnecting", what="the driver to notice")
    health = scanner.health()
    assert not health["ok"] and health["detail"] and health["disconnects"] == 1
    with pytest.raises(RuntimeError):
        sim.scan("NOBODY HEARS THIS")
    sim.reconnect()
    wait_until(lambda: scanner.health()["state"] == "connected", what="the driver to reopen the path")
    sim.scan("AFTER")
    assert rec.wait_count(2) and rec.data == [b"BEFORE", b"AFTER"]
    assert scanner.stats["reconnects"] == 1 and scanner.stats["partial"] == 1
    kinds = [e.kind for e in sim.history.entries("serial-scanner")]
    assert kinds[:2] == ["plugged", "scan"] and "unplugged" in kinds and kinds[-1] == "scan"


def test_several_unplugs_in_a_row(make_scanner):
    scanner, rec = make_scanner("sim+serial-scanner://")
    for i in range(3):
        scanner.sim.disconnect()
        wait_until(lambda: scanner.health()["state"] == "reconnecting")
        scanner.sim.reconnect()
        wait_until(lambda: scanner.health()["state"] == "connected")
        scanner.sim.scan(f"ROUND-{i}")
        rec.wait_count(i + 1)
    assert scanner.stats["reconnects"] == 3


def test_open_and_close_are_idempotent_and_close_is_prompt(make_scanner):
    scanner, rec = make_scanner("sim+serial-scanner://", open_it=False)
    assert scanner.health()["state"] == "closed"
    scanner.open()
    scanner.open()
    scanner.sim.scan("X")
    rec.wait_count(1)
    scanner.close()
    scanner.close()
    assert scanner.health()["state"] == "closed" and not scanner.is_open
    assert "closed" in repr(scanner)


def test_a_port_that_is_not_there():
    scanner = registry.create("scanner", "serial:///dev/serial/by-id/no-such-scanner")
    with pytest.raises(DeviceUnavailable, match="no-such-scanner"):
        scanner.open()
    assert not scanner.is_open


def test_a_plain_client_reads_what_the_emulator_sends():
    """A client nobody here wrote (pyserial's read_until) reads the emulator's frames."""
    with SerialScannerSim(aim=True) as sim:
        with serial.Serial(sim.path, 9600, timeout=2) as port:
            sim.scan("HELLO", "qr")
            assert port.read_until(b"\r\n") == b"]Q1HELLO\r\n"
        assert os.path.islink(sim.path)
    assert not os.path.exists(sim.path)


def test_the_driver_on_a_pty_directly():
    with SerialScannerSim(suffix="cr", aim=False) as sim:
        scanner = ScannerSerial(sim.path, suffix="cr", baud=115200)
        rec = ScanRecorder()
        scanner.subscribe(rec)
        with scanner:
            sim.scan("DIRECT")
            assert rec.wait_count(1)[0].data == b"DIRECT"


@pytest.mark.parametrize("url, problem", [
    ("serial://?baud=9600", "path"),
    ("serial:///dev/ttyACM0?suffix=semicolon", "suffix"),
    ("serial:///dev/ttyACM0?baud=12", "baud"),
    ("serial:///dev/ttyACM0?prefix=zz", "prefix"),
    ("serial:///dev/ttyACM0?aim=maybe", "aim"),
    ("serial:///dev/ttyACM0?baudrate=9600", "baudrate"),
    ("sim+serial-scanner://?chunk=-1", "chunk"),
])
def test_url_errors_name_the_problem(url, problem):
    with pytest.raises(DeviceURLError, match=problem):
        registry.check("scanner", url)
    with pytest.raises(DeviceURLError, match=problem):
        registry.create("scanner", url)


def test_check_accepts_a_full_url_without_hardware():
    registry.check("scanner", "serial:///dev/serial/by-id/usb-X-if00?baud=115200&suffix=cr&aim=1&prefix=02"
                              "&dedupe_ms=0&max_len=512&gap_ms=100&binary=1")
    registry.check("scanner", "sim+serial-scanner://?aim=1&chunk=8")
