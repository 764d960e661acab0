"""Scanner driver for barcode scanners on a serial line (RS-232, or USB in CDC/VCP mode).

URL grammar (every parameter optional)::

    serial:///dev/serial/by-id/usb-Honeywell_...-if00?baud=9600&suffix=crlf&aim=1
           &prefix=&dedupe_ms=1500&max_len=2048&gap_ms=250&binary=0

    baud       line speed (8N1); generic scanners default to 9600, Honeywell's RS-232
               plug-and-play code sets 115200
    suffix     what ends a code: cr, lf, crlf (default), tab, etx
    prefix     bytes the scanner puts first, in hex (e.g. 02 for STX); default none
    aim        1: the scanner sends AIM symbology identifiers (]Q1, ]d2, ]C0, ...); they
               fill Scan.symbology and are stripped, and a frame without one is dropped
               as noise (recommended: it also rejects the tail of a frame joined half-way)
    dedupe_ms  a code read again within this long after its last read is dropped; 0: never
    max_len    longest code accepted, bytes
    gap_ms     a frame with no byte for this long and no suffix is dropped (partial)
    binary     1: accept control bytes inside codes (off: they are line noise)

The path goes to ``serial.serial_for_url``, so a pty (the emulator), ``loop://`` or
``socket://`` work too. Prefer ``/dev/serial/by-id/...``: it survives re-plugging into
another USB port, and after an unplug the driver reopens the same path until it is back.
"""

from __future__ import annotations

import errno

import serial

from drivers.scanners.base import READ_SLICE_S, DeviceLost, ScannerBase, base_options
from drivers.scanners.framing import SUFFIXES, SerialFramer
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceInitError, DeviceUnavailable, DeviceURLError


class ScannerSerial(ScannerBase):
    """A serial barcode scanner. See the module docstring for the URL.

    ``open()`` raises DeviceUnavailable (no such port), DeviceInitError (cannot open it).
    ``stats``: scans, duplicates, frames, empty, garbage, overlong, partial,
    discarded_bytes, disconnects, reconnects."""

    kind = "serial-scanner"

    def __init__(self, port: str, *, baud: int = 9600, suffix: str = "crlf", prefix: bytes = b"",
                 aim: bool = False, dedupe_ms: int = 1500, max_len: int = 2048, gap_ms: int = 250,
                 binary: bool = False, url: str | None = None, **base):
        """Raises ValueError for an unknown suffix."""
        if suffix not in SUFFIXES:
            raise ValueError(f"suffix {suffix!r} is not one of {', '.join(SUFFIXES)}")
        super().__init__(url or f"serial://{port}", dedupe_ms=dedupe_ms, **base)
        self.port, self.baud = port, baud
        self._framer = SerialFramer(SUFFIXES[suffix], prefix=prefix, aim_ids=aim, max_len=max_len,
                                    gap_s=gap_ms / 1000, binary=binary)
        self._serial: serial.SerialBase | None = None

    # --- URL ---------------------------------------------------------------------------------

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        """The keyword arguments the URL's query asks for. Raises DeviceURLError."""
        prefix_hex = url.str("prefix", "")
        try:
            prefix = bytes.fromhex(prefix_hex)
        except ValueError:
            raise DeviceURLError(f"{url.raw!r}: prefix={prefix_hex!r} is not hex bytes (e.g. 02)") from None
        return dict(
            baud=url.int("baud", 9600, lo=300, hi=921600),
            suffix=url.choice("suffix", tuple(SUFFIXES), "crlf"),
            prefix=prefix,
            aim=url.bool("aim", False),
            dedupe_ms=url.int("dedupe_ms", 1500, lo=0, hi=600_000),
            max_len=url.int("max_len", 2048, lo=1, hi=65536),
            gap_ms=url.int("gap_ms", 250, lo=10, hi=60_000),
            binary=url.bool("binary", False),
        )

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> "ScannerSerial":
        """Build (not open) the scanner a ``serial://`` URL describes. Raises DeviceURLError."""
        cls.check_url(url)
        return cls(url.path, url=url.raw, **cls.options_from_url(url), **base_options(context))

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        """Check a serial:// URL without opening anything. Raises DeviceURLError."""
        url.require_port("serial:///dev/ttyACM0")
        cls.options_from_url(url)

    # --- ScannerBase hooks ---------------------------------------------------------------------

    def _connect(self) -> None:
        try:
            self._serial = serial.serial_for_url(self.port, baudrate=self.baud, timeout=READ_SLICE_S,
                                                 exclusive=True)
        except (serial.SerialException, OSError, ValueError) as err:
            if getattr(err, "errno", None) == errno.ENOENT or "No such file" in str(err):
                raise DeviceUnavailable(f"serial scanner: no port {self.port!r}") from err
            raise DeviceInitError(f"serial scanner: cannot open {self.port!r}: {err}") from err

    def _disconnect(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError):
                pass  # the device is already gone
            self._serial = None

    def _pump(self) -> None:
        port = self._serial
        if port is None:  # not connected: the reconnect loop calls _connect first
            raise DeviceLost("the port is not open")
        try:
            chunk = port.read(port.in_waiting or 1)
        except (serial.SerialException, OSError) as err:  # pyserial: "returned no data (device disconnected?)"
            raise DeviceLost(str(err)) from err
        for frame in self._framer.feed(chunk, self._monotonic()):
            self._deliver(frame.data, frame.symbology)

    def _reset(self) -> None:
        self._framer.reset()

    def _stats_locked(self) -> dict[str, int]:
        return {**self._framer.counts, **self._counts}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.port!r} {self.baud} baud {self._state}>"
