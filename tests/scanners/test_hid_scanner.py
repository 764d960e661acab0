"""The real keyboard-wedge driver against the emulated input-event stream."""

from __future__ import annotations

import os

import pytest

from drivers.scanners.evdev_device import EvdevDevice
from drivers.scanners.hid import ScannerHid
from hwsim.scanners.keyboard import KeyboardWedgeSim
from kiosk.devices import registry
from kiosk.devices.roles import Scanner
from kiosk.errors import DeviceInitError, DeviceUnavailable, DeviceURLError

from tests.scanners.conftest import FakeTime
from tests.support import ScanRecorder, wait_until

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test


def test_scans_are_decoded_and_the_device_is_grabbed(make_scanner):
    scanner, rec = make_scanner("sim+hid://")
    assert isinstance(scanner, Scanner)
    sim = scanner.sim
    assert sim.grabbed
    sim.scan("1234-5678")
    sim.scan("F2:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE")
    assert rec.wait_count(2) and rec.data == [b"1234-5678", b"F2:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE"]
    assert sim.leaked == []  # nothing reached the console
    assert rec.threads == {f"hid-scanner {scanner.url}"}
    assert scanner.stats["scans"] == 2 and scanner.health()["ok"]
    assert [e.kind for e in sim.history.entries("hid-scanner")][:2] == ["opened", "grabbed"]


def test_without_grab_the_keys_leak_to_the_console(make_scanner):
    scanner, rec = make_scanner("sim+hid://?grab=0")
    scanner.sim.scan("VISIBLE")
    assert rec.wait_count(1)[0].data == b"VISIBLE"  # the driver still reads it...
    assert scanner.sim.leaked and scanner.sim.history.count("hid-scanner", "leaked")  # ...and so does everyone
    assert "NOT grabbed" in repr(scanner)


def test_close_releases_the_grab(make_scanner):
    scanner, rec = make_scanner("sim+hid://")
    scanner.close()
    assert not scanner.sim.grabbed
    scanner.sim.scan("AFTER CLOSE")
    assert scanner.sim.leaked  # a kiosk that stopped scanning gives the keyboard back


def test_a_second_grab_is_refused():
    sim = KeyboardWedgeSim()
    first = ScannerHid(sim.path, opener=sim.open_device)
    second = ScannerHid(sim.path, opener=sim.open_device)
    with first:
        with pytest.raises(DeviceInitError, match="grabbed by another"):
            second.open()
        assert not second.is_open
    assert sim._nodes == []


def test_aim_identifiers_and_layouts(make_scanner):
    scanner, rec = make_scanner("sim+hid://?aim=1&layout=de")
    scanner.sim.scan("Grüße-Zürich", symbology="datamatrix")
    scanner.sim.scan("NO-AIM")  # typed without an identifier while one is required
    scanner.sim.scan("1234-5678", symbology="code128")
    scans = rec.wait_count(2)
    assert [(s.data, s.symbology) for s in scans] == [("Grüße-Zürich".encode(), "datamatrix"),
                                                      (b"1234-5678", "code128")]
    wait_until(lambda: scanner.stats["garbage"] == 1)


def test_typing_speed_does_not_matter(make_scanner):
    scanner, rec = make_scanner("sim+hid://?key_delay_ms=2")
    scanner.sim.scan("SLOWLY-TYPED")
    assert rec.wait_count(1)[0].data == b"SLOWLY-TYPED"


def test_binary_through_alt_codes(make_scanner):
    scanner, rec = make_scanner("sim+hid://?dedupe_ms=0")
    data = bytes(range(0x7B, 0x100)) + b"\x00\x01\x1d"
    scanner.sim.scan(data)
    assert rec.wait_count(1)[0].data == data


def test_faults_partial_garbage_drop(make_scanner):
    scanner, rec = make_scanner("sim+hid://?gap_ms=50")
    sim = scanner.sim
    sim.partial("NEVER-ENTERED")
    wait_until(lambda: scanner.stats["partial"] == 1, what="the unfinished scan to expire")
    sim.partial("HALF")
    sim.drop()                 # the kernel lost events mid-code...
    sim.scan("REST-OF-IT")     # ...so its rest is not delivered
    sim.scan("GOOD")
    assert rec.wait_count(1)[0].data == b"GOOD"
    wait_until(lambda: scanner.stats["dropped_events"] == 1 and scanner.stats["partial"] == 2)
    sim.garbage(240)  # ten records of random bytes
    sim.scan("STILL-GOOD")
    rec.wait_count(2)
    assert rec.data[-1] == b"STILL-GOOD"


