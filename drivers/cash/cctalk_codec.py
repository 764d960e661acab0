"""ccTalk wire protocol: frames, checksums, event buffers and value codes. No I/O.

Both sides of the bus use this module: the real driver (``drivers.cash.cctalk``) and the
emulated devices (``hwsim.cash``). ccTalk is a multi-drop, half-duplex serial bus (9600 8N1,
one data wire): the host (address 1) sends a message, the addressed device answers::

    simple checksum:  [dest][len][src][header][data × len][checksum]
                      every byte of the frame sums to 0 mod 256
    CRC-16 variant:   [dest][len][crc lo][header][data × len][crc hi]
                      CRC-16/XMODEM (poly 0x1021, init 0) over dest, len, header, data

A reply has header 0 (ACK, data = the answer), 5 (NAK) or 6 (BUSY). Because the wire is
shared, the host reads back its own message (the *echo*) before the reply.

Event buffers (headers 229 and 159) carry ``[event counter][A1 B1]...[A5 B5]``, newest
first. The counter runs 1..255 and wraps to 1; 0 means the device was reset (power cut)
and its buffer is empty. :func:`new_events` turns two successive readings into the events
not yet seen, and says how many were lost.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

HOST = 1
ADDR_COIN_ACCEPTOR = 2
ADDR_HOPPER = 3
ADDR_BILL_VALIDATOR = 40

# Reply headers.
ACK = 0
NAK = 5
BUSY = 6

# Command headers (ccTalk generic specification, part 2). Only what this project sends.
H_SIMPLE_POLL = 254
H_EQUIPMENT_CATEGORY = 245
H_MANUFACTURER = 246
H_PRODUCT_CODE = 244
H_SERIAL_NUMBER = 242
H_SOFTWARE_REVISION = 241
H_MODIFY_INHIBIT = 231
H_REQUEST_INHIBIT = 230
H_READ_BUFFERED_CREDIT = 229
H_MODIFY_MASTER_INHIBIT = 228
H_REQUEST_MASTER_INHIBIT = 227
H_REQUEST_COIN_ID = 184
H_REQUEST_HOPPER_COIN = 171
H_DISPENSE_HOPPER_COINS = 167
H_REQUEST_HOPPER_STATUS = 166
H_ENABLE_HOPPER = 164
H_TEST_HOPPER = 163
H_READ_BUFFERED_BILL_EVENTS = 159
H_REQUEST_BILL_ID = 157
H_REQUEST_COUNTRY_SCALING = 156
H_ROUTE_BILL = 154
H_MODIFY_BILL_OPERATING_MODE = 153
H_RESET_DEVICE = 1

HEADER_NAMES = {
    0: "ACK", 5: "NAK", 6: "BUSY", 1: "reset device", 254: "simple poll", 245: "equipment category",
    246: "manufacturer", 244: "product code", 242: "serial number", 241: "software revision",
    231: "modify inhibit status", 230: "request inhibit status", 229: "read buffered credit",
    228: "modify master inhibit", 227: "request master inhibit", 184: "request coin id",
    171: "request hopper coin", 167: "dispense hopper coins", 166: "request hopper status",
    164: "enable hopper", 163: "test hopper", 159: "read buffered bill events", 157: "request bill id",
    156: "request country scaling factor", 154: "route bill", 153: "modify bill operating mode",
}

ENABLE_HOPPER = 165          # 164's data byte that enables; anything else disables
ROUTE_RETURN, ROUTE_STACK, ROUTE_EXTEND = 0, 1, 255
ROUTE_ESCROW_EMPTY, ROUTE_FAILED = 254, 255  # 154's error codes in an ACK's data
EVENT_SLOTS = 5
MAX_DATA = 252               # a length byte of 252 keeps a frame within 257 bytes

# 229: result A = 0 means result B is an error code (coin acceptors).
COIN_ERRORS = {
    0: "null event", 1: "reject coin", 2: "inhibited coin", 3: "multiple window", 4: "wake-up timeout",
    5: "validation timeout", 6: "credit sensor timeout", 7: "sorter opto timeout", 8: "2nd close coin error",
    9: "accept gate not ready", 10: "credit sensor not ready", 11: "sorter not ready",
    12: "reject coin not cleared", 13: "validation sensor not ready", 14: "credit sensor blocked",
    15: "sorter opto blocked", 16: "credit sequence error", 17: "coin going backwards",
    18: "coin too fast", 19: "coin too slow", 20: "coin-on-string mechanism activated",
    254: "coin return mechanism activated", 255: "unspecified alarm",
}
COIN_FRAUD_CODES = frozenset({16, 17, 18, 19, 20})

# 159: result A = 0 means result B is a status or error code (bill validators).
BILL_STATUS = {
    0: "master inhibit active", 1: "bill returned from escrow", 2: "invalid bill (validation fail)",
    3: "invalid bill (transport problem)", 4: "inhibited bill (serial)", 5: "inhibited bill (DIP switches)",
    6: "bill jammed in transport (unsafe mode)", 7: "bill jammed in stacker", 8: "bill pulled backwards",
    9: "bill tamper", 10: "stacker OK", 11: "stacker removed", 12: "stacker inserted", 13: "stacker faulty",
    14: "stacker full", 15: "stacker jammed", 16: "bill jammed in transport (safe mode)",
    17: "opto fraud detected", 18: "string fraud detected", 19: "anti-string mechanism faulty",
}
BILL_RETURNED = 1
BILL_FRAUD_CODES = frozenset({8, 9, 17, 18})
BILL_ESCROW, BILL_STACKED = 1, 0  # result B when result A is a bill type

# 163 test hopper, register 1.
HOPPER_PAYOUT_TIMEOUT = 0x02       # no coin came out: empty (or a coin stuck upstream)
HOPPER_OPTO_BLOCKED = 0x20         # exit opto blocked during payout: jammed
HOPPER_POWER_UP = 0x40
HOPPER_DISABLED = 0x80


class FrameError(ValueError):
    """Bytes that are not a frame, or a frame that breaks the protocol."""


def simple_checksum(body: bytes | bytearray) -> int:
    """The byte that makes ``body`` plus it sum to 0 mod 256."""
    return -sum(body) & 0xFF


def crc16(data: bytes | bytearray) -> int:
    """CRC-16/XMODEM (CCITT polynomial 0x1021, initial value 0), as ccTalk's CRC variant uses."""
    return binascii.crc_hqx(bytes(data), 0)


