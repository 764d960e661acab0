"""The camera's decoding pipeline on rendered frames and on real photographs."""

from __future__ import annotations

import os
import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.scanners.decoders import PyzbarDecoder, check_formats
from drivers.scanners.pipeline import ScanPipeline, parse_roi
from hwsim.scanners import frames
from kiosk.errors import DeviceURLError

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test

PHOTOS = Path(__file__).parent.parent / "data" / "photos"
PHOTO_FLOOR = 36  # of 40; measured 38 (see tests/data/photos/README.md)


@pytest.fixture(scope="module")
def pipeline():
    return ScanPipeline()


@pytest.mark.parametrize("symbology", ["qr", "datamatrix"])
@pytest.mark.parametrize("payload", [
    bytes(range(256))[:200], b"\x00" * 5 + b"NUL first", os.urandom(150),
    "Straße Größe Château".encode("latin-1"), "F2:ÄÖÜ-日本".encode(),
], ids=["all-bytes", "nul-first", "random", "latin-1", "utf-8"])
def test_payloads_come_out_as_the_exact_bytes(pipeline, symbology, payload):
    frame = frames.render_frame(1280, 720, payload, symbology, "clean", seed=len(payload))
    assert [d.data for d in pipeline.decode(frame)] == [payload]


def test_symbology_names(pipeline):
    assert pipeline.decode(frames.render_frame(640, 480, b"QR", "qr", seed=1))[0].symbology == "qr"
    assert pipeline.decode(frames.render_frame(640, 480, b"DM", "datamatrix", seed=1))[0].symbology == "datamatrix"


@pytest.mark.parametrize("width, height, floor", [(1280, 720, 0.95), (640, 480, 0.80)])
def test_hard_frames(pipeline, width, height, floor):
    read = total = 0
    for condition in frames.HARD:
        for i in range(4):
            payload = os.urandom(random.Random(i).choice([40, 150, 300]))
            frame = frames.render_frame(width, height, payload, ("qr", "datamatrix")[i % 2], condition, seed=100 + i)
            total += 1
            read += payload in [d.data for d in pipeline.decode(frame, thorough=True)]
    assert read / total >= floor, f"{read}/{total} hard frames read at {width}x{height}"


def test_idle_and_damaged_frames_give_nothing(pipeline):
    for seed in range(6):
        assert pipeline.decode(frames.render_frame(1280, 720, None, seed=seed), thorough=True) == []
        damaged = frames.render_frame(1280, 720, os.urandom(150), "qr", "damaged", seed=seed)
        assert pipeline.decode(damaged, thorough=True) == []


def test_light_on_dark_codes_need_the_thorough_pass():
    pipeline = ScanPipeline(thorough_every=1000)
    frame = 255 - frames.render_frame(1280, 720, b"DARK MODE PHONE", "qr", seed=3)
    assert pipeline.decode(frame, thorough=False) == []
    assert [d.data for d in pipeline.decode(frame, thorough=True)] == [b"DARK MODE PHONE"]
    assert pipeline.hits["plain"] == 1


def test_roi_decodes_only_its_part():
    frame = frames.render_frame(1280, 720, b"LEFT SIDE", "qr", "clean", seed=4)  # code around x = 0.4..0.6
    assert ScanPipeline(roi=(0.0, 0.0, 0.25, 1.0)).decode(frame, thorough=True) == []
    inside = ScanPipeline(roi=(0.2, 0.0, 0.6, 1.0))
    assert [d.data for d in inside.decode(frame)] == [b"LEFT SIDE"]
    assert inside.crop(frame).shape[:2] == (720, 768)


def test_formats_are_restricted():
    frame = frames.render_frame(1280, 720, b"ONLY QR WANTED?", "datamatrix", seed=5)
    assert ScanPipeline(formats=("qr",)).decode(frame, thorough=True) == []


