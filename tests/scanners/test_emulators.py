"""The scanner emulators themselves: their control APIs, fault modes, histories, registry entries."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.scanners import input_events as ie
from drivers.scanners.pipeline import ScanPipeline
from hwsim.scanners import frames
from hwsim.scanners.camera import CameraSim, frame_number
from hwsim.scanners.keyboard import KeyboardWedgeSim
from hwsim.scanners.serial_scanner import SerialScannerSim
from kiosk.devices import registry
from kiosk.errors import DeviceUnavailable

from tests.support import wait_until

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test

PHOTOS = Path(__file__).parent.parent / "data" / "photos"
SCHEMES = ("serial", "hid", "camera", "sim+serial-scanner", "sim+hid", "sim+camera")


def test_every_scanner_scheme_is_registered():
    assert set(SCHEMES) <= set(registry.schemes("scanner"))
    for scheme in SCHEMES:
        _, impl = registry.resolve("scanner", f"{scheme}:///x" if not scheme.startswith("sim") else f"{scheme}://")
        assert callable(getattr(impl, "check_url", None)), scheme


def test_serial_emulator_frames_and_history():
    with SerialScannerSim(suffix="crlf", aim=True, prefix=b"\x02") as sim:
        assert sim.frame("ABC", "datamatrix") == b"\x02]d1ABC\r\n"
        assert sim.frame("ABC", identifier="]d2") == b"\x02]d2ABC\r\n"
        sim.scan("X")
        sim.garbage(8)
        sim.disconnect()
        assert not sim.plugged and not os.path.exists(sim.path)
        with pytest.raises(RuntimeError):
            sim.scan("lost")
        sim.reconnect()
        assert os.path.islink(sim.path)
        kinds = [e.kind for e in sim.history.entries("serial-scanner")]
        assert kinds == ["plugged", "scan", "garbage", "unplugged", "plugged"]
    with pytest.raises(ValueError):
        SerialScannerSim(suffix="semicolon")


def test_keyboard_emulator_types_real_records():
    sim = KeyboardWedgeSim("us")
    node = sim.open_device(sim.path)
    try:
        node.grab()
        sim.scan("A")
        os.set_blocking(node.fd, False)
        events = ie.EventStream().feed(os.read(node.fd, 65536))
    finally:
        node.close()
    keys = [(e.code, e.value) for e in events if e.type == ie.EV_KEY]
    assert keys == [(42, 1), (30, 1), (30, 0), (42, 0), (28, 1), (28, 0)]  # Shift, A, Enter
    assert all(e.type in (ie.EV_KEY, ie.EV_SYN, ie.EV_MSC) for e in events)
    assert sim.leaked == [] and not sim.grabbed
    sim.disconnect()
    with pytest.raises(DeviceUnavailable):
        sim.open_device(sim.path)
    with pytest.raises(ValueError):
        KeyboardWedgeSim("us")._strokes("", "日")


def test_camera_emulator_paces_frames_and_records_scenes():
    sim = CameraSim(640, 480, fps=100, stamp=True)
    cap = sim.capture()
    started = time.monotonic()
    numbers = []
    for _ in range(10):
        ok, frame = cap.read()
        assert ok and frame.shape == (480, 640, 3) and frame.dtype == np.uint8
        numbers.append(frame_number(frame))
    assert time.monotonic() - started >= 0.08  # ten frames at 100 frames/s
    assert numbers == list(range(1, 11))
    assert cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 640 and cap.set(cv2.CAP_PROP_FPS, 30)
    sim.unplug()
    assert cap.read() == (False, None) and not cap.isOpened()
    sim.replug()
    cap.release()
    assert cap.read() == (False, None)
    assert [e.kind for e in sim.history.entries("camera")] == ["scene", "opened", "unplugged", "plugged", "released"]


def test_camera_emulator_scenes_decode_as_shown():
    sim = CameraSim(1280, 720, fps=0, seed=3)
    pipeline = ScanPipeline()
    sim.show(b"\x00binary\xff", "datamatrix", "perspective")
    assert [d.data for d in pipeline.decode(sim.capture().read()[1], thorough=True)] == [b"\x00binary\xff"]
    sim.show("DAMAGED", "qr", "damaged")
    assert pipeline.decode(sim.capture().read()[1], thorough=True) == []
    photo = cv2.imread(str(next(PHOTOS.glob("qrcode-3-*.png"))))
    sim.show_image(photo)
    assert pipeline.decode(sim.capture().read()[1], thorough=True)
    sim.idle()
    assert sim.scene == "idle" and pipeline.decode(sim.capture().read()[1], thorough=True) == []
    with pytest.raises(KeyError):
        sim.show("X", "qr", "fog")
    with pytest.raises(ValueError):
        sim.show("X", "code128")
    with pytest.raises(ValueError):
        frames.code_modules(os.urandom(3000), "qr")


def test_frames_are_reproducible_from_a_seed():
    a = frames.render_frame(640, 480, b"SEED", "qr", "combined", seed=42)
    b = frames.render_frame(640, 480, b"SEED", "qr", "combined", seed=42)
    assert np.array_equal(a, b)


def test_parcel_labels_from_the_label_renderer():
    labels = pytest.importorskip("kiosk.labels")
    if not hasattr(labels, "layout"):
        pytest.skip("kiosk.labels has no layout() yet")
    sim = CameraSim(1280, 720, fps=0, seed=1)
    sim.show_parcel_label("1234-5678", None, "clean")
    found = ScanPipeline(formats=("qr", "code128")).decode(sim.capture().read()[1], thorough=True)
    assert [(d.data, d.symbology) for d in found] == [(b"1234-5678", "code128")]


def test_store_tags_cross_every_scanner_exactly(make_scanner):
    """A store-signed tag, printed on a parcel label, read by each scanner: the bytes
    delivered are the tag, and the tag codec accepts them."""
    hwtags = pytest.importorskip("hwsim.tags")
    tags = pytest.importorskip("kiosk.security.tags")
    issuer = hwtags.TagIssuer("site-scanners")
    parcel = issuer.parcels(1, random.Random(5), method="f2_tag", now=1_800_000_000.0)[0]
    serial_scanner, serial_rec = make_scanner("sim+serial-scanner://?aim=1")
    hid_scanner, hid_rec = make_scanner("sim+hid://")
    camera, camera_rec = make_scanner("sim+camera://?fps=60&formats=qr,code128")
    serial_scanner.sim.scan(parcel.tag, "qr")
    hid_scanner.sim.scan(parcel.tag)
    # tilted: the Code 128 is read too (rotated past ~20 degrees, a 1-D code is not)
    camera.sim.show_parcel_label(parcel.trade_number, parcel.tag, "perspective", seed=2)
    wanted = parcel.tag.encode()
    for recorder in (serial_rec, hid_rec):
        assert recorder.wait_count(1)[0].data == wanted
    wait_until(lambda: wanted in camera_rec.data and parcel.trade_number.encode() in camera_rec.data,
               what="the camera to read the label's QR and Code 128")
    assert tags.read(wanted, issuer.keys()).trade_number in (None, parcel.trade_number)