@dataclass(frozen=True)
class Frame:
    """One well-formed ccTalk message."""

    dest: int
    src: int
    header: int
    data: bytes = b""
    crc16: bool = False  # which checksum variant it was (or is to be) sent with

    def encode(self) -> bytes:
        return build_frame(self.dest, self.src, self.header, self.data, crc=self.crc16)

    @property
    def is_reply(self) -> bool:
        return self.header in (ACK, NAK, BUSY)

    def __str__(self) -> str:
        return hexdump(self.encode())


def describe(frame: Frame) -> str:
    """One line for the technician's wire view: who to whom, what, how much data."""
    what = HEADER_NAMES.get(frame.header, f"header {frame.header}")
    data = f", {len(frame.data)} data byte{'s' if len(frame.data) != 1 else ''}" if frame.data else ""
    return f"{frame.src} → {frame.dest}: {what}{data}" + (" (CRC-16)" if frame.crc16 else "")


def build_frame(dest: int, src: int, header: int, data: bytes | bytearray = b"", *, crc: bool = False) -> bytes:
    """Encode one message. With ``crc`` the source byte carries the CRC's low byte (the
    CRC variant has no source address; ``src`` is then ignored). Raises FrameError."""
    data = bytes(data)
    if len(data) > MAX_DATA:
        raise FrameError(f"{len(data)} data bytes: a ccTalk frame carries at most {MAX_DATA}")
    for name, value in (("dest", dest), ("src", src), ("header", header)):
        if not 0 <= value <= 255:
            raise FrameError(f"{name}={value} is not a byte")
    if crc:
        value = crc16(bytes([dest, len(data), header]) + data)
        return bytes([dest, len(data), value & 0xFF, header]) + data + bytes([value >> 8])
    body = bytes([dest, len(data), src, header]) + data
    return body + bytes([simple_checksum(body)])


