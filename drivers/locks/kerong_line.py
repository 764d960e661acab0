"""The host's end of one Kerong RS-485 bus: the serial port, and one question and its answer.

``LockBankKerong`` decides what to ask and when; this module owns the port (opened through
``serial.serial_for_url``, in pySerial's RS-485 mode when the host switches the transceiver's
direction with RTS), the frame parser, and the bounded wait for a board's status reply.
Only the bus thread calls it, except ``stats``.
"""

from __future__ import annotations

import collections
import errno
import threading
import time
from collections.abc import Callable

import serial
import serial.rs485

from drivers.locks import kerong_codec as codec
from kiosk.devices.wire import WireLog
from kiosk.errors import DeviceInitError, DeviceUnavailable

READ_SLICE_S = 0.02  # reads block this long at most, so waits end on their own deadline
RS485_MODES = ("off", "rts")


def status_text(status: codec.BoardStatus) -> str:
    """The doors a status reply reports open, and the compartments holding a parcel."""
    open_ = [str(i + 1) for i, closed in enumerate(status.closed) if not closed]
    full = [str(i + 1) for i, there in enumerate(status.occupied) if there]
    return f"open {','.join(open_) or '—'}; parcel in {','.join(full) or '—'}"


class KerongLine:
    """One serial port carrying CU16 frames. ``open()`` raises DeviceUnavailable (no such
    port) or DeviceInitError (cannot open it; no kernel RS-485 mode for rs485=rts); the
    exchanges raise serial.SerialException or OSError when the port fails."""

    def __init__(self, port: str, *, baud: int, timeout_s: float, polarity: str, rs485: str = "off",
                 stopping: Callable[[], bool] = lambda: False):
        if rs485 not in RS485_MODES:
            raise ValueError(f"rs485={rs485!r} is not one of {', '.join(RS485_MODES)}")
        self.port, self.baud, self.polarity, self.rs485 = port, baud, polarity, rs485
        self.timeout_s = timeout_s
        self.abandoned = False  # the last wait was given up (see await_status)
        self._stopping = stopping
        self._serial: serial.SerialBase | None = None
        self._parser = codec.FrameParser()
        self._counts = collections.Counter(frames_sent=0, replies=0, timeouts=0, unexpected_frames=0)
        self._lock = threading.Lock()  # the counters, read from other threads
        self.wire = WireLog()          # what went over the bus, for the technician

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    @property
    def serial_port(self) -> serial.SerialBase | None:
        return self._serial

    def open(self) -> None:
        """Open the port (a no-op if open). Raises DeviceUnavailable, DeviceInitError."""
        if self._serial is not None:
            return
        try:
            port = serial.serial_for_url(
                self.port, baudrate=self.baud, timeout=min(READ_SLICE_S, self.timeout_s),
                write_timeout=self.timeout_s, exclusive=True, do_not_open=True)
            if self.rs485 == "rts":
                # Set before open(): pySerial applies it while configuring the port, so RTS
                # is never left asserted (driving the bus) between opening and the first write.
                port.rs485_mode = serial.rs485.RS485Settings(rts_level_for_tx=True, rts_level_for_rx=False)
            port.open()
        except (serial.SerialException, OSError, ValueError) as err:
            if getattr(err, "errno", None) == errno.ENOENT:
                raise DeviceUnavailable(f"Kerong bus: no serial port {self.port!r}") from err
            if self.rs485 == "rts" and "RS485" in str(err):
                raise DeviceInitError(
                    f"Kerong bus: {self.port!r} has no kernel RS-485 mode, which rs485=rts needs ({err}); "
                    "use an adapter that switches direction by itself, with rs485=off") from err
            raise DeviceInitError(f"Kerong bus: cannot open {self.port!r}: {err}") from err
        self._serial = port

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None

    def stats(self) -> dict[str, int]:
        """frames_sent, replies, timeouts, unexpected_frames, checksum_errors, discarded_bytes."""
        with self._lock:
            return {**self._counts, "checksum_errors": self._parser.bad_checksums,
                    "discarded_bytes": self._parser.discarded}

    # --- exchanges (the bus thread) ------------------------------------------------------------

    def send(self, frame: bytes) -> None:
        """Write ``frame``, after throwing away bytes nobody asked for."""
        line = self._open_port()
        # The host is the only master, so bytes nobody asked for (noise, a late reply to a
        # query that already timed out) are thrown away before each exchange.
        if waiting := line.in_waiting:
            stale = line.read(waiting)
            self._count("unexpected_frames", len(self._parser.feed(stale)))
            self.wire.noise(stale, "unasked bytes before the request")
        self._parser.reset()
        self.wire.sent(frame, codec.describe_raw(frame))
        line.write(frame)
        line.flush()
        self._count("frames_sent")

    def ask(self, board: int, abandon_after: float | None = None,
            abandon: Callable[[], bool] = lambda: False) -> codec.BoardStatus | None:
        """Send ``board`` a status query and wait for its answer (see ``await_status``)."""
        self.send(codec.status_query_frame(board))
        return self.await_status(board, abandon_after=abandon_after, abandon=abandon)

    def await_status(self, board: int, count_timeout: bool = True, abandon_after: float | None = None,
                     abandon: Callable[[], bool] = lambda: False) -> codec.BoardStatus | None:
        """Read until a status frame from ``board`` arrives, a corrupt frame arrives or
        ``timeout_s`` runs out; or, with ``abandon_after``, until that long has passed and
        ``abandon()`` says so (then ``abandoned`` is set). None unless a status arrived."""
        started = time.monotonic()
        deadline = started + self.timeout_s
        bad_before = self._parser.bad_checksums
        line = self._open_port()
        self.abandoned = False
        while (now := time.monotonic()) < deadline and not self._stopping():
            if abandon_after is not None and now - started >= abandon_after and abandon():
                self.abandoned = True
                return None
            chunk = line.read(line.in_waiting or 1)
            for frame in self._parser.feed(chunk):
                if frame.cmd in codec.STATUS_REPLIES and frame.board == board:
                    self._count("replies")
                    status = codec.parse_status(frame, self.polarity)
                    self.wire.received(frame.encode(), f"{codec.describe(frame)}: {status_text(status)}")
                    return status
                self._count("unexpected_frames")
                self.wire.noise(frame.encode(), "unexpected: " + codec.describe(frame))
            if self._parser.bad_checksums != bad_before:
                return None  # most likely our reply, damaged: ask again now rather than wait
        if count_timeout and not self._stopping():
            self._count("timeouts")
        return None

    def _open_port(self) -> serial.SerialBase:
        if self._serial is None:  # the bus thread reopens it before any exchange after a failure
            raise serial.SerialException(f"{self.port}: the port is not open")
        return self._serial

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n