def test_duplicates_within_the_window(make_scanner):
    clock = FakeTime()
    scanner, rec = make_scanner("sim+hid://?dedupe_ms=1000", monotonic=clock)
    scanner.sim.scan("REPEAT")
    scanner.sim.scan("REPEAT")
    rec.wait_count(1)
    wait_until(lambda: scanner.stats["duplicates"] == 1)
    clock.advance(1.5)
    scanner.sim.scan("REPEAT")
    assert len(rec.wait_count(2)) == 2


def test_unplug_and_replug(make_scanner):
    scanner, rec = make_scanner("sim+hid://")
    sim = scanner.sim
    sim.scan("BEFORE")
    rec.wait_count(1)
    sim.partial("CUT-")
    wait_until(lambda: scanner._decoder.pending, what="the half scan to reach the driver")
    sim.disconnect()
    wait_until(lambda: scanner.health()["state"] == "reconnecting", what="the driver to notice the unplug")
    assert "end of the event stream" in scanner.health()["detail"] or scanner.health()["detail"]
    sim.reconnect()
    wait_until(lambda: scanner.health()["state"] == "connected", what="the driver to reopen")
    assert sim.grabbed  # grabbed again after the reconnect
    sim.scan("AFTER")
    assert rec.wait_count(2) and rec.data == [b"BEFORE", b"AFTER"]
    assert scanner.stats["reconnects"] == 1 and scanner.stats["partial"] == 1 and sim.leaked == []


def test_the_evdev_layer_reports_why_it_cannot_open(tmp_path):
    pytest.importorskip("evdev")
    with pytest.raises(DeviceUnavailable, match="no input device"):
        EvdevDevice.open(str(tmp_path / "event-kbd"))
    plain = tmp_path / "not-an-input-device"
    plain.write_bytes(b"")
    with pytest.raises(DeviceInitError, match="not an input device"):
        EvdevDevice.open(str(plain))


def test_the_real_driver_opens_through_evdev(tmp_path):
    pytest.importorskip("evdev")
    scanner = registry.create("scanner", f"hid://{tmp_path}/usb-Scanner-event-kbd?layout=us")
    with pytest.raises(DeviceUnavailable):
        scanner.open()
    assert not scanner.is_open


@pytest.mark.skipif(not os.access("/dev/uinput", os.W_OK), reason="/dev/uinput is not usable here")
def test_through_the_kernel_with_uinput():  # pragma: no cover - needs a machine with uinput
    from evdev import UInput, ecodes

    with UInput({ecodes.EV_KEY: list(range(1, 120))}, name="hwsim-uinput-scanner") as ui:
        wait_until(lambda: os.path.exists(ui.device.path))
        scanner = ScannerHid(ui.device.path)
        rec = ScanRecorder()
        scanner.subscribe(rec)
        with scanner:
            for ch in "42":
                code = ecodes.KEY_4 if ch == "4" else ecodes.KEY_2
                ui.write(ecodes.EV_KEY, code, 1), ui.write(ecodes.EV_KEY, code, 0), ui.syn()
            ui.write(ecodes.EV_KEY, ecodes.KEY_ENTER, 1), ui.write(ecodes.EV_KEY, ecodes.KEY_ENTER, 0), ui.syn()
            assert rec.wait_count(1)[0].data == b"42"


@pytest.mark.parametrize("url, problem", [
    ("hid://?layout=us", "path"),
    ("hid:///dev/input/event3?layout=fr", "layout"),
    ("hid:///dev/input/event3?grab=perhaps", "grab"),
    ("hid:///dev/input/event3?end=space", "end"),
    ("hid:///dev/input/event3?grabbed=1", "grabbed"),
    ("sim+hid://?key_delay_ms=-3", "key_delay_ms"),
])
def test_url_errors(url, problem):
    with pytest.raises(DeviceURLError, match=problem):
        registry.check("scanner", url)
    with pytest.raises(DeviceURLError, match=problem):
        registry.create("scanner", url)


def test_empty_codes_are_counted_on_both_sides(make_scanner):
    """An Enter alone (the decoder's "empty") and an AIM identifier alone (the driver's)
    add up; neither count hides the other."""
    scanner, rec = make_scanner("sim+hid://?aim=1")
    scanner.sim.scan("")                      # no keys before the Enter
    scanner.sim.scan("", symbology="qr")      # an identifier and nothing after it
    scanner.sim.scan("AFTER", symbology="qr")
    assert rec.wait_count(1) and rec.data == [b"AFTER"]
    wait_until(lambda: scanner.stats["empty"] == 2, what="both empty codes counted")
