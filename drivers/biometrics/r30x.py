"""R30x / R503 UART fingerprint modules: the local matcher of the F5 method.

URL::

    r30x:///dev/serial/by-id/usb-...-if00-port0?baud=57600&password=0&threshold=50&reply_ms=1000&finger_wait_ms=8000

``finger_wait_ms``: how long a check waits for a finger on the sensor before it answers no_finger.

A check (``verify``): the store's reference template for the parcel is downloaded into
the module's CharBuffer 2 (DownChar), the finger is captured (GenImg, repeated until a
finger is on the sensor or the capture timeout passes), converted into CharBuffer 1
(Img2Tz) and matched (Match, which answers a score). The finger matches when the module
says so **and** the score reaches ``threshold``. Whatever happens, both buffers are then
overwritten with zeros (``wipe``): no template is left in the module. ``capture`` gives the
template of a finger (UpChar) for the store to match (the remote matcher). Templates are
never logged and never written to disk.

Errors: DeviceUnavailable (no port), DeviceInitError (cannot open it, wrong password),
DeviceTimeout (no answer within ``reply_ms``), DeviceOperationError (a damaged answer,
a transfer refused). No finger within the capture time is not an error: the result says
``no_finger``.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from dataclasses import dataclass

import serial

from drivers.biometrics import r30x_codec as C
from kiosk.devices.wire import WireLog
from kiosk.devices.url import DeviceURL
from kiosk.errors import (DeviceClosed, DeviceInitError, DeviceOperationError, DeviceTimeout, DeviceUnavailable,
                          DeviceURLError)

log = logging.getLogger(__name__)

TEMPLATE_SIZE = 512
GEN_IMG_PAUSE_S = 0.05        # between two captures while no finger is on the sensor


@dataclass(frozen=True)
class MatchResult:
    outcome: str          # matched | no_match | no_finger | poor_image
    score: int = 0

    @property
    def matched(self) -> bool:
        return self.outcome == "matched"


class FingerprintR30x:
    """One module on one serial port; calls are blocking and serialised (run them in a thread)."""

    kind = "r30x"

    def __init__(self, port: str, *, baud: int = 57600, password: int = 0, threshold: int = 50,
                 reply_ms: int = 1000, finger_wait_ms: int = 8000, url: str | None = None) -> None:
        self.port, self.baud, self.password = port, baud, password
        self.threshold = threshold
        self.reply_s = reply_ms / 1000
        self.finger_wait_s = finger_wait_ms / 1000
        self.url = url or f"r30x://{port}"
        self._serial: serial.SerialBase | None = None
        self._parser = C.PacketParser()
        self._pending: list[C.Packet] = []
        self._lock = threading.Lock()
        self.packet_size = 128
        self.counts = {"checks": 0, "matches": 0, "timeouts": 0, "bad_replies": 0}
        self.wire = WireLog()      # the last packets both ways (templates and password hidden)

    # --- URL -----------------------------------------------------------------------------------

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        if url.host or not url.path and not url.scheme.startswith("sim+"):
            raise DeviceURLError(f"{url.raw!r}: give the port as a path, e.g. r30x:///dev/ttyUSB0")
        return dict(baud=url.int("baud", 57600, lo=9600, hi=115200),
                    password=url.int("password", 0, lo=0, hi=0xFFFFFFFF),
                    threshold=url.int("threshold", 50, lo=1, hi=1000),
                    reply_ms=url.int("reply_ms", 1000, lo=50, hi=10_000),
                    finger_wait_ms=url.int("finger_wait_ms", 8000, lo=0, hi=60_000))

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        cls.options_from_url(url)

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> FingerprintR30x:
        return cls(url.path, url=url.raw, **cls.options_from_url(url))

    # --- lifecycle ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the port, give the module its password, read its packet size. Idempotent."""
        with self._lock:
            if self._serial is not None:
                return
            try:
                self._serial = serial.serial_for_url(self.port, baudrate=self.baud, timeout=0.02, exclusive=True)
            except (serial.SerialException, OSError, ValueError) as err:
                if getattr(err, "errno", None) == errno.ENOENT or "No such file" in str(err):
                    raise DeviceUnavailable(f"fingerprint module: no port {self.port!r}") from err
                raise DeviceInitError(f"fingerprint module: cannot open {self.port!r}: {err}") from err
            try:
                if self._command(C.VFY_PWD, self.password.to_bytes(4, "big"))[0] != C.OK:
                    raise DeviceInitError("fingerprint module: the module refused the password (password=)")
                params = self._command(C.READ_SYS_PARA)
                code = int.from_bytes(params[13:15], "big") if len(params) >= 15 else 2
                self.packet_size = C.PACKET_SIZES[code] if code < len(C.PACKET_SIZES) else 128
            except BaseException:
                self._close_port()
                raise

    def close(self) -> None:
        with self._lock:
            self._close_port()

    def __enter__(self) -> FingerprintR30x:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FingerprintR30x {self.port!r} {'open' if self._serial else 'closed'} threshold={self.threshold}>"

    # --- what the service asks -----------------------------------------------------------------------

    def verify(self, reference: bytes, *, timeout_s: float | None = None) -> MatchResult:
        """Match the finger on the sensor against ``reference`` (the store's template),
        waiting ``timeout_s`` (default: ``finger_wait_ms``) for a finger."""
        if len(reference) != TEMPLATE_SIZE:
            raise ValueError(f"a reference template is {TEMPLATE_SIZE} bytes, not {len(reference)}")
        with self._lock:
            self.counts["checks"] += 1
            try:
                self._download(2, reference)
                outcome = self._capture_into(1, timeout_s)
                if outcome is not None:
                    return MatchResult(outcome)
                answer = self._command(C.MATCH)
                score = int.from_bytes(answer[1:3], "big") if len(answer) >= 3 else 0
                if answer[0] == C.OK and score >= self.threshold:
                    self.counts["matches"] += 1
                    return MatchResult("matched", score)
                return MatchResult("no_match", score)
            finally:
                self._wipe_quietly()

    def capture(self, *, timeout_s: float | None = None) -> bytes | MatchResult:
        """The template of the finger on the sensor (for a remote match), or the MatchResult
        saying why there is none (no_finger, poor_image)."""
        with self._lock:
            try:
                outcome = self._capture_into(1, timeout_s)
                if outcome is not None:
                    return MatchResult(outcome)
                return self._upload(1)
            finally:
                self._wipe_quietly()

    def wipe(self) -> None:
        """Overwrite both template buffers with zeros."""
        with self._lock:
            self._zero_buffers()

    def _zero_buffers(self) -> None:
        for buffer in (1, 2):
            self._download(buffer, bytes(TEMPLATE_SIZE))
        # Data packets get no answer: a command's acknowledgement proves the module took
        # in every byte sent before it (one serial line, in order).
        self._command(C.TEMPLATE_NUM)

    # --- steps --------------------------------------------------------------------------------------

    def _capture_into(self, buffer: int, timeout_s: float | None) -> str | None:
        deadline = time.monotonic() + (self.finger_wait_s if timeout_s is None else timeout_s)
        while True:
            code = self._command(C.GEN_IMG)[0]
            if code == C.OK:
                break
            if code not in (C.NO_FINGER, C.IMAGING_FAILED) or time.monotonic() >= deadline:
                return "no_finger" if code == C.NO_FINGER else "poor_image"
            time.sleep(GEN_IMG_PAUSE_S)
        code = self._command(C.IMG2TZ, bytes([buffer]))[0]
        return None if code == C.OK else "poor_image"

    def _download(self, buffer: int, template: bytes) -> None:
        if self._command(C.DOWN_CHAR, bytes([buffer]))[0] != C.OK:
            raise DeviceOperationError("fingerprint module refused a template download")
        size = self.packet_size
        for i in range(0, len(template), size):
            pid = C.END_DATA if i + size >= len(template) else C.DATA
            self._send(C.encode(pid, template[i:i + size]))

    def _upload(self, buffer: int) -> bytes:
        if self._command(C.UP_CHAR, bytes([buffer]))[0] != C.OK:
            raise DeviceOperationError("fingerprint module refused a template upload")
        data = bytearray()
        while True:
            packet = self._receive()
            if packet.pid not in (C.DATA, C.END_DATA):
                raise DeviceOperationError("fingerprint module: a template transfer was interrupted")
            data += packet.payload
            if packet.pid == C.END_DATA or len(data) > 4 * TEMPLATE_SIZE:
                return bytes(data)

    def _wipe_quietly(self) -> None:
        try:
            self._zero_buffers()
        except (DeviceTimeout, DeviceOperationError) as err:
            log.warning("fingerprint module: could not wipe its buffers: %s", err)

    # --- the line ------------------------------------------------------------------------------------

    def _command(self, instruction: int, args: bytes = b"") -> bytes:
        """Send a command packet; the acknowledgement's payload (confirmation code first)."""
        self._send(C.encode(C.COMMAND, bytes([instruction]) + args))
        packet = self._receive()
        if packet.pid != C.ACK or not packet.payload:
            self.counts["bad_replies"] += 1
            raise DeviceOperationError(f"fingerprint module: expected an acknowledgement, got packet {packet.pid:#04x}")
        return packet.payload

    def _send(self, frame: bytes) -> None:
        if self._serial is None:
            raise DeviceClosed(f"{self!r} is not open")
        meaning, private = C.describe(C.decode(frame))
        self.wire.sent(frame, meaning, hidden=private)
        try:
            self._serial.write(frame)
        except (serial.SerialException, OSError) as err:
            raise DeviceOperationError(f"fingerprint module: cannot write: {err}") from err

    def _receive(self) -> C.Packet:
        if self._pending:
            return self._pending.pop(0)
        if self._serial is None:
            raise DeviceClosed(f"{self!r} is not open")
        deadline = time.monotonic() + self.reply_s
        bad_before = self._parser.counts["bad_checksum"]
        while time.monotonic() < deadline:
            try:
                chunk = self._serial.read(self._serial.in_waiting or 1)
            except (serial.SerialException, OSError) as err:
                raise DeviceOperationError(f"fingerprint module: cannot read: {err}") from err
            for packet in (got := self._parser.feed(chunk)):
                meaning, private = C.describe(packet)
                self.wire.received(C.encode(packet.pid, packet.payload, packet.address), meaning, hidden=private)
            self._pending += got
            if self._pending:
                return self._pending.pop(0)
            if self._parser.counts["bad_checksum"] > bad_before:
                self.counts["bad_replies"] += 1
                raise DeviceOperationError("fingerprint module: an answer arrived damaged (checksum)")
        self.counts["timeouts"] += 1
        self._parser.reset()
        raise DeviceTimeout(f"fingerprint module: no answer within {self.reply_s:.1f} s")

    def _close_port(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError):
                pass
            self._serial = None
        self._pending.clear()
        self._parser.reset()
