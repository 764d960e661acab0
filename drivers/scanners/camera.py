"""Scanner driver for a camera: OpenCV ``VideoCapture`` frames through the scan pipeline.

URL grammar (every parameter optional)::

    camera:///dev/v4l/by-id/usb-046d_C920-video-index0?width=1280&height=720&fps=30
          &fourcc=MJPG&roi=0.2,0.1,0.6,0.8&decoder=auto&formats=qr,datamatrix
          &dedupe_ms=1500&thorough_every=8&backend=v4l2

    width, height   capture size asked of the camera (it may pick the nearest it has;
                    health() reports what it gave). 1280x720 is the measured choice: a
                    300-byte QR at a quarter of a 640-pixel frame has too few pixels
    fps             frames per second asked of the camera; files are paced to it
    fourcc          pixel format asked of the camera (MJPG lets USB 2 carry 720p at 30)
    roi             x,y,width,height as fractions of the frame: only that part is decoded
    decoder         auto (the pipeline: zxing-cpp with cheap pre-processing passes),
                    zxing or pyzbar (one raw call each); see drivers.scanners.pipeline
    formats         symbologies to look for (qr, datamatrix, aztec, pdf417, code128, ean13,
                    ean8, code39, itf); fewer is faster. A 1-D code is delivered only when
                    two frames in a row agree: 1-D readers misread now and then
    dedupe_ms       a code still (or again) in view within this long is not delivered again
    thorough_every  run the dear passes on every n-th frame with nothing found
    backend         v4l2 (a camera: /dev/videoN or a link to it), images (an image
                    sequence, e.g. camera:///data/frame_%2503d.png?backend=images: a URL
                    writes % as %25) or file (a video file, any OpenCV backend); a
                    sequence or a file is paced to fps and replayed from its start

Two threads: one reads frames as the camera delivers them into a one-frame mailbox, the
other decodes the newest frame. When decoding falls behind, a frame not yet decoded is
replaced (counted in ``dropped``), never queued, so a code shown now is read from a frame
of now. A simulated camera (``hwsim.scanners.camera``) hands the driver an object with
VideoCapture's ``read()``, ``isOpened()``, ``set()``, ``get()``, ``release()`` instead.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from typing import Any
from collections.abc import Callable

import cv2

from drivers.scanners.base import READ_SLICE_S, DeviceLost, ScannerBase, base_options
from drivers.scanners.decoders import DEFAULT_FORMATS, LINEAR, check_formats
from drivers.scanners.pipeline import DECODERS, ScanPipeline, parse_roi
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceInitError, DeviceUnavailable, DeviceURLError

log = logging.getLogger(__name__)

BACKENDS = {"v4l2": cv2.CAP_V4L2, "images": cv2.CAP_IMAGES, "file": cv2.CAP_ANY}
READ_FAILURES_LOST = 5  # consecutive failed reads before the camera counts as gone


class ScannerCamera(ScannerBase):
    """A camera reading 2-D codes. See the module docstring for the URL.

    ``open()`` raises DeviceUnavailable (no such camera, decoder package missing),
    DeviceInitError (it will not open or deliver a frame). ``stats``: scans, duplicates,
    frames, decoded, dropped, read_failures, unconfirmed (1-D reads seen once),
    disconnects, reconnects, empty (frames decoded with no code in them: the camera's
    garbage); ``health()`` adds frame_size, decode_ms and passes."""

    kind = "camera"

    def __init__(self, source: str, *, width: int = 1280, height: int = 720, fps: float = 30.0,
                 fourcc: str = "MJPG", roi: tuple | None = None, decoder: str = "auto",
                 formats: tuple[str, ...] = DEFAULT_FORMATS, dedupe_ms: int = 1500, thorough_every: int = 8,
                 backend: str = "v4l2", url: str | None = None,
                 capture_factory: Callable[[], Any] | None = None, pipeline: ScanPipeline | None = None, **base):
        """``capture_factory()`` returns a VideoCapture-like object (default: OpenCV on
        ``source``); ``pipeline`` replaces the decoding pipeline (tests). Raises
        DeviceUnavailable (decoder package missing), DeviceURLError (formats, decoder)."""
        super().__init__(url or f"camera://{source}", dedupe_ms=dedupe_ms, **base)
        self.source, self.backend = source, backend
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self.pipeline = pipeline or ScanPipeline(decoder, formats, roi, thorough_every)
        self._factory = capture_factory or self._open_capture
        self._pace = capture_factory is None and backend != "v4l2"
        self._cap: Any = None
        self._cv = threading.Condition()
        self._slot: Any = None          # the newest frame not yet decoded
        self._failures = 0
        self._next_frame = 0.0
        self._frame_size: tuple[int, int] | None = None
        self._decode_ms = 0.0           # moving average
        self._previous_linear: set[bytes] = set()
        for key in ("frames", "decoded", "empty", "dropped", "read_failures", "unconfirmed"):
            self._counts[key] = 0

    # --- URL ---------------------------------------------------------------------------------

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        """The keyword arguments the URL's query asks for. Raises DeviceURLError."""
        decoder = url.choice("decoder", DECODERS, "auto")
        formats = url.str("formats", ",".join(DEFAULT_FORMATS))
        fourcc = url.str("fourcc", "MJPG")
        if not re.fullmatch(r"[A-Z0-9 ]{4}", fourcc):
            raise DeviceURLError(f"{url.raw!r}: fourcc={fourcc!r} is not a four-character code like MJPG or YUYV")
        return dict(
            width=url.int("width", 1280, lo=160, hi=7680),
            height=url.int("height", 720, lo=120, hi=4320),
            fps=url.float("fps", 30.0, lo=1.0, hi=240.0),
            fourcc=fourcc,
            roi=parse_roi(url.str("roi"), url.raw),
            decoder=decoder,
            formats=check_formats([f for f in formats.split(",") if f], decoder, url.raw),
            dedupe_ms=url.int("dedupe_ms", 1500, lo=0, hi=600_000),
            thorough_every=url.int("thorough_every", 8, lo=1, hi=1000),
            backend=url.choice("backend", tuple(BACKENDS), "v4l2"),
        )

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> "ScannerCamera":
        """Build (not open) the camera a ``camera://`` URL describes. Raises DeviceURLError,
        DeviceUnavailable (decoder package missing)."""
        cls.check_url(url)
        return cls(url.path, url=url.raw, **cls.options_from_url(url), **base_options(context))

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        """Check a camera:// URL without opening anything. Raises DeviceURLError."""
        if url.host or not url.path:
            raise DeviceURLError(f"{url.raw!r}: give the camera as a path, e.g. camera:///dev/video0")
        cls.options_from_url(url)

    # --- the capture ---------------------------------------------------------------------------

    def _open_capture(self) -> Any:
        api = BACKENDS[self.backend]
        target: Any = self.source
        if self.backend == "v4l2":
            # OpenCV's V4L2 backend opens cameras by index, not by name; a by-id link
            # resolves to the /dev/videoN the camera has now.
            real = os.path.realpath(self.source)
            if not os.path.exists(real):
                raise DeviceUnavailable(f"camera: no device {self.source!r}")
            match = re.fullmatch(r"/dev/video(\d+)", real)
            if match is None:
                raise DeviceInitError(f"camera: {self.source!r} is not a /dev/videoN device (it is {real!r})")
            target = int(match.group(1))
        elif self.backend == "file" and not os.path.exists(self.source):
            raise DeviceUnavailable(f"camera: no video file {self.source!r}")
        cap = cv2.VideoCapture(target, api)
        if self.backend == "v4l2" and cap.isOpened():
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self.fourcc))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            cap.set(cv2.CAP_PROP_FPS, self.fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver's own mailbox decides what is newest
        return cap

    def _connect(self) -> None:
        try:
            cap = self._factory()
        except (cv2.error, OSError) as err:
            raise DeviceInitError(f"camera {self.source!r} will not open: {err}") from err
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise DeviceInitError(f"camera {self.source!r} will not open ({self.backend} backend)")
        self._cap, self._failures = cap, 0

    def _disconnect(self) -> None:
        if self._cap is not None:
            try:
                self._cap.release()
            except cv2.error:
                pass
            self._cap = None

    def _reset(self) -> None:
        with self._cv:
            self._slot = None
        self._previous_linear.clear()

    def _thread_targets(self):
        return [("camera-capture", self._run), ("camera-decode", self._decode_loop)]

    def _wake(self) -> None:
        with self._cv:
            self._cv.notify_all()

    def _pump(self) -> None:
        """Read one frame into the mailbox (the capture thread)."""
        if self._pace:  # a file reads as fast as it can be decoded: pace it like a camera
            self._stop.wait(max(0.0, self._next_frame - time.monotonic()))
            self._next_frame = max(self._next_frame, time.monotonic() - 1.0) + 1.0 / self.fps
        try:
            ok, frame = self._cap.read()
        except cv2.error as err:
            raise DeviceLost(f"read failed: {err}") from err
        if not ok or frame is None:
            self._count("read_failures")
            self._failures += 1
            if self._failures >= READ_FAILURES_LOST:
                raise DeviceLost(f"no frame in {self._failures} reads")
            self._stop.wait(READ_SLICE_S)
            return
        self._failures = 0
        self._frame_size = (frame.shape[1], frame.shape[0])
        with self._cv:
            if self._slot is not None:
                self._count("dropped")
            self._slot = frame
            self._cv.notify()
        self._count("frames")

    # --- the decoding thread ---------------------------------------------------------------------

    def _decode_loop(self) -> None:
        while not self._stop.is_set():
            with self._cv:
                self._cv.wait_for(lambda: self._slot is not None or self._stop.is_set(), READ_SLICE_S)
                frame, self._slot = self._slot, None
            if frame is None:
                continue
            started = time.perf_counter()
            try:
                found = self.pipeline.decode(frame)
            except Exception:  # a decoder crash on one frame must not stop the camera
                if not self.stats.get("errors"):
                    log.exception("%s: decoding a frame failed (logged once)", self.url)
                self._count("errors")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            self._decode_ms = elapsed if not self._decode_ms else 0.9 * self._decode_ms + 0.1 * elapsed
            self._count("decoded")
            if not found:
                self._count("empty")
            linear_now = set()
            for code in found:
                if code.symbology in LINEAR:
                    linear_now.add(code.data)
                    if code.data not in self._previous_linear:
                        self._count("unconfirmed")
                        continue
                self._deliver(code.data, code.symbology)
            self._previous_linear = linear_now

    def health(self) -> dict:
        report = super().health()
        report.update(frame_size=self._frame_size, decode_ms=round(self._decode_ms, 2),
                      passes=dict(self.pipeline.hits))
        return report

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.source!r} {self.backend} {self.pipeline.decoder_name} {self._state}>"
