"""Kerong KR-CU16 / NCU16 wire protocol: frames, checksums and status bits. No I/O.

Both sides of the bus use this module: the real driver (``drivers.locks.kerong``) and the
emulated boards (``hwsim.kerong_board``), so it is tested on its own against the byte
strings verified in the lock-board reference notes (lockers-and-lock-boards.md, 3.1)::

    STX(0x02) | ADDR | CMD | DATA... | ETX(0x03) | SUM
    SUM  = sum of every byte from STX to ETX, & 0xFF
    ADDR = board << 4 | lock_index          board 0..15, lock_index 0..15 (lock 1 is index 0)

A status reply (0x35) carries four data bytes: locks 1-8, locks 9-16, IR 1-8, IR 9-16,
bit i = lock i+1, LSB first. IR bit 1 means a parcel is in the compartment. What a lock
bit means is disputed between sources, so it is a parameter, ``polarity``:

- ``"closed-high"``: bit 1 = door closed and latched (lkaas-kerong, CartWise);
- ``"closed-low"``:  bit 0 = door closed and latched (kerong-lib's README).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

STX = 0x02
ETX = 0x03

CMD_STATUS = 0x30      # one board's status           -> REPLY_STATUS
CMD_UNLOCK = 0x31      # pulse one lock               -> nothing, or REPLY_STATUS (some firmware)
CMD_BUS_QUERY = 0x32   # status query to the bus      -> REPLY_BUS
CMD_UNLOCK_ALL = 0x33  # pulse every lock of a board  -> nothing
REPLY_STATUS = 0x35
REPLY_BUS = 0x36       # payload undocumented; read with the 0x35 layout, as lkaas-kerong does
STATUS_REPLIES = (REPLY_STATUS, REPLY_BUS)

LOCKS_PER_BOARD = 16
MAX_BOARDS = 16
POLARITIES = ("closed-high", "closed-low")

# The protocol has no length byte, so the parser must know each command's data length.
# Commands whose length is not documented (0x37..0x39) are deliberately absent: their
# bytes are discarded as noise rather than guessed at.
DATA_LENGTH = {CMD_STATUS: 0, CMD_UNLOCK: 0, CMD_BUS_QUERY: 0, CMD_UNLOCK_ALL: 0, REPLY_STATUS: 4, REPLY_BUS: 4}
MAX_FRAME_LENGTH = 5 + max(DATA_LENGTH.values())


def check_bus(boards: int, first_board: int, doors: int | None, polarity: str) -> int:
    """Check a bus of ``boards`` boards at addresses ``first_board``.. with ``doors`` doors
    fitted (None: one per lock); return the door count. Raises ValueError."""
    if first_board < 0 or not 1 <= boards <= MAX_BOARDS - first_board:
        raise ValueError(f"boards={boards} from address {first_board}: addresses must lie in 0..{MAX_BOARDS - 1}")
    locks = boards * LOCKS_PER_BOARD
    doors = locks if doors is None else doors
    if not 1 <= doors <= locks:
        raise ValueError(f"{doors} doors do not fit on {boards} board(s) of {LOCKS_PER_BOARD} locks")
    _check_polarity(polarity)
    return doors


def checksum(data: bytes | bytearray) -> int:
    """The CU16 checksum of ``data`` (the frame from STX to ETX inclusive)."""
    return sum(data) & 0xFF


def address(board: int, lock_index: int = 0) -> int:
    """The ADDR byte for ``board`` (0..15) and ``lock_index`` (0..15). Raises ValueError."""
    if not 0 <= board < MAX_BOARDS:
        raise ValueError(f"board {board} is not in 0..{MAX_BOARDS - 1}")
    if not 0 <= lock_index < LOCKS_PER_BOARD:
        raise ValueError(f"lock index {lock_index} is not in 0..{LOCKS_PER_BOARD - 1}")
    return board << 4 | lock_index


def hexdump(data: bytes | bytearray) -> str:
    """``b"\\x02\\x00"`` -> ``"02 00"``: the form used in logs, history and the reference docs."""
    return bytes(data).hex(" ").upper()


@dataclass(frozen=True)
class Frame:
    """One well-formed frame, as found on the wire."""

    addr: int
    cmd: int
    data: bytes = b""

    @property
    def board(self) -> int:
        return self.addr >> 4

    @property
    def lock_index(self) -> int:
        return self.addr & 0x0F

    def encode(self) -> bytes:
        return build_frame(self.addr, self.cmd, self.data)

    def __str__(self) -> str:
        return hexdump(self.encode())


COMMAND_NAMES = {CMD_STATUS: "status query", CMD_UNLOCK: "unlock", CMD_BUS_QUERY: "bus status query",
                 CMD_UNLOCK_ALL: "unlock every lock", REPLY_STATUS: "status", REPLY_BUS: "bus status"}


def describe(frame: Frame) -> str:
    """One line for the technician's wire view: the board, the lock where it matters, what."""
    what = COMMAND_NAMES.get(frame.cmd, f"command 0x{frame.cmd:02x}")
    lock = f" lock {frame.lock_index + 1}" if frame.cmd == CMD_UNLOCK else ""
    return f"board {frame.board}{lock}: {what}"


def describe_raw(raw: bytes) -> str:
    """``describe`` for a frame as bytes (STX ADDR CMD DATA ETX SUM), e.g. one being sent."""
    if len(raw) < 5 or raw[0] != STX:
        return "not a frame"
    return describe(Frame(raw[1], raw[2], bytes(raw[3:-2])))


