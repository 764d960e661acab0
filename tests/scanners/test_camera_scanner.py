"""The real camera driver against the emulated camera, and on real frames from OpenCV."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.scanners.camera import ScannerCamera
from drivers.scanners.pipeline import ScanPipeline
from hwsim.scanners.camera import CameraSim, frame_number
from kiosk.devices import registry
from kiosk.devices.roles import Scanner
from kiosk.errors import DeviceInitError, DeviceUnavailable, DeviceURLError

from tests.scanners.conftest import FakeTime
from tests.support import WAIT, ScanRecorder, wait_until

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test

PHOTOS = Path(__file__).parent.parent / "data" / "photos"


def test_a_code_held_up_is_read_once(make_scanner):
    scanner, rec = make_scanner("sim+camera://?scene=idle&fps=60")
    assert isinstance(scanner, Scanner)
    wait_until(lambda: scanner.stats["decoded"] >= 5, what="idle frames decoded")
    assert rec.scans == []
    scanner.sim.show(b"F2:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE", "qr", "combined")
    scan = rec.wait_count(1)[0]
    assert (scan.data, scan.symbology) == (b"F2:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE", "qr")
    wait_until(lambda: scanner.stats["duplicates"] >= 5, what="the code to stay in view")
    assert len(rec.scans) == 1  # held for many frames: one scan
    health = scanner.health()
    assert health["ok"] and health["frame_size"] == (1280, 720) and health["decode_ms"] > 0
    assert rec.threads == {f"camera-decode {scanner.url}"}


def test_shown_again_after_the_window_is_a_new_scan(make_scanner):
    clock = FakeTime()
    scanner, rec = make_scanner("sim+camera://?scene=clean&payload=AGAIN&fps=60&dedupe_ms=1000", monotonic=clock)
    rec.wait_count(1)
    scanner.sim.idle()
    seen = scanner.stats["decoded"]
    wait_until(lambda: scanner.stats["decoded"] >= seen + 3, what="idle frames after the code left")
    clock.advance(1.5)
    scanner.sim.show("AGAIN", "datamatrix", "rotation")
    assert [s.data for s in rec.wait_count(2)] == [b"AGAIN", b"AGAIN"]
    assert rec.scans[1].symbology == "datamatrix"


class BlockingPipeline:
    """A pipeline whose first decode waits for the test: decoding "falls behind"."""

    decoder_name = "test"

    def __init__(self) -> None:
        self.hits: dict = {}
        self.release = threading.Event()
        self.numbers: list[int] = []
        self._inner = ScanPipeline()

    def decode(self, frame):
        self.numbers.append(frame_number(frame))
        if len(self.numbers) == 1:
            self.release.wait(WAIT)
        return self._inner.decode(frame)


def test_frames_are_dropped_not_queued_when_decoding_falls_behind():
    sim = CameraSim(640, 480, fps=200, stamp=True)
    sim.show(b"NEWEST FRAME WINS", "qr")
    pipeline = BlockingPipeline()
    scanner = ScannerCamera("sim", capture_factory=sim.capture, pipeline=pipeline)
    rec = ScanRecorder()
    scanner.subscribe(rec)
    with scanner:
        wait_until(lambda: scanner.stats["dropped"] >= 20, what="frames to pile up behind a slow decode")
        read_while_blocked = scanner.stats["frames"]
        pipeline.release.set()
        rec.wait_count(1)
        wait_until(lambda: len(pipeline.numbers) >= 2)
    stats = scanner.stats  # once both threads have ended: no frame half-way through the counters
    first, second = pipeline.numbers[:2]
    # the frame decoded next is one read after the long decode, not the one queued behind it:
    # frames are numbered in the order they are read, and read_while_blocked had been read
    # (not "first + ...": a decode thread that starts late makes first > 1, not the slot older)
    assert second >= read_while_blocked - 1
    assert stats["frames"] - stats["decoded"] - stats["dropped"] in (0, 1)  # at most one waiting


def test_region_of_interest(make_scanner):
    scanner, rec = make_scanner("sim+camera://?fps=60&roi=0.5,0,0.5,1")
    scanner.sim.show(b"LEFT HALF", "qr", center=(0.25, 0.5), size=0.2)
    seen = scanner.stats["decoded"]
    wait_until(lambda: scanner.stats["decoded"] >= seen + 12, what="frames decoded with the code outside the roi")
    assert rec.scans == []
    scanner.sim.show(b"RIGHT HALF", "qr", center=(0.75, 0.5), size=0.2)
    assert rec.wait_count(1)[0].data == b"RIGHT HALF"


def test_unplug_and_replug(make_scanner):
    scanner, rec = make_scanner("sim+camera://?fps=100")
    scanner.sim.unplug()
    wait_until(lambda: scanner.health()["state"] == "reconnecting", what="the driver to notice")
    assert scanner.stats["read_failures"] >= 1
    scanner.sim.show(b"AFTER REPLUG", "qr")
    scanner.sim.replug()
    assert rec.wait_count(1)[0].data == b"AFTER REPLUG"
    assert scanner.health()["state"] == "connected" and scanner.stats["reconnects"] >= 1


def test_linear_codes_need_two_frames_that_agree(make_scanner):
    labels = pytest.importorskip("kiosk.labels")
    if not hasattr(labels, "layout"):
        pytest.skip("kiosk.labels has no layout() yet")
    scanner, rec = make_scanner("sim+camera://?fps=60&formats=qr,code128")
    scanner.sim.show_parcel_label("1234-5678", None, "clean", seed=1)
    scan = rec.wait_count(1)[0]
    assert (scan.data, scan.symbology) == (b"1234-5678", "code128")
    assert scanner.stats["unconfirmed"] >= 1  # the first sighting alone was not delivered


def test_a_subscriber_that_raises_does_not_stop_the_camera(make_scanner):
    scanner, rec = make_scanner("sim+camera://?fps=60&dedupe_ms=0")

    def broken(scan):
        raise RuntimeError("subscriber bug")

    scanner.subscribe(broken)
    scanner.sim.show(b"STILL WORKS", "qr")
    assert len(rec.wait_count(3)) >= 3


def test_real_videocapture_on_photographs(tmp_path):
    """OpenCV's own VideoCapture (image-sequence backend) feeding the driver real photos."""
    pipeline = ScanPipeline()
    expected = []
    for png in sorted(PHOTOS.glob("qrcode-3-*.png"))[:4] + sorted(PHOTOS.glob("datamatrix-2-*.png"))[:4]:
        photo = cv2.imread(str(png))
        frame = np.full((480, 640, 3), 128, np.uint8)
        frame[120:120 + photo.shape[0], 200:200 + photo.shape[1]] = photo
        cv2.imwrite(str(tmp_path / f"frame_{len(expected):03d}.png"), frame)
        expected.append(png.with_suffix(".txt").read_bytes())
    assert all(p in [d.data for d in pipeline.decode(cv2.imread(str(f)))] for p, f in
               zip(expected, sorted(tmp_path.glob("frame_*.png")), strict=True))
    scanner = registry.create("scanner", f"camera://{tmp_path}/frame_%2503d.png?backend=images&fps=100&dedupe_ms=0")
    rec = ScanRecorder()
    scanner.subscribe(rec)
    with scanner:
        wait_until(lambda: set(expected) <= set(rec.data), what="every photo read")
    assert scanner.stats["frames"] >= len(expected)