def hexdump(data: bytes | bytearray) -> str:
    """``b"\\x28\\x00"`` -> ``"28 00"``, the form used in logs, history and docs."""
    return bytes(data).hex(" ").upper()


def decode_frame(raw: bytes | bytearray, *, crc: bool | None = None) -> Frame:
    """Decode exactly one frame. ``crc`` None accepts either checksum variant (the simple one
    is tried first). Raises FrameError."""
    raw = bytes(raw)
    if len(raw) < 5 or raw[1] != len(raw) - 5:
        raise FrameError(f"not one frame: {hexdump(raw)}")
    data = raw[4:-1]
    if crc is not True and sum(raw) & 0xFF == 0:
        return Frame(raw[0], raw[2], raw[3], data)
    if crc is not False and crc16(bytes([raw[0], raw[1], raw[3]]) + data) == raw[2] | raw[-1] << 8:
        return Frame(raw[0], 0, raw[3], data, crc16=True)  # the CRC variant names no source
    raise FrameError(f"bad checksum: {hexdump(raw)}")


class FrameParser:
    """Turns a byte stream, cut anywhere, into well-formed frames.

    ccTalk has no start byte, so the parser tries a frame at each offset: the length byte
    says where it must end and the checksum must hold; a candidate that fails costs one
    byte and the search goes on, so a good frame right behind noise is still found.
    ``feed()`` never raises on bytes. ``crc`` says which variants to accept (None: both).
    Nothing is lost without being counted::

        bytes fed == sum(len(frame)) + discarded + len(pending)
    """

    def __init__(self, crc: bool | None = False) -> None:
        self.crc = crc
        self._buf = bytearray()
        self.frames = 0
        self.discarded = 0
        self.bad_checksums = 0

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)

    def reset(self) -> int:
        """Drop the pending bytes (counted as discarded); return how many there were."""
        dropped = len(self._buf)
        self.discarded += dropped
        self._buf.clear()
        return dropped

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Frame]:
        buf = self._buf
        buf += chunk
        frames: list[Frame] = []
        start = 0
        while len(buf) - start >= 5:
            length = buf[start + 1]
            end = start + 5 + length
            if length <= MAX_DATA and end <= len(buf):
                try:
                    frames.append(decode_frame(buf[start:end], crc=self.crc))
                except FrameError:
                    self.bad_checksums += 1
                else:
                    self.frames += 1
                    start = end
                    continue
                start += 1
                self.discarded += 1
                continue
            # Not complete here (or too long to be a frame). Noise can look like the start
            # of a long frame and would hold back the good one behind it, so look further on.
            found = self._complete_frame_after(start + 1)
            if found is None:
                if length <= MAX_DATA:
                    break  # wait for the rest of what may be a frame
                found = start + 1
            self.discarded += found - start
            start = found
        del buf[:start]
        return frames

    def _complete_frame_after(self, i: int) -> int | None:
        buf = self._buf
        for j in range(i, len(buf) - 4):
            end = j + 5 + buf[j + 1]
            if buf[j + 1] <= MAX_DATA and end <= len(buf):
                try:
                    decode_frame(buf[j:end], crc=self.crc)
                except FrameError:
                    continue
                return j
        return None


# --- event buffers -------------------------------------------------------------------------

@dataclass(frozen=True)
class EventBuffer:
    """A 229 or 159 reply: the event counter and up to five (A, B) results, newest first."""

    counter: int
    results: tuple[tuple[int, int], ...]


def parse_event_buffer(data: bytes) -> EventBuffer:
    """Read ``[counter][A1 B1]..[A5 B5]``. Raises FrameError for another length."""
    if len(data) != 1 + 2 * EVENT_SLOTS:
        raise FrameError(f"an event buffer has {1 + 2 * EVENT_SLOTS} bytes, not {len(data)}")
    pairs = tuple((data[1 + 2 * i], data[2 + 2 * i]) for i in range(EVENT_SLOTS))
    return EventBuffer(data[0], pairs)