def build_frame(addr: int, cmd: int, data: bytes = b"") -> bytes:
    """``STX ADDR CMD DATA ETX SUM``. Raises ValueError for a byte out of range."""
    body = bytes([STX, addr, cmd]) + bytes(data) + bytes([ETX])
    return body + bytes([checksum(body)])


def unlock_frame(board: int, lock_index: int) -> bytes:
    """Pulse one lock: board 0, lock 1 (index 0) is ``02 00 31 03 36``."""
    return build_frame(address(board, lock_index), CMD_UNLOCK)


def status_query_frame(board: int) -> bytes:
    """Ask one board for its status: board 0 is ``02 00 30 03 35``."""
    return build_frame(address(board), CMD_STATUS)


def bus_query_frame(addr: int = 0x00) -> bytes:
    """The bus query: ``02 00 32 03 37`` as lkaas-kerong sends it (0xF0 would be the broadcast)."""
    return build_frame(addr, CMD_BUS_QUERY)


# --- status replies ----------------------------------------------------------------------

@dataclass(frozen=True)
class BoardStatus:
    """One board's reading. Index i of each tuple is lock i+1 on that board."""

    board: int
    closed: tuple[bool, ...]    # door shut and latched
    occupied: tuple[bool, ...]  # IR sensor sees a parcel


def _check_polarity(polarity: str) -> None:
    if polarity not in POLARITIES:
        raise ValueError(f"polarity {polarity!r} is not one of {', '.join(POLARITIES)}")


def _pack16(bits: Sequence[bool]) -> bytes:
    value = sum(1 << i for i, bit in enumerate(bits) if bit)
    return value.to_bytes(2, "little")


def _unpack16(two: bytes) -> tuple[bool, ...]:
    value = int.from_bytes(two, "little")
    return tuple(bool(value >> i & 1) for i in range(LOCKS_PER_BOARD))


def status_reply(board: int, closed: Sequence[bool], occupied: Sequence[bool], polarity: str,
                 *, cmd: int = REPLY_STATUS, lock_index: int = 0) -> bytes:
    """The frame a board sends for its status (what the emulator answers).

    ``closed`` and ``occupied`` hold up to 16 flags, lock 1 first; missing ones are False.
    Raises ValueError for a bad board, lock index, polarity or more than 16 flags."""
    _check_polarity(polarity)
    if len(closed) > LOCKS_PER_BOARD or len(occupied) > LOCKS_PER_BOARD:
        raise ValueError(f"a board has {LOCKS_PER_BOARD} locks")
    closed = list(closed) + [False] * (LOCKS_PER_BOARD - len(closed))
    lock_bits = closed if polarity == "closed-high" else [not c for c in closed]
    data = _pack16(lock_bits) + _pack16(occupied)
    return build_frame(address(board, lock_index), cmd, data)


def parse_status(frame: Frame, polarity: str) -> BoardStatus:
    """Read a 0x35 (or 0x36) frame. Raises ValueError if ``frame`` is not a status reply."""
    _check_polarity(polarity)
    if frame.cmd not in STATUS_REPLIES or len(frame.data) != 4:
        raise ValueError(f"not a status reply: {frame}")
    lock_bits = _unpack16(frame.data[0:2])
    closed = lock_bits if polarity == "closed-high" else tuple(not b for b in lock_bits)
    return BoardStatus(frame.board, closed, _unpack16(frame.data[2:4]))


# --- the incremental parser --------------------------------------------------------------

class FrameParser:
    """Turns a byte stream, cut anywhere, into well-formed frames.

    ``feed()`` never raises on bytes: noise before a frame, a frame with a bad checksum
    or a wrong ETX, an unknown command byte are all discarded one byte at a time, and the
    search resumes at the next STX, so a good frame right behind a broken one is still
    found. Counters say what was thrown away; nothing is lost without being counted::

        bytes fed == sum(len(frame)) + discarded + len(pending)
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.frames = 0         # well-formed frames returned
        self.discarded = 0      # bytes thrown away
        self.bad_checksums = 0  # frame-shaped candidates whose SUM was wrong

    @property
    def pending(self) -> bytes:
        """Bytes held back because they may be the start of a frame."""
        return bytes(self._buf)

    def reset(self) -> int:
        """Drop the pending bytes (counted as discarded); return how many there were."""
        dropped = len(self._buf)
        self.discarded += dropped
        self._buf.clear()
        return dropped

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Frame]:
        """Add ``chunk`` to the stream; return the frames it completed, in order."""
        buf = self._buf
        buf += chunk
        frames: list[Frame] = []
        start = 0
        while True:
            stx = buf.find(STX, start)
            if stx < 0:
                self.discarded += len(buf) - start
                start = len(buf)
                break
            self.discarded += stx - start
            start = stx
            if len(buf) - start < 3:
                break  # wait for the command byte
            data_length = DATA_LENGTH.get(buf[start + 2])
            if data_length is None:
                start += 1  # not a frame we know: this STX was noise
                self.discarded += 1
                continue
            end = start + 5 + data_length
            if len(buf) < end:
                break  # wait for the rest of the frame
            if buf[end - 2] == ETX and buf[end - 1] == checksum(buf[start:end - 1]):
                frames.append(Frame(buf[start + 1], buf[start + 2], bytes(buf[start + 3:end - 2])))
                self.frames += 1
                start = end
                continue
            if buf[end - 2] == ETX:
                self.bad_checksums += 1
            # Skip only the STX: a real frame may begin inside the rejected candidate.
            start += 1
            self.discarded += 1
        del buf[:start]
        return frames