def test_pyzbar_with_binary_on_gives_exact_bytes_and_its_default_does_not():
    pytest.importorskip("pyzbar.pyzbar")
    payload = "Straße Größe Château".encode("latin-1") + bytes([0, 1, 0xFF])
    gray = cv2.cvtColor(frames.render_frame(1280, 720, payload, "qr", seed=6), cv2.COLOR_BGR2GRAY)
    decoder = PyzbarDecoder(("qr",))
    assert [d.data for d in decoder.read(gray)] == [payload]
    assert [d.data for d in decoder.read_default(gray)] != [payload]  # why the binary option matters
    assert [d.data for d in ScanPipeline("pyzbar", ("qr",)).decode(gray)] == [payload]


def test_decoder_settings_are_checked():
    with pytest.raises(DeviceURLError, match="datamatrix"):
        check_formats(["qr", "datamatrix"], "pyzbar")
    with pytest.raises(DeviceURLError):
        check_formats(["qr", "hologram"], "zxing")
    with pytest.raises(DeviceURLError):
        ScanPipeline("opencv")
    for bad in ("0.5,0.5,0.6,0.2", "a,b,c,d", "0,0,1", "-0.1,0,0.5,0.5", "0,0,0,0.5"):
        with pytest.raises(DeviceURLError):
            parse_roi(bad)
    assert parse_roi("0.25,0.1,0.5,0.8") == (0.25, 0.1, 0.5, 0.8) and parse_roi(None) is None


def photos() -> list[tuple[Path, bytes]]:
    return [(png, png.with_suffix(".txt").read_bytes()) for png in sorted(PHOTOS.glob("*.png"))]


def test_real_photographs(pipeline):
    results = {png.name: payload in [d.data for d in pipeline.decode(cv2.imread(str(png)), thorough=True)]
               for png, payload in photos()}
    read = sum(results.values())
    assert len(results) == 40
    assert read >= PHOTO_FLOOR, f"{read}/40 photographs read; missed {[n for n, ok in results.items() if not ok]}"
    assert all(ok for name, ok in results.items() if name.startswith("datamatrix"))


def test_photos_through_cheap_passes_only_as_a_camera_sees_most_frames(pipeline):
    # A camera runs the thorough passes only now and then: most photos read without them.
    read = sum(payload in [d.data for d in ScanPipeline().decode(cv2.imread(str(png)), thorough=False)]
               for png, payload in photos())
    assert read >= 34


def test_photo_set_is_what_the_readme_says():
    readme = (PHOTOS / "README.md").read_text()
    for png, payload in photos():
        assert f"`{png.name}`" in readme
        assert len(payload) > 0
    assert "Apache" in readme and (PHOTOS / "LICENSE-zxing.txt").exists()
    assert np.asarray(cv2.imread(str(next(PHOTOS.glob("*.png"))))).ndim == 3


def _reads(decoded, want: bytes) -> bool:
    return any(d.data == want for d in decoded)


def test_the_pipeline_reads_every_photograph_either_decoder_alone_reads(pipeline):
    """Issue 9 §4: never less than zxing-cpp or zbar alone on a real photograph."""
    zxing_alone, zbar_alone = ScanPipeline("zxing"), ScanPipeline("pyzbar", formats=("qr",))
    missed = []
    for png in sorted(PHOTOS.glob("*.png")):
        want, image = png.with_suffix(".txt").read_bytes(), cv2.imread(str(png))
        alone = _reads(zxing_alone.decode(image), want) or _reads(zbar_alone.decode(image), want)
        if alone and not _reads(pipeline.decode(image, thorough=True), want):
            missed.append(png.name)
    assert missed == []


def test_the_last_pass_is_zbar(monkeypatch):
    """A frame every zxing-cpp pass misses is still read where zbar reads it."""
    pipeline = ScanPipeline()
    monkeypatch.setattr(pipeline._reader, "read", lambda gray, **kw: [])   # zxing-cpp finds nothing
    frame = frames.render_frame(640, 480, b"ZBAR-LAST-PASS", "qr", seed=3)
    assert [d.data for d in pipeline.decode(frame, thorough=True)] == [b"ZBAR-LAST-PASS"]
    assert pipeline.hits["zbar"] == 1
    assert pipeline.decode(frame, thorough=False) == []     # a cheap frame never pays for it
