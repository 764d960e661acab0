"""Framing of a serial scanner's byte stream: ``[prefix][AIM id][data]suffix``.

Pure: bytes and times in, frames out; it never raises on input, whatever arrives (the
fuzz tests throw random and mutated streams at it). What it throws away it counts:

    empty      a bare suffix (a scanner's "good read" with nothing in it, a blank line)
    garbage    line noise: control bytes a code never carries, 0xFF, bytes before the
               prefix, a frame without the AIM identifier the scanner was told to send
    overlong   longer than ``max_len`` (noise with no suffix, or a wrong baud rate); the
               rest of it, up to the next suffix, is dropped too
    partial    a frame cut off: no byte for ``gap_s`` without its suffix (the cable was
               pulled mid-frame, the scanner reset), or still pending at a reconnect

Codes that are binary may contain CR or LF; a scanner on suffix framing cannot send those
unambiguously, which is why labels carry text (see the tag format). ``crlf`` framing only
ends a frame at the pair, so a lone CR or LF inside data survives.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

from drivers.scanners import aim

SUFFIXES = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "tab": b"\t", "etx": b"\x03"}
# C0 controls allowed inside data: TAB, and EOT/FS/GS/RS/US, which GS1 and ISO/IEC 15434
# payloads use as separators. Anything else (NUL, the rest of C0, 0xFF) is line noise.
_ALLOWED_CONTROLS = frozenset(b"\t\x04\x1c\x1d\x1e\x1f")
_FORBIDDEN = bytes(b for b in list(range(0x20)) + [0x7F, 0xFF] if b not in _ALLOWED_CONTROLS)


@dataclass(frozen=True)
class Frame:
    data: bytes
    symbology: str          # from the AIM identifier; "unknown" without one
    identifier: str = ""    # e.g. "]Q1"


class SerialFramer:
    """Cuts a byte stream into frames. Not thread-safe: one reading thread owns it."""

    def __init__(self, suffix: bytes = b"\r\n", *, prefix: bytes = b"", aim_ids: bool = False,
                 max_len: int = 2048, gap_s: float = 0.25, binary: bool = False):
        if not suffix:
            raise ValueError("a frame needs a suffix")
        self.suffix, self.prefix, self.aim_ids = suffix, prefix, aim_ids
        self.max_len, self.gap_s, self.binary = max_len, gap_s, binary
        # every key present from the start: another thread copies this for stats
        self.counts = collections.Counter(dict.fromkeys(("frames", "empty", "garbage", "overlong", "partial",
                                                          "discarded_bytes"), 0))
        self._buf = bytearray()
        self._last = 0.0
        self._skipping = False  # inside an over-long frame: drop up to the next suffix

    @property
    def pending(self) -> int:
        """Bytes of a frame not yet complete."""
        return len(self._buf)

    def feed(self, chunk: bytes, now: float) -> list[Frame]:
        """Frames completed by ``chunk``, which arrived at ``now`` (seconds, monotonic)."""
        self.expire(now)
        if not chunk:
            return []
        self._last = now
        self._buf += chunk
        frames: list[Frame] = []
        limit = len(self.prefix) + aim.IDENTIFIER_LENGTH + self.max_len
        while True:
            end = self._buf.find(self.suffix)
            if end < 0:
                if len(self._buf) > limit:  # keep a tail: the suffix may be split across reads
                    keep = len(self.suffix) - 1
                    self._discard("overlong" if not self._skipping else None, len(self._buf) - keep)
                    del self._buf[:len(self._buf) - keep]
                    self._skipping = True
                return frames
            raw = bytes(self._buf[:end])
            del self._buf[:end + len(self.suffix)]
            if self._skipping or end > limit:
                self._skipping = False
                self._discard(None if end <= limit else "overlong", len(raw))
                continue
            frame = self._parse(raw)
            if frame is not None:
                self.counts["frames"] += 1
                frames.append(frame)

    def expire(self, now: float) -> None:
        """Drop a frame that stopped arriving ``gap_s`` ago without its suffix."""
        if self._buf and now - self._last > self.gap_s:
            self.reset()

    def reset(self) -> None:
        """Forget a half-received frame (counted as partial): after a reconnect, or a gap."""
        if self._buf and not self._skipping:
            self._discard("partial", len(self._buf))
        elif self._buf:
            self._discard(None, len(self._buf))
        self._buf.clear()
        self._skipping = False

    # --- one frame -------------------------------------------------------------------------

    def _parse(self, raw: bytes) -> Frame | None:
        # A scanner sending CR LF to a host told "cr" (or LF CR to one told "lf") leaves
        # the other byte at the edge of every frame: tolerate that, it is not noise.
        if self.suffix == b"\r" and raw.startswith(b"\n"):
            raw = raw[1:]
        elif self.suffix == b"\n" and raw.endswith(b"\r"):
            raw = raw[:-1]
        if self.prefix:
            start = raw.find(self.prefix)
            if start < 0:
                self._reject("garbage", raw)
                return None
            if start:
                self._discard("garbage", start)
            raw = raw[start + len(self.prefix):]
        if not raw:
            self.counts["empty"] += 1
            return None
        identifier, symbology = "", "unknown"
        if self.aim_ids:
            parts = aim.split(raw)
            if parts is None:  # also the tail of a frame we joined half-way: not a code
                self._reject("garbage", raw)
                return None
            identifier, symbology, raw = parts
            if not raw:
                self.counts["empty"] += 1
                return None
        if not self.binary and len(raw.translate(None, _FORBIDDEN)) != len(raw):
            self._reject("garbage", raw)
            return None
        if len(raw) > self.max_len:  # the buffer limit allows for a prefix and an identifier
            self._reject("overlong", raw)
            return None
        return Frame(raw, symbology, identifier)

    def _reject(self, reason: str, raw: bytes) -> None:
        self._discard(reason, len(raw))

    def _discard(self, reason: str | None, nbytes: int) -> None:
        if reason:
            self.counts[reason] += 1
        self.counts["discarded_bytes"] += nbytes