def test_cameras_that_are_not_there(tmp_path):
    with pytest.raises(DeviceUnavailable, match="no device"):
        registry.create("scanner", "camera:///dev/video-none").open()
    with pytest.raises(DeviceUnavailable, match="no video file"):
        registry.create("scanner", f"camera://{tmp_path}/none.mp4?backend=file").open()
    (tmp_path / "notvideo").write_text("x")
    with pytest.raises(DeviceInitError):
        registry.create("scanner", f"camera://{tmp_path}/notvideo").open()


@pytest.mark.parametrize("url, problem", [
    ("camera://?width=640", "path"),
    ("camera:///dev/video0?roi=0.5,0.5,0.9,0.9", "roi"),
    ("camera:///dev/video0?decoder=opencv", "decoder"),
    ("camera:///dev/video0?decoder=pyzbar&formats=qr,datamatrix", "datamatrix"),
    ("camera:///dev/video0?fourcc=mjpeg", "fourcc"),
    ("camera:///dev/video0?width=99999", "width"),
    ("camera:///dev/video0?backend=gstreamer", "backend"),
    ("camera:///dev/video0?zoom=2", "zoom"),
    ("sim+camera://?scene=fog", "scene"),
])
def test_url_errors(url, problem):
    with pytest.raises(DeviceURLError, match=problem):
        registry.check("scanner", url)
    with pytest.raises(DeviceURLError, match=problem):
        registry.create("scanner", url)


def test_check_accepts_full_urls():
    registry.check("scanner", "camera:///dev/v4l/by-id/usb-cam-video-index0?width=1280&height=720&fps=30"
                              "&fourcc=YUYV&roi=0.2,0.1,0.6,0.8&decoder=auto&formats=qr,datamatrix,code128"
                              "&dedupe_ms=2000&thorough_every=3&backend=v4l2")
    registry.check("scanner", "sim+camera://?scene=glare&payload=X&symbology=datamatrix&seed=3&roi=0,0,1,1")