def encode_event_buffer(counter: int, results: list[tuple[int, int]]) -> bytes:
    """The data a device sends: ``results`` newest first, padded with (0, 0)."""
    padded = list(results[:EVENT_SLOTS]) + [(0, 0)] * (EVENT_SLOTS - len(results[:EVENT_SLOTS]))
    return bytes([counter]) + bytes(b for pair in padded for b in pair)


def next_counter(counter: int, steps: int = 1) -> int:
    """The event counter ``steps`` events after ``counter``: 1..255, wrapping to 1, never 0."""
    if steps <= 0:
        return counter
    return (counter - 1 + steps) % 255 + 1


def counter_back(counter: int, steps: int) -> int:
    """The event counter ``steps`` events before ``counter`` (which is not 0)."""
    return (counter - 1 - steps) % 255 + 1


def counter_distance(last: int, now: int) -> int:
    """How many events lie between two readings of a counter that has not been reset."""
    if last == 0:
        return now
    return (now - last) % 255


@dataclass(frozen=True)
class NewEvents:
    """What a fresh event-buffer reading says beyond the last one."""

    results: tuple[tuple[int, int], ...]  # oldest first, each to act on exactly once
    missed: int                           # events that happened but fell out of the buffer
    reset: bool                           # the counter went back (power cut, reset)


def new_events(last: int | None, buffer: EventBuffer) -> NewEvents:
    """The events in ``buffer`` not seen at counter ``last`` (None: never read; then nothing
    is new, the reading only sets the baseline). Counter 0 after a non-zero one, or a counter
    that went backwards by a wrap's worth, is a reset: what happened since ``last`` is gone
    and counts as missed only if the device had counted past its reset."""
    now = buffer.counter
    if last is None or now == last:
        return NewEvents((), 0, False)
    if now == 0:
        return NewEvents((), 0, True)
    distance = counter_distance(last, now)  # from 0 (a reset we saw): ``now`` events since
    keep = min(distance, EVENT_SLOTS)
    fresh = tuple(reversed(buffer.results[:keep]))
    return NewEvents(fresh, distance - keep, False)


# --- identities and values -----------------------------------------------------------------

def parse_serial(data: bytes) -> int:
    """242's three bytes, least significant first. Raises FrameError."""
    if len(data) != 3:
        raise FrameError(f"a serial number has 3 bytes, not {len(data)}")
    return int.from_bytes(data, "little")


def parse_ascii(data: bytes) -> str:
    """An identification string (245, 246, 244, 184, 157). Raises FrameError."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise FrameError(f"not ASCII: {hexdump(data)}") from None


def coin_value(coin_id: str) -> int | None:
    """The value, in the currency's minor units, of a coin id ``CCvvvI`` ("JP100A" -> 100).
    None for an empty position ("......") or a value code this driver does not read."""
    code = coin_id[2:5]
    if len(coin_id) != 6 or not code.isdigit():
        return None
    return int(code) or None


def bill_value(bill_id: str, scaling: int = 1) -> int | None:
    """The value of a bill id ``CCvvvvI`` ("JP1000A" -> 1000) times the country scaling factor
    (156). None for an empty position or an unreadable one."""
    code = bill_id[2:6]
    if len(bill_id) != 7 or not code.isdigit():
        return None
    return int(code) * scaling or None


def inhibit_mask(enabled: set[int], positions: int = 16) -> bytes:
    """231's data: bit n-1 set = position n enabled (ccTalk: 1 = accept, 0 = inhibit)."""
    value = sum(1 << (p - 1) for p in enabled if 1 <= p <= positions)
    return value.to_bytes((positions + 7) // 8, "little")


def enabled_positions(mask: bytes) -> set[int]:
    value = int.from_bytes(mask, "little")
    return {i + 1 for i in range(len(mask) * 8) if value >> i & 1}


@dataclass(frozen=True)
class HopperStatus:
    """166: the hopper's dispense counter and the last (or current) payout."""

    counter: int
    remaining: int
    paid: int
    unpaid: int


def parse_hopper_status(data: bytes) -> HopperStatus:
    if len(data) != 4:
        raise FrameError(f"a hopper status has 4 bytes, not {len(data)}")
    return HopperStatus(*data)
