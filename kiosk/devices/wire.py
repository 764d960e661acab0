"""What a driver said to its device and heard back, kept for the technician: the last
frames in both directions with their meaning, and the round-trip times of its exchanges.

A driver owns one ``WireLog`` per line (``wire``) and calls ``sent`` before it writes a
frame and ``received`` for each frame it parsed (or ``noise`` for bytes it threw away).
Thread-safe: the driver's thread writes, the controller's loop reads (``snapshot``).

**Nothing secret or personal goes in**: a driver passes ``hidden=True`` (or cuts the data
itself) for a PIN in a VERIFY APDU, a recipient's scanned code, a fingerprint template;
the log then keeps only the length and the meaning.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass

FRAMES_KEPT = 400
RTTS_KEPT = 200


@dataclass(frozen=True)
class WireFrame:
    at: float                 # time.time() when written or parsed
    direction: str            # "tx" host -> device, "rx" device -> host, "noise" thrown away
    data: bytes               # empty when hidden
    meaning: str
    hidden: int = 0           # bytes not kept (secret or personal)

    @property
    def hex(self) -> str:
        shown = self.data.hex(" ")
        return shown + (f" [{self.hidden} bytes hidden]" if self.hidden else "")


@dataclass(frozen=True)
class WireSnapshot:
    frames: tuple[WireFrame, ...]          # oldest first
    sent: int
    received: int
    noise_bytes: int
    rtt_last_ms: float | None
    rtt_p50_ms: float | None
    rtt_max_ms: float | None


class WireLog:
    def __init__(self, frames: int = FRAMES_KEPT) -> None:
        self._frames: deque[WireFrame] = deque(maxlen=frames)
        self._rtts: deque[float] = deque(maxlen=RTTS_KEPT)
        self._lock = threading.Lock()
        self._asked_at: float | None = None      # monotonic time of the last frame sent
        self._sent = self._received = self._noise = 0

    def sent(self, data: bytes, meaning: str = "", *, hidden: bool = False) -> None:
        with self._lock:
            self._asked_at = time.monotonic()
            self._sent += 1
            self._frames.append(_frame("tx", data, meaning, hidden))

    def received(self, data: bytes, meaning: str = "", *, hidden: bool = False) -> None:
        """A frame parsed from the device; the first after a ``sent`` closes a round trip."""
        with self._lock:
            if self._asked_at is not None:
                self._rtts.append((time.monotonic() - self._asked_at) * 1000)
                self._asked_at = None
            self._received += 1
            self._frames.append(_frame("rx", data, meaning, hidden))

    def noise(self, data: bytes, meaning: str = "thrown away") -> None:
        if data:
            with self._lock:
                self._noise += len(data)
                self._frames.append(_frame("noise", data, meaning, False))

    def snapshot(self, limit: int = FRAMES_KEPT) -> WireSnapshot:
        with self._lock:
            frames = tuple(self._frames)[-limit:] if limit > 0 else ()
            rtts = list(self._rtts)
            counts = (self._sent, self._received, self._noise)
        return WireSnapshot(frames, *counts, rtt_last_ms=rtts[-1] if rtts else None,
                            rtt_p50_ms=statistics.median(rtts) if rtts else None,
                            rtt_max_ms=max(rtts) if rtts else None)


def _frame(direction: str, data: bytes, meaning: str, hidden: bool) -> WireFrame:
    data = bytes(data)
    if hidden:
        return WireFrame(time.time(), direction, b"", meaning, hidden=len(data))
    return WireFrame(time.time(), direction, data, meaning)
