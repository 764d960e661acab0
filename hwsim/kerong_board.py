"""Emulated Kerong KR-CU16 lock boards on one RS-485 bus, behind a pty.

The real driver (``drivers.locks.kerong``) opens ``sim.port`` (e.g. ``/dev/pts/7``) exactly
as it would open ``/dev/ttyUSB0``; so can any other CU16 client, which is how this
emulator earns trust. It answers like a board does:

    0x30 status query  -> 0x35 status of the addressed board (lock bits per ``polarity``)
    0x31 unlock        -> pulses the door (500 ms by default, as a CU16 times it itself);
                          answers with a status frame only if ``reply_to_unlock``
    0x32 bus query     -> 0x36 with the 0x35 layout, from the addressed board (0xF0: the
                          first board). The reference notes name the 0x36 reply but not its
                          payload; lkaas-kerong reads it as a 9-byte 0x35-style frame.
    0x33 unlock all    -> pulses every door of the board, no answer

Doors are numbered across the bus: board index i, lock index l is door i*16 + l + 1
(``hwsim.doors`` gives them their physics). Fault modes can be switched at any time:
``silent`` (a board hears and acts but no longer answers, like a broken transmitter),
``corrupt_checksum``, ``split_replies``, and ``inject_garbage`` writes noise on the line.
Every frame in and out, every fault change, and every "collision" (the host sending while
a board is still answering, which a half-duplex line would not survive) goes to ``history``.

A pty carries bytes at once. With ``baud`` set the line is paced as a real one: each frame
takes its 10 bits a byte on the wire (8N1), a board starts answering ``turnaround_ms`` after
the last byte of a question, and its answer is written when its last byte would arrive.
Benchmarks use it to compare the driver's sweep with the wire time.

``kerong_sim`` builds the ``sim+kerong://`` device: this emulator plus the real driver::

    sim+kerong://?boards=1&doors=8&polarity=closed-high&poll_ms=100&reply_to_unlock=0
    (and every other kerong+serial parameter except the port)
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty

from drivers.locks import kerong_codec as codec
from drivers.locks.kerong import LockBankKerong
from hwsim.doors import DoorBank
from hwsim.history import History
from hwsim.owned import OwnsEmulator
from kiosk.devices.url import DeviceURL

SOURCE = "kerong"


class KerongBoardSim:
    """One RS-485 bus with ``boards`` CU16 boards at addresses ``first_board``.. onwards."""

    def __init__(self, boards: int = 1, doors: int | None = None, *, first_board: int = 0,
                 polarity: str = "closed-high", reply_to_unlock: bool = False, pulse_ms: int = 500,
                 split_pause_s: float = 0.02, history: History | None = None,
                 baud: int | None = None, turnaround_ms: float = 0.0):
        """Raises ValueError for addresses outside 0..15, too many doors or a bad polarity."""
        doors = codec.check_bus(boards, first_board, doors, polarity)
        self.boards = tuple(range(first_board, first_board + boards))
        self.polarity = polarity
        self.reply_to_unlock = reply_to_unlock
        self.pulse_ms = pulse_ms
        self.split_pause_s = split_pause_s
        self.char_s = 10 / baud if baud else 0.0  # one byte on the wire (start, 8 data, stop)
        self.turnaround_s = turnaround_ms / 1000
        self._line_free_at = 0.0  # paced: when the last byte on the line will have arrived
        self.doors = DoorBank(doors, history)
        self.history = self.doors.history  # one record for the line and the doors
        self.port: str | None = None
        self._silent: frozenset[int] = frozenset()
        self._silence_on_unlock = False
        self._corrupt = False
        self._split = False
        self._parser = codec.FrameParser()
        self._queued = 0
        self._fds: tuple[int, int, int, int] | None = None  # pty master, pty slave, wake pipe r/w
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()
        self._lifecycle = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> "KerongBoardSim":
        """Create the pty and start answering. Idempotent."""
        with self._lifecycle:
            if self._thread is not None:
                return self
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo, no line discipline: bytes pass as they are
            wake_r, wake_w = os.pipe()
            self._fds = (master, slave, wake_r, wake_w)
            self.port = os.ttyname(slave)
            self._thread = threading.Thread(target=self._serve, name=f"kerong-sim {self.port}", daemon=True)
            self._thread.start()
            self.history.record(SOURCE, "started", port=self.port, boards=list(self.boards))
            return self

    def stop(self) -> None:
        """Stop answering and remove the pty (a client still on it then sees I/O errors). Idempotent."""
        with self._lifecycle:
            if self._thread is None:
                return
            os.write(self._fds[3], b"x")
            self._thread.join()
            self._thread = None
            for fd in self._fds:
                os.close(fd)
            self._fds = None
            self.history.record(SOURCE, "stopped", port=self.port)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def __enter__(self) -> "KerongBoardSim":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"on {self.port}" if self.running else "stopped"
        return (f"<KerongBoardSim boards={self.boards[0]}..{self.boards[-1]} doors={len(self.doors)} "
                f"{self.polarity} {state}>")

    # --- fault modes ------------------------------------------------------------------------

    def silent(self, on: bool = True, board: int | None = None) -> None:
        """Board ``board`` (bus address; None = every board) stops answering, or answers again.
        Raises ValueError for a board not on this bus."""
        targets = set(self.boards if board is None else (self._check_board(board),))
        # Replaced, never changed in place, so the bus thread always reads a whole set.
        self._silent = frozenset(self._silent | targets if on else self._silent - targets)
        self.history.record(SOURCE, "fault", fault="silent", on=on, board=board)

    def silent_after_next_unlock(self) -> None:
        """The board that receives the next unlock frame acts on it, then stops answering:
        the unluckiest moment for a board to fail (the pulse went out, no reply comes)."""
        self._silence_on_unlock = True
        self.history.record(SOURCE, "fault", fault="silent_after_next_unlock", on=True)

    @property
    def silent_boards(self) -> set[int]:
        return set(self._silent)

    def corrupt_checksum(self, on: bool = True) -> None:
        """Every reply carries a wrong checksum."""
        self._corrupt = on
        self.history.record(SOURCE, "fault", fault="corrupt_checksum", on=on)

    def split_replies(self, on: bool = True) -> None:
        """Every reply is written in two chunks with a short pause between them."""
        self._split = on
        self.history.record(SOURCE, "fault", fault="split_replies", on=on)

    def inject_garbage(self, data: bytes) -> None:
        """Write ``data`` on the line now, between replies. Raises RuntimeError if not started."""
        if not self.running:
            raise RuntimeError(f"{self!r} is not started")
        self.history.record(SOURCE, "garbage", frame=codec.hexdump(data))
        with self._write_lock:
            os.write(self._fds[0], data)

    # --- what the boards say ----------------------------------------------------------------

    def status_frame(self, board: int, cmd: int = codec.REPLY_STATUS, lock_index: int = 0) -> bytes:
        """The status frame ``board`` would send now."""
        closed, occupied = [], []
        for door_number in self._doors_of(self._check_board(board)):
            door = self.doors.doors.get(door_number)
            closed.append(door is None or not door.is_open)  # no door fitted: a latched lock
            occupied.append(door is not None and door.occupied)
        return codec.status_reply(board, closed, occupied, self.polarity, cmd=cmd, lock_index=lock_index)

    def _doors_of(self, board: int) -> range:
        first = (board - self.boards[0]) * codec.LOCKS_PER_BOARD + 1
        return range(first, first + codec.LOCKS_PER_BOARD)

    def _check_board(self, board: int) -> int:
        if board not in self.boards:
            raise ValueError(f"no board {board} on this bus (addresses {self.boards[0]}..{self.boards[-1]})")
        return board

    # --- the bus thread ---------------------------------------------------------------------

    def _serve(self) -> None:
        master, _, wake_r, _ = self._fds
        while True:
            ready, _, _ = select.select([master, wake_r], [], [])
            if wake_r in ready:
                return
            discarded = self._parser.discarded
            arrived = time.monotonic()
            frames = self._parser.feed(os.read(master, 4096))
            for i, frame in enumerate(frames):
                self._queued = len(frames) - i - 1  # host frames that arrived behind this one
                self.history.record(SOURCE, "rx", frame=str(frame))
                if self.char_s:  # the question takes its time on the wire, after what is before it
                    self._line_free_at = max(arrived, self._line_free_at) + len(frame.encode()) * self.char_s
                self._handle(frame)
            if self._parser.discarded != discarded:
                self.history.record(SOURCE, "rx_discarded", bytes=self._parser.discarded - discarded)

    def _handle(self, frame: codec.Frame) -> None:
        board, lock_index = frame.board, frame.lock_index
        if frame.cmd == codec.CMD_BUS_QUERY and frame.addr == 0xF0:
            board = self.boards[0]
        if board not in self.boards:
            return  # another device on the bus: not ours to answer
        if frame.cmd == codec.CMD_STATUS:
            self._reply(board, self.status_frame(board))
        elif frame.cmd == codec.CMD_BUS_QUERY:
            self._reply(board, self.status_frame(board, codec.REPLY_BUS))
        elif frame.cmd == codec.CMD_UNLOCK:
            self._pulse(self._doors_of(board)[lock_index])
            if self._silence_on_unlock:
                self._silence_on_unlock = False
                self.silent(True, board)
            if self.reply_to_unlock:
                self._reply(board, self.status_frame(board, lock_index=lock_index))
        elif frame.cmd == codec.CMD_UNLOCK_ALL:
            for number in self._doors_of(board):
                self._pulse(number)

    def _pulse(self, number: int) -> None:
        if number in self.doors.doors:
            self.doors[number].pulse(self.pulse_ms)

    def _reply(self, board: int, frame: bytes) -> None:
        if board in self._silent:
            self.history.record(SOURCE, "silent", board=board)
            return
        if self._corrupt:
            frame = frame[:-1] + bytes([(frame[-1] + 1) & 0xFF])
        if self.char_s:  # answer after the turnaround; written once its last byte is across
            self._line_free_at += self.turnaround_s + len(frame) * self.char_s
            if (wait := self._line_free_at - time.monotonic()) > 0:
                time.sleep(wait)
        self.history.record(SOURCE, "tx", frame=codec.hexdump(frame), corrupt=self._corrupt, split=self._split)
        with self._write_lock:
            if self._split:
                half = len(frame) // 2
                os.write(self._fds[0], frame[:half])
                time.sleep(self.split_pause_s)  # the line goes quiet mid-frame
                frame = frame[half:]
            if self._queued or self._parser.pending or select.select([self._fds[0]], [], [], 0)[0]:
                # The host is talking while a board answers: on a real half-duplex line
                # both frames would be lost. A pty carries both, so it is only recorded.
                self.history.record(SOURCE, "collision", board=board)
            os.write(self._fds[0], frame)


def kerong_sim(url: DeviceURL, **context) -> LockBankKerong:
    """The ``sim+kerong://`` device: a started emulator with the real driver on its pty.

    The emulator is on ``bank.sim`` and stops when the bank is closed, so the bank is
    single-use. Raises DeviceURLError."""
    options = LockBankKerong.options_from_url(url)
    reply_to_unlock = url.bool("reply_to_unlock", False)
    url.reject_unknown()  # now, before anything runs: a misspelt parameter must not leak an emulator
    sim = KerongBoardSim(options["boards"], options["doors"], first_board=options["first_board"],
                         polarity=options["polarity"], reply_to_unlock=reply_to_unlock).start()
    try:
        return EmulatedLockBankKerong(sim, url=url.raw, **options)
    except BaseException:
        sim.stop()
        raise


def _check_kerong_sim(url: DeviceURL) -> None:
    LockBankKerong.options_from_url(url)
    url.bool("reply_to_unlock", False)


kerong_sim.check_url = _check_kerong_sim


class EmulatedLockBankKerong(OwnsEmulator, LockBankKerong):
    """The real Kerong driver, owning the emulator it talks to."""

    def __init__(self, sim: KerongBoardSim, **options):
        super().__init__(sim.port, **options)
        self.sim = sim
