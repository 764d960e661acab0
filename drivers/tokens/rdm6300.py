"""125 kHz RFID readers on a serial line (RDM6300 and the many modules speaking its frames).

The reader sends, at 9600 8N1, one frame per read of an EM4100-family tag, and repeats it
for as long as the tag stays in the field::

    02 | 10 ASCII hex digits (1 version/customer byte + 4 card id bytes) | 2 ASCII hex (checksum) | 03

The checksum is the XOR of the five data bytes. A frame is delivered as a ``Scan`` whose
``data`` is the ten hex digits in upper case (``b"1A00C3D4E5"``) and whose symbology is
``em4100``; the repeats while the tag is held are suppressed by the scanner base's
duplicate window (``dedupe_ms``). A bad checksum, a frame cut off, bytes outside a frame
and non-hex digits are dropped and counted, never delivered.

URL::

    rdm6300:///dev/serial/by-id/usb-...-if00-port0?baud=9600&dedupe_ms=1500&gap_ms=100
"""

from __future__ import annotations

import errno

import serial

from drivers.scanners.base import READ_SLICE_S, DeviceLost, ScannerBase, base_options
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceInitError, DeviceUnavailable

STX, ETX = 0x02, 0x03
FRAME_LEN = 14          # STX + 10 data digits + 2 checksum digits + ETX
SYMBOLOGY = "em4100"
_HEX = frozenset(b"0123456789ABCDEFabcdef")


def frame_for(uid: str) -> bytes:
    """The frame a reader sends for the tag ``uid`` (ten hex digits). Raises ValueError."""
    data = bytes.fromhex(uid)
    if len(data) != 5:
        raise ValueError(f"an EM4100 id is ten hex digits, not {uid!r}")
    check = 0
    for byte in data:
        check ^= byte
    return bytes([STX]) + uid.upper().encode("ascii") + f"{check:02X}".encode("ascii") + bytes([ETX])


class RdmFramer:
    """Bytes in, tag ids out. ``counts``: frames, bad_checksum, malformed, partial, stray_bytes."""

    def __init__(self, gap_s: float = 0.1) -> None:
        self.gap_s = gap_s
        self._buffer = bytearray()
        self._last_byte_at = 0.0
        self.counts = dict.fromkeys(("frames", "bad_checksum", "malformed", "partial", "stray_bytes"), 0)

    def reset(self) -> None:
        if self._buffer:
            self.counts["partial"] += 1
        self._buffer.clear()

    def feed(self, chunk: bytes, now: float) -> list[str]:
        if self._buffer and now - self._last_byte_at > self.gap_s:
            self.reset()       # the rest of that frame never came
        if chunk:
            self._last_byte_at = now
        out = []
        for byte in chunk:
            if not self._buffer:
                if byte == STX:
                    self._buffer.append(byte)
                else:
                    self.counts["stray_bytes"] += 1
                continue
            if byte == STX:    # a new frame began before this one ended
                self.counts["partial"] += 1
                self._buffer[:] = bytes([STX])
                continue
            self._buffer.append(byte)
            if len(self._buffer) == FRAME_LEN:
                uid = self._parse(bytes(self._buffer))
                self._buffer.clear()
                if uid is not None:
                    out.append(uid)
        return out

    def _parse(self, frame: bytes) -> str | None:
        body = frame[1:13]
        if frame[13] != ETX or not all(b in _HEX for b in body):
            self.counts["malformed"] += 1
            return None
        data = bytes.fromhex(body[:10].decode("ascii"))
        check = 0
        for byte in data:
            check ^= byte
        if check != int(body[10:12], 16):
            self.counts["bad_checksum"] += 1
            return None
        self.counts["frames"] += 1
        return body[:10].decode("ascii").upper()


class TokenReaderRdm6300(ScannerBase):
    """A 125 kHz reader sending RDM6300 frames. ``open()`` raises DeviceUnavailable (no such
    port), DeviceInitError (cannot open it)."""

    kind = "rdm6300"

    def __init__(self, port: str, *, baud: int = 9600, dedupe_ms: int = 1500, gap_ms: int = 100,
                 url: str | None = None, **base) -> None:
        super().__init__(url or f"rdm6300://{port}", dedupe_ms=dedupe_ms, **base)
        self.port, self.baud = port, baud
        self._framer = RdmFramer(gap_ms / 1000)
        self._serial: serial.SerialBase | None = None

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        return dict(baud=url.int("baud", 9600, lo=1200, hi=115200),
                    dedupe_ms=url.int("dedupe_ms", 1500, lo=0, hi=600_000),
                    gap_ms=url.int("gap_ms", 100, lo=5, hi=10_000))

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        """Check an rdm6300:// URL without opening anything. Raises DeviceURLError."""
        url.require_port("rdm6300:///dev/ttyUSB0")
        cls.options_from_url(url)

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> TokenReaderRdm6300:
        cls.check_url(url)
        return cls(url.path, url=url.raw, **cls.options_from_url(url), **base_options(context))

    def _connect(self) -> None:
        try:
            self._serial = serial.serial_for_url(self.port, baudrate=self.baud, timeout=READ_SLICE_S,
                                                 exclusive=True)
        except (serial.SerialException, OSError, ValueError) as err:
            if getattr(err, "errno", None) == errno.ENOENT or "No such file" in str(err):
                raise DeviceUnavailable(f"RFID reader: no port {self.port!r}") from err
            raise DeviceInitError(f"RFID reader: cannot open {self.port!r}: {err}") from err

    def _disconnect(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError):
                pass  # the device is already gone
            self._serial = None

    def _pump(self) -> None:
        assert self._serial is not None
        try:
            chunk = self._serial.read(self._serial.in_waiting or 1)
        except (serial.SerialException, OSError) as err:
            raise DeviceLost(str(err)) from err
        for uid in self._framer.feed(chunk, self._monotonic()):
            self._deliver(uid.encode("ascii"), SYMBOLOGY)

    def _reset(self) -> None:
        self._framer.reset()

    def _stats_locked(self) -> dict[str, int]:
        return {**self._framer.counts, **self._counts}

    def __repr__(self) -> str:
        return f"<TokenReaderRdm6300 {self.port!r} {self.baud} baud {self._state}>"
