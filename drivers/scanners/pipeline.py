"""The camera scanner's decoding pipeline: one frame in, the codes in it out (exact bytes).

Chosen from measurements (bench/camera_decode.py, one core; and
shared/reference/barcode-decoders-measured.md): zxing-cpp is the only decoder. It reads
Data Matrix (zbar cannot), returns exact bytes (zbar only with an option pyzbar hides),
reads more (hard frames at 720p: 100 % against zbar's 91 % of the QR ones; the 40 real
photographs in tests/data/photos: 37 against 30) and is faster on every frame class.
Its cost is driven by pixels and noise, not by the code, so the pipeline spends as little
of both as each frame allows, in passes tried in order until one finds a code:

    wide frames (>= 1200 px, e.g. 1280x720)
      half     area-halved (averages sensor noise away; modules stay >= 2.3 px for a
               300-byte QR at 25 % of the width)                             ~1 ms at 720p
      blur     full size, Gaussian sigma 1 (the small and the noisy codes)    ~3 ms
    other frames (640x480, a region of interest, a still)
      full     as is                                                         ~1 ms at 640x480
    thorough passes, any size (see below)
      plain    full size with inverted (light-on-dark: a phone in dark mode) and
               downscaled search                                            5-60 ms
      up2      small images upscaled 2x (few pixels per module)
      global   a global-histogram binarizer (glare, uneven light)
      zbar     the other decoder, zbar (pyzbar), on the full frame: a last try, so the
               pipeline never reads less than either decoder alone (where pyzbar and
               libzbar0 are installed; it reads QR and the 1-D formats). Dear on a frame
               with nothing in it (bench: ~24 ms at 640x480, ~78 ms at 720p on a loaded
               core), so only for a still and when a cheap pass saw a symbol it could not
               decode — never on a camera's periodic thorough frame

The thorough passes are dear, so a camera runs them only when a cheap pass saw a symbol
it could not decode (zxing-cpp reports those), and on every ``thorough_every``-th frame
otherwise (8: four times a second at 30 frames/s, so a dark-mode phone is read within a
quarter second while an idle camera costs ~5 ms a frame at 720p). A still image
(``decode(image, thorough=True)``) gets every pass: 38 of the 40 photographs.

``decoder=zxing`` and ``decoder=pyzbar`` bypass the passes: one raw call, for comparison
and for a machine where only zbar is available.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import cv2
import numpy as np

from drivers.scanners.decoders import DEFAULT_FORMATS, ZBAR_SYMBOLS, Decoded, PyzbarDecoder, ZxingDecoder
from kiosk.errors import DeviceUnavailable, DeviceURLError

DECODERS = ("auto", "zxing", "pyzbar")
WIDE = 1200       # frames at least this wide are decoded at half size first
SMALL = 480       # frames narrower than this are worth upscaling in the thorough passes

Roi = tuple[float, float, float, float]


def parse_roi(text: str | None, url: str = "") -> Roi | None:
    """``"0.25,0.1,0.5,0.8"`` (x, y, width, height as fractions of the frame) -> tuple.
    Raises DeviceURLError."""
    if text is None or text == "":
        return None
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise DeviceURLError(f"{url!r}: roi={text!r} is not x,y,width,height (fractions of the frame)") from None
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x + 1e-9 and 0 < h <= 1 - y + 1e-9):
        raise DeviceURLError(f"{url!r}: roi={text!r} does not lie inside the frame (0..1)")
    return (x, y, w, h)


class ScanPipeline:
    """Frame -> list of Decoded. Not thread-safe: one decoding thread owns it.

    Raises DeviceUnavailable (the decoder's package is missing), DeviceURLError (a
    format the decoder cannot read, a bad roi)."""

    def __init__(self, decoder: str = "auto", formats: tuple[str, ...] = DEFAULT_FORMATS,
                 roi: Roi | None = None, thorough_every: int = 8):
        if decoder not in DECODERS:
            raise DeviceURLError(f"decoder {decoder!r} is not one of {', '.join(DECODERS)}")
        self.decoder_name = decoder
        self.roi = roi
        self.thorough_every = max(1, thorough_every)
        self._reader = PyzbarDecoder(formats) if decoder == "pyzbar" else ZxingDecoder(formats)
        self._other = _other_decoder(formats) if decoder == "auto" else None
        self._frames = 0
        self.hits: collections.Counter[str] = collections.Counter()  # pass name -> frames it read
        self.thorough_runs = 0

    def __repr__(self) -> str:
        return f"<ScanPipeline {self.decoder_name} formats={','.join(self._reader.formats)} roi={self.roi}>"

    # --- public ----------------------------------------------------------------------------

    def crop(self, frame: np.ndarray) -> np.ndarray:
        """The region of interest of ``frame`` (a view, no copy)."""
        if self.roi is None:
            return frame
        height, width = frame.shape[:2]
        x, y, w, h = self.roi
        x0, y0 = int(x * width), int(y * height)
        return frame[y0:max(y0 + 1, int((y + h) * height)), x0:max(x0 + 1, int((x + w) * width))]

    def decode(self, frame: np.ndarray, thorough: bool | None = None) -> list[Decoded]:
        """The codes in ``frame`` (BGR or grey uint8). ``thorough``: None lets the
        pipeline decide (see the module docstring), True runs every pass, False only the
        cheap ones."""
        self._frames += 1
        gray = self.crop(frame)
        if gray.ndim == 3:
            gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
        if self.decoder_name != "auto":
            found = self._reader.read(gray, thorough=True)
            self.hits[self.decoder_name] += bool(found)
            return found
        candidates: list = []
        for name, prepare in self._cheap_passes(gray):
            if found := self._reader.read(prepare(gray), errors=candidates):
                self.hits[name] += 1
                return found
        if thorough is False or (thorough is None and not candidates and self._frames % self.thorough_every):
            return []
        self.thorough_runs += 1
        for name, prepare, options in self._thorough_passes(gray):
            if found := self._reader.read(prepare(gray), **options):
                self.hits[name] += 1
                return found
        if self._other is not None and (thorough or candidates) and (found := self._other.read(gray)):
            self.hits["zbar"] += 1
            return found
        return []

    # --- the passes --------------------------------------------------------------------------

    @staticmethod
    def _cheap_passes(gray: np.ndarray) -> list[tuple[str, Callable]]:
        if gray.shape[1] >= WIDE:
            return [("half", _half), ("blur", _blur)]
        return [("full", _same)]

    def _thorough_passes(self, gray: np.ndarray) -> list[tuple[str, Callable, dict]]:
        passes = [("plain", _same, {"thorough": True})]
        if gray.shape[1] < SMALL:
            passes.append(("up2", _up2, {}))
        elif gray.shape[1] < WIDE:
            passes.append(("blur", _blur, {}))
        # zxing-cpp's local-average binarizer fails where glare or a shadow changes the
        # light across a module's neighbourhood; a global threshold survives some of those.
        passes.append(("global", _same, {"global_threshold": True}))
        return passes


def _other_decoder(formats: tuple[str, ...]) -> PyzbarDecoder | None:
    """zbar for the last pass, for the formats it reads; None where it is not installed."""
    readable = tuple(f for f in formats if f in ZBAR_SYMBOLS)
    if not readable:
        return None
    try:
        return PyzbarDecoder(readable)
    except DeviceUnavailable:
        return None


def _same(gray: np.ndarray) -> np.ndarray:
    return gray


def _half(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)


def _blur(gray: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(gray, (0, 0), 1.0)


def _up2(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, (gray.shape[1] * 2, gray.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
