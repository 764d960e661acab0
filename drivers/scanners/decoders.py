"""The two raw decoders a camera scanner can use: zxing-cpp and pyzbar (zbar).

Both return ``Decoded`` with the payload as exact bytes. That is the point of this module:
zxing-cpp gives exact bytes only through ``Barcode.bytes`` (never ``.text``), and pyzbar
gives them only with zbar's BINARY option, which pyzbar 0.1.9 does not expose; without it
zbar guesses a charset and re-encodes byte-mode data as UTF-8 (Latin-1, Shift-JIS, even
Big5), so a binary tag would come out changed. See
shared/reference/barcode-decoders-measured.md, section 4.

Each decoder module is imported when a decoder is built, so a kiosk with a serial scanner
needs neither, and a missing one is reported by name (DeviceUnavailable), not as an
ImportError from deep inside a driver thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drivers.scanners import aim
from kiosk.errors import DeviceUnavailable, DeviceURLError

# symbology names accepted in a ``formats=`` list -> zxing-cpp BarcodeFormat attribute
ZXING_FORMATS = {"qr": "QRCode", "datamatrix": "DataMatrix", "aztec": "Aztec", "pdf417": "PDF417",
                 "code128": "Code128", "ean13": "EAN13", "ean8": "EAN8", "code39": "Code39", "itf": "ITF"}
# the same for zbar (no Data Matrix, no Aztec)
ZBAR_SYMBOLS = {"qr": "QRCODE", "pdf417": "PDF417", "code128": "CODE128", "ean13": "EAN13", "ean8": "EAN8",
                "code39": "CODE39", "itf": "I25"}
LINEAR = frozenset({"code128", "ean13", "ean8", "code39", "itf"})  # 1-D: misreads happen, confirm them
DEFAULT_FORMATS = ("qr", "datamatrix")
_ZBAR_TYPES = {v: k for k, v in ZBAR_SYMBOLS.items()}
_ZBAR_CFG_BINARY = 4  # zbar >= 0.23 (zbar.h: ZBAR_CFG_BINARY); pyzbar's stale enum calls 4 CFG_NUM


@dataclass(frozen=True)
class Decoded:
    """One symbol found in a frame."""

    data: bytes
    symbology: str


def check_formats(names: list[str], decoder: str, url: str = "") -> tuple[str, ...]:
    """Validate a ``formats=`` list for ``decoder``. Raises DeviceURLError."""
    table = ZBAR_SYMBOLS if decoder == "pyzbar" else ZXING_FORMATS
    unknown = [n for n in names if n not in table]
    if unknown or not names:
        raise DeviceURLError(f"{url!r}: formats {', '.join(unknown) or '(none)'} not readable by {decoder} "
                             f"(it reads {', '.join(sorted(table))})")
    return tuple(dict.fromkeys(names))


class ZxingDecoder:
    """zxing-cpp restricted to ``formats``. ``read(gray, thorough=False)``: the fast settings
    (no inverted search, no downscaled copies: measured to cost half the time for the same
    reads); ``thorough=True`` also finds light-on-dark codes (a phone in dark mode) and
    codes too big for the binarizer's window. Raises DeviceUnavailable if zxing-cpp is
    not installed."""

    name = "zxing"

    def __init__(self, formats: tuple[str, ...] = DEFAULT_FORMATS):
        try:
            import zxingcpp
        except ImportError as err:
            raise DeviceUnavailable("the zxing decoder needs the Python package 'zxing-cpp'") from err
        self._zx = zxingcpp
        # a tuple, not BarcodeFormat | BarcodeFormat: the latter is deprecated in zxing-cpp 3
        # A tuple, as zxing-cpp asks (its ``|`` is deprecated); its stubs still say BarcodeFormats.
        self._formats: Any = tuple(getattr(zxingcpp.BarcodeFormat, ZXING_FORMATS[f]) for f in formats)
        self.formats = formats

    def read(self, gray: np.ndarray, thorough: bool = False, errors: list | None = None,
             global_threshold: bool = False) -> list[Decoded]:
        """Symbols in ``gray`` (2-D uint8). When ``errors`` is a list, symbols that were
        found but failed to decode are appended to it: proof that a code is in view.
        ``global_threshold`` swaps the local-average binarizer for a global histogram one."""
        binarizer = self._zx.Binarizer.GlobalHistogram if global_threshold else self._zx.Binarizer.LocalAverage
        results = self._zx.read_barcodes(gray, formats=self._formats, try_invert=thorough,
                                         try_downscale=thorough, binarizer=binarizer,
                                         return_errors=errors is not None)
        found = []
        for result in results:
            if not result.valid:
                if errors is not None:  # only asked for (return_errors) when there is a list
                    errors.append(result)
                continue
            name = aim.symbology_of(result.symbology_identifier) or str(result.format).lower().replace(" ", "")
            found.append(Decoded(bytes(result.bytes), name))
        return found

    def read_default(self, gray: np.ndarray) -> list[Decoded]:
        """zxing-cpp as a plain caller would use it: every option at its default."""
        results = self._zx.read_barcodes(gray, formats=self._formats)
        return [Decoded(bytes(r.bytes), aim.symbology_of(r.symbology_identifier) or "unknown") for r in results]


class PyzbarDecoder:
    """zbar through pyzbar, with zbar's BINARY option on so byte-mode data stays bytes.

    Raises DeviceUnavailable if pyzbar or the zbar library (Debian: libzbar0) is missing,
    DeviceURLError for a format zbar cannot read (Data Matrix, Aztec)."""

    name = "pyzbar"

    def __init__(self, formats: tuple[str, ...] = ("qr",)):
        try:
            from pyzbar import pyzbar, wrapper
        except ImportError as err:  # pyzbar itself, or "Unable to find zbar shared library"
            raise DeviceUnavailable(f"the pyzbar decoder needs the Python package 'pyzbar' and the "
                                    f"zbar library (Debian: libzbar0): {err}") from err
        check_formats(list(formats), "pyzbar")
        self._pz, self._w = pyzbar, wrapper
        self._symbols = [getattr(wrapper.ZBarSymbol, ZBAR_SYMBOLS[f]) for f in formats]
        self.formats = formats

    def read(self, gray: np.ndarray, thorough: bool = False, errors: list | None = None) -> list[Decoded]:
        pz, w = self._pz, self._w
        gray = np.ascontiguousarray(gray)
        height, width = gray.shape[:2]
        found = []
        # pyzbar.decode() minus its charset guessing; these helpers are pyzbar's own
        # (private, stable since 2017: pyzbar has had no release since 0.1.9).
        with pz._image_scanner() as scanner:
            w.zbar_image_scanner_set_config(scanner, w.ZBarSymbol.NONE, w.ZBarConfig.CFG_ENABLE, 0)
            for symbol in self._symbols:
                w.zbar_image_scanner_set_config(scanner, symbol, w.ZBarConfig.CFG_ENABLE, 1)
                w.zbar_image_scanner_set_config(scanner, symbol, _ZBAR_CFG_BINARY, 1)
            with pz._image() as image:
                w.zbar_image_set_format(image, pz._FOURCC["L800"])
                w.zbar_image_set_size(image, width, height)
                w.zbar_image_set_data(image, pz.cast(gray.ctypes.data, pz.c_void_p), gray.size, None)
                if w.zbar_scan_image(scanner, image) < 0:
                    raise RuntimeError("zbar refused the image format")
                for decoded in pz._decode_symbols(pz._symbols_for_image(image)):
                    found.append(Decoded(bytes(decoded.data), _ZBAR_TYPES.get(decoded.type, decoded.type.lower())))
        return found

    def read_default(self, gray: np.ndarray) -> list[Decoded]:
        """pyzbar as a plain caller would use it: ``pyzbar.decode(image)`` (mangles binary)."""
        return [Decoded(bytes(d.data), _ZBAR_TYPES.get(d.type, d.type.lower())) for d in self._pz.decode(gray)]
