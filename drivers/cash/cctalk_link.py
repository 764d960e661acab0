"""One ccTalk exchange at a time over a serial port: send, hear the echo, read the reply.

The host is the only master on a ccTalk bus, so an exchange is: drop whatever is on the
line, write one message, read back its echo (on a single-wire bus the host hears itself;
a missing echo is counted, as it points at wiring), then wait for a reply addressed to the
host from the device asked. A reply with a bad checksum or none in time is asked again up
to ``retries`` times, but only for commands the caller says are safe to repeat: a dispense
is never repeated here (``drivers.cash.cctalk`` checks the hopper's counter instead).
"""

from __future__ import annotations

import collections
import errno
import threading
import time

import serial

from drivers.cash import cctalk_codec as codec
from kiosk.devices.wire import WireLog
from kiosk.errors import CashDeviceError, DeviceClosed, DeviceInitError, DeviceTimeout, DeviceUnavailable

READ_SLICE_S = 0.01


class CcTalkLink:
    """The port and the exchange rule. Thread-safe: exchanges are serialised."""

    def __init__(self, port: str, *, baud: int = 9600, echo: bool = True, timeout_s: float = 0.1,
                 retries: int = 2):
        self.port, self.baud, self.echo = port, baud, echo
        self.timeout_s, self.retries = timeout_s, retries
        self._serial: serial.SerialBase | None = None
        self._parser = codec.FrameParser(crc=None)
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()
        self._counts_lock = threading.Lock()  # health() reads them while an exchange runs
        self.wire = WireLog()                  # what went over the line, for the technician

    @property
    def stats(self) -> dict[str, int]:
        """Counters since construction: frames_sent, replies, timeouts, bad_checksums,
        echo_missing, unexpected_frames, stale_bytes, naks, busy."""
        with self._counts_lock:
            return dict(self._counts)

    def _count(self, key: str, n: int = 1) -> None:
        with self._counts_lock:
            self._counts[key] += n

    def open(self) -> None:
        """Raises DeviceUnavailable (no such port), DeviceInitError (cannot open it)."""
        try:
            self._serial = serial.serial_for_url(self.port, baudrate=self.baud, timeout=READ_SLICE_S,
                                                 write_timeout=1.0, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as err:
            if getattr(err, "errno", None) == errno.ENOENT:
                raise DeviceUnavailable(f"ccTalk: no serial port {self.port!r}") from err
            raise DeviceInitError(f"ccTalk: cannot open {self.port!r}: {err}") from err

    def close(self) -> None:
        with self._lock:
            if self._serial is not None:
                self._serial.close()
                self._serial = None

    @property
    def wire_s_per_byte(self) -> float:
        return 10 / self.baud  # 8N1: start, 8 data, stop

    def exchange(self, address: int, header: int, data: bytes = b"", *, crc: bool = False,
                 repeat: bool = True) -> bytes:
        """Send ``header`` with ``data`` to ``address``; return the ACK's data.

        ``repeat`` False: one attempt only (for commands that must not happen twice).
        Raises DeviceTimeout (no good reply; ``sent`` None as the device may have acted),
        CashDeviceError (NAK or BUSY), DeviceClosed, serial.SerialException / OSError
        (the port failed)."""
        frame = codec.build_frame(address, codec.HOST, header, data, crc=crc)
        attempts = 1 + (self.retries if repeat else 0)
        with self._lock:
            if self._serial is None:
                raise DeviceClosed(f"ccTalk port {self.port!r} is not open")
            for _ in range(attempts):
                reply = self._attempt(self._serial, frame, address, crc)
                if reply is not None:
                    break
            else:
                raise DeviceTimeout(f"ccTalk device {address} on {self.port}: no valid reply to "
                                    f"{codec.HEADER_NAMES.get(header, header)} ({attempts} attempt(s))", sent=None)
        if reply.header == codec.NAK:
            self._count("naks", 1)
            raise CashDeviceError(f"ccTalk device {address} refused {codec.HEADER_NAMES.get(header, header)} (NAK)")
        if reply.header == codec.BUSY:
            self._count("busy", 1)
            raise CashDeviceError(f"ccTalk device {address} is busy ({codec.HEADER_NAMES.get(header, header)})")
        return reply.data

    def _attempt(self, port: serial.SerialBase, frame: bytes, address: int, crc: bool) -> codec.Frame | None:
        if waiting := port.in_waiting:  # noise, or a late reply to an exchange that timed out
            stale = port.read(waiting)
            self._count("stale_bytes", len(stale))
            self.wire.noise(stale, "stale bytes before the request")
        self._parser.reset()
        self.wire.sent(frame, codec.describe(codec.decode_frame(frame, crc=crc)))
        port.write(frame)
        port.flush()
        self._count("frames_sent", 1)
        # The reply can come only after our bytes and its own have crossed the wire.
        deadline = time.monotonic() + self.timeout_s + 2 * len(frame) * self.wire_s_per_byte
        heard_echo = not self.echo
        bad_before = self._parser.bad_checksums
        while time.monotonic() < deadline:
            chunk = port.read(port.in_waiting or 1)
            for got in self._parser.feed(chunk):
                if not heard_echo and got.encode() == frame:
                    heard_echo = True
                    continue
                if got.dest == codec.HOST and got.is_reply and got.crc16 == crc and (crc or got.src == address):
                    self.wire.received(got.encode(), codec.describe(got))
                    self._count("replies", 1)
                    if not heard_echo:
                        self._count("echo_missing", 1)
                    return got
                self._count("unexpected_frames", 1)
                self.wire.noise(got.encode(), "unexpected: " + codec.describe(got))
            if self._parser.bad_checksums != bad_before:
                self._count("bad_checksums", self._parser.bad_checksums - bad_before)
                bad_before = self._parser.bad_checksums
                if heard_echo:
                    return None  # most likely our reply, damaged: ask again now rather than wait
        self._count("timeouts", 1)
        return None
