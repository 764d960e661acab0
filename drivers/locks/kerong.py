"""LockBank driver for Kerong KR-CU16 lock boards on one RS-485 bus.

The URL and what each of its parameters means: drivers/locks/kerong_url.py.

The path goes to ``serial.serial_for_url``, so a pty (the emulator) or ``loop://`` works too.

RS-485 is half duplex with the host as the only master, so one bus thread owns the port
and makes every exchange: unlocks and refreshes jump ahead of the routine polls. Door
changes are reported from that thread (see ``kiosk.devices.roles``).

A silent board costs healthy boards as little as the line allows: each routine poll is one
attempt, and the retries of a board that missed a reply wait behind any queued unlock; a
board once offline is asked with a growing interval (OFFLINE_REPOLL_S doubling up to
OFFLINE_REPOLL_MAX_S), and that question is given up for a queued unlock once a reply could
no longer be on its way (PROBE_QUIET_S).
"""

from __future__ import annotations

import collections
import logging
import threading
import time

import serial

from drivers.locks import kerong_codec as codec
from drivers.locks.base import LockBankBase
from drivers.locks.kerong_boards import OFFLINE_REPOLL_S, BoardReading
from drivers.locks import kerong_url
from drivers.locks.kerong_line import RS485_MODES, KerongLine
from drivers.locks.kerong_url import IR_MODES, UNLOCK_REPLIES
from kiosk.devices.wire import WireLog
from kiosk.devices.roles import DoorState
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceClosed, DeviceInitError, DeviceOperationError, DeviceTimeout, DeviceUnavailable

log = logging.getLogger(__name__)



class _Job:
    """Work a caller hands to the bus thread and waits for: an unlock or a refresh."""

    def __init__(self, door: int | None = None, board: int = 0, lock_index: int = 0):
        self.door, self.board, self.lock_index = door, board, lock_index
        self.not_before = 0.0  # monotonic time before which it may not be sent (pulse gap)
        self.deferred = False
        self.error: Exception | None = None
        self.done = threading.Event()

    def finish(self, error: Exception | None = None) -> None:
        self.error = error
        self.done.set()


class LockBankKerong(BoardReading, LockBankBase):
    """Doors behind Kerong CU16 boards. See the module docstring for the URL.

    ``open()`` raises DeviceUnavailable (no such port) or DeviceInitError (cannot open it,
    or no board answered); ``unlock()`` raises DeviceTimeout, DeviceOperationError,
    DeviceClosed, ValueError. Beyond the LockBank role: ``refresh()``, ``occupancy()``,
    ``offline_boards`` and ``stats``.
    """

    def __init__(self, port: str, *, boards: int = 1, first_board: int = 0, doors: int | None = None,
                 baud: int = 19200, polarity: str = "closed-high", poll_ms: int = 100,
                 timeout_ms: int = 200, retries: int = 2, open_watch_ms: int = 15_000,
                 unlock_reply: str = "maybe", min_pulse_gap_ms: int = 500, rs485: str = "off",
                 ir: str = "none", url: str | None = None):
        """Raises ValueError for settings out of range (``from_url`` checks them first)."""
        doors = codec.check_bus(boards, first_board, doors, polarity)
        if unlock_reply not in UNLOCK_REPLIES or rs485 not in RS485_MODES:
            raise ValueError(f"unlock_reply={unlock_reply!r} / rs485={rs485!r}: expected one of "
                             f"{', '.join(UNLOCK_REPLIES)} / {', '.join(RS485_MODES)}")
        super().__init__(url or f"kerong+serial://{port}", doors)
        self.port, self.baud, self.polarity = port, baud, polarity
        if ir not in IR_MODES:
            raise ValueError(f"ir={ir!r}: expected one of {', '.join(IR_MODES)}")
        self.ir_fitted = ir == "fitted"
        self.boards = tuple(range(first_board, first_board + boards))
        self._poll_s = poll_ms / 1000
        self._timeout_s = timeout_ms / 1000
        self._attempts = 1 + retries
        self._open_watch_s = open_watch_ms / 1000
        self._watch: dict[int, float] = {}  # door unlocked, not yet seen open -> end of the watch
        self._unlock_reply, self._rs485 = unlock_reply, rs485
        self._pulse_gap_s = min_pulse_gap_ms / 1000
        self._last_pulse: dict[int, float] = {}  # door -> when its last unlock was sent
        self._misses: dict[int, int] = {}      # board -> replies missed in a row
        self._backoff: dict[int, float] = {}   # offline board -> its current re-poll interval
        self._line = KerongLine(port, baud=baud, timeout_s=self._timeout_s, polarity=polarity, rs485=rs485,
                                stopping=lambda: self._stopping)
        self._counts = collections.Counter(unlocks=0, probes_abandoned=0, pulses_deferred=0, unlock_reply_waits=0)
        self._hinted: set[int] = set()  # boards whose silence after an unlock was logged
        self._offline: set[int] = set()
        self._refused: dict[int, str] = {}  # board -> why it is not used (until reopened)
        self._polled = self.boards          # the boards not refused
        self._occupied: dict[int, bool | None] = {d: None for d in range(1, doors + 1)}
        self._due: dict[int, float] = {}
        self._jobs: collections.deque[_Job] = collections.deque()
        self._cv = threading.Condition()
        self._stopping = False
        self._failure: Exception | None = None  # why the bus thread stopped on its own
        self._thread: threading.Thread | None = None
        self._first_reading = threading.Event()
        self._heard = False  # did any board answer the first reading

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        """The keyword arguments the URL's query asks for. Raises DeviceURLError."""
        return kerong_url.options(url)

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> "LockBankKerong":
        """Build (not open) the bank a ``kerong+serial://`` URL describes. Raises DeviceURLError."""
        kerong_url.check_port(url)
        return cls(url.path, url=url.raw, **cls.options_from_url(url))

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        """Check a kerong+serial:// URL without opening anything (for check-config).
        Raises DeviceURLError."""
        kerong_url.check_port(url)
        cls.options_from_url(url)

    # --- public API beyond LockBank --------------------------------------------------------

    def occupancy(self) -> dict[int, bool | None]:
        """What each door's IR sensor last said: True = parcel inside, None = not known
        (no sensors fitted, ``ir=none``, or the board is not answering)."""
        with self._state_lock:
            if not self.ir_fitted:
                return dict.fromkeys(self._occupied)
            return dict(self._occupied)

    @property
    def offline_boards(self) -> set[int]:
        """Bus addresses of the boards that stopped answering."""
        with self._state_lock:
            return set(self._offline)

    @property
    def refused_boards(self) -> dict[int, str]:
        """Bus addresses of the boards refused at open(), with the reason (wrong polarity)."""
        with self._state_lock:
            return dict(self._refused)

    @property
    def wire(self) -> WireLog:
        """The bus's last frames both ways and its round-trip times (the technician's view)."""
        return self._line.wire

    @property
    def stats(self) -> dict[str, int]:
        """Counters since construction: frames_sent, replies, timeouts, unlocks,
        unexpected_frames, probes_abandoned (an offline board's question given up for an
        unlock), pulses_deferred (held back by min_pulse_gap_ms), unlock_reply_waits (reply
        timeouts waited out after an unlock for no answer: see unlock_reply), checksum_errors,
        discarded_bytes."""
        with self._state_lock:
            return {**self._line.stats(), **self._counts}

    def refresh(self) -> dict[int, DoorState]:
        """Read every board now, ahead of the routine polls; return the door states.

        Raises DeviceClosed, DeviceOperationError (the port failed). A board that does not
        answer leaves its doors UNKNOWN."""
        self._check_open()
        self._submit(_Job())
        return self.door_states()

    def __repr__(self) -> str:
        offline = sorted(self.offline_boards)
        offline_text = f" offline={offline}" if offline else ""
        refused = f" refused={sorted(self.refused_boards)}" if self.refused_boards else ""
        return (f"<{type(self).__name__} {self.port!r} boards={self.boards[0]}..{self.boards[-1]} "
                f"doors={self.door_count} {self.baud} baud {self.polarity} {self._repr_state()}"
                f"{offline_text}{refused}>")

    # --- LockBankBase hooks (caller's thread) ---------------------------------------------

    def _open_hw(self) -> None:
        """Open the port and read every board once. Raises DeviceUnavailable (no such port),
        DeviceInitError (cannot open it, no board answered, or every board that answered
        reads every door open: the polarity setting)."""
        self._line.open()
        self._stopping, self._failure = False, None
        self._offline.clear()
        with self._state_lock:
            self._refused.clear()
        self._polled = self.boards
        self._due.clear()
        self._watch.clear()
        self._misses.clear()
        self._backoff.clear()
        self._first_reading.clear()
        self._thread = threading.Thread(target=self._run, name=f"kerong-bus {self.port}", daemon=True)
        self._thread.start()
        self._first_reading.wait()
        failure = self._failure
        if failure is None and self._heard and not self._polled:
            self._close_hw()
            raise DeviceInitError(self._polarity_advice(list(self._refused)))
        if failure is not None or not self._heard:
            self._close_hw()
            addresses = ", ".join(map(str, self.boards))
            why = f"the port failed: {failure}" if failure else "no board answered; check power, A/B wiring, DIP addresses"
            raise DeviceInitError(f"Kerong bus on {self.port!r}: {why} (addresses {addresses} at "
                                  f"{self.baud} baud)") from failure

    def _polarity_advice(self, boards: list[int]) -> str:
        other = next(p for p in codec.POLARITIES if p != self.polarity)
        which = f"board {boards[0]}" if len(boards) == 1 else f"boards {', '.join(map(str, boards))}"
        return (f"Kerong bus on {self.port!r}: every door of {which} reads open at start-up, so "
                f"polarity={self.polarity} is most likely wrong for this wiring: set polarity={other} "
                f"in the locks URL (if every door really is open, shut them and start again)")

    def _close_hw(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._line.close()

    def _unlock_hw(self, door: int) -> None:
        """Send one pulse and read the board back. Raises DeviceTimeout (the board did not
        answer), DeviceOperationError (cancelled by make_safe, port failure), DeviceClosed."""
        index = door - 1
        board = self.boards[index // codec.LOCKS_PER_BOARD]
        self._submit(_Job(door, board, index % codec.LOCKS_PER_BOARD))

    def _make_safe_hw(self) -> None:
        # The CU16 times every pulse itself (500 ms for electromagnetic locks, 1000 ms for
        # servo locks), so nothing stays energised for us to switch off. What is left to
        # make safe is the queue: no unlock that was asked for earlier may fire from now on.
        with self._cv:
            for job in [j for j in self._jobs if j.door is not None]:
                self._jobs.remove(job)
                job.finish(DeviceOperationError(f"unlock of door {job.door} cancelled by make_safe()"))

    def _submit(self, job: _Job) -> None:
        if threading.current_thread() is self._thread:  # it would wait for itself
            raise DeviceOperationError("called from a door-change callback: hand the work to another thread")
        with self._cv:
            if self._stopping:
                if self._failure is not None:
                    raise DeviceOperationError(f"{self.port}: bus thread failed: {self._failure}")
                raise DeviceClosed(f"{self!r} is closing")
            queued_pulses = sum(1 for j in self._jobs if j.door is not None and j.door == job.door)
            self._jobs.append(job)
            self._cv.notify_all()
        # Every exchange is bounded, so this wait can be: a refresh may be ahead of the job,
        # then its own exchanges, the pulse gaps ahead of it, plus slack. A job still queued
        # when it runs out is withdrawn: it must not fire after its caller was told it failed.
        exchange = self._attempts * self._timeout_s
        gaps = (queued_pulses + 1) * self._pulse_gap_s
        if not job.done.wait((len(self.boards) + 2) * exchange + self._timeout_s + gaps + 2.0):
            with self._cv:
                if job in self._jobs:
                    self._jobs.remove(job)
                    what = f"unlock of door {job.door}" if job.door else "refresh"
                    raise DeviceTimeout(f"{self.port}: bus busy, {what} not sent", sent=False)
            job.done.wait()
        if job.error is not None:
            raise job.error

    # --- the bus thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._first_read()
            self._first_reading.set()
            self._serve()
        except Exception as err:  # the port failed during the first reading, or a bug
            self._failure = err
            if self._first_reading.is_set():  # else open() raises it
                log.exception("%s: bus thread failed", self.port)
                self._mark_offline(list(self._polled), f"driver failed: {err}")
        finally:
            self._first_reading.set()
            with self._cv:
                self._stopping = True
                while self._jobs:
                    self._jobs.popleft().finish(DeviceClosed(f"{self.port}: bus stopped before the command was sent"))

    def _serve(self) -> None:
        while (work := self._next_work()) is not None:
            try:
                if not self._line.is_open:
                    self._line.open()
                    log.info("%s: serial port reopened", self.port)
                if isinstance(work, _Job):
                    self._do_job(work)
                else:
                    self._poll(work)
            except (serial.SerialException, OSError, DeviceInitError, DeviceUnavailable) as err:
                # A USB adapter pulled out ends up here: every door becomes UNKNOWN, the
                # port is reopened every OFFLINE_REPOLL_S, and close()/make_safe() still work.
                if self._line.is_open:
                    log.error("%s: serial port failed: %s", self.port, err)
                    self._line.close()
                self._mark_offline(list(self._polled), f"serial port failed: {err}")
                if isinstance(work, _Job):
                    work.finish(DeviceOperationError(f"{self.port}: serial port failed: {err}"))
                with self._cv:
                    self._cv.wait_for(lambda: self._stopping, OFFLINE_REPOLL_S)

    def _next_work(self) -> _Job | int | None:
        """The first job that may go now, else the board most overdue for a poll; None once
        closing. Unlocks are served first: a poll never waits for its turn ahead of one."""
        with self._cv:
            while not self._stopping:
                now = time.monotonic()
                if job := self._ready_job(now):
                    self._jobs.remove(job)
                    return job
                wake = min((j.not_before for j in self._jobs), default=float("inf"))
                if self._polled:  # else every board is refused: open() is closing the bank
                    board = min(self._polled, key=lambda b: self._due.get(b, 0.0))
                    if self._due.get(board, 0.0) <= now:
                        return board
                    wake = min(wake, self._due[board])
                self._cv.wait(None if wake == float("inf") else wake - now)
            return None

    def _ready_job(self, now: float) -> _Job | None:
        """The first queued job that may go at ``now`` (an unlock waits out its door's pulse gap)."""
        for job in list(self._jobs):
            if job.door is not None:
                job.not_before = self._last_pulse.get(job.door, -self._pulse_gap_s) + self._pulse_gap_s
            if job.not_before <= now:
                return job
            if not job.deferred:
                job.deferred = True
                self._count("pulses_deferred")
        return None

    def _do_job(self, job: _Job) -> None:
        if job.door is None:  # a refresh
            for board in self._polled:
                self._read_board(board, self._attempts)
            return job.finish()
        board = job.board
        # Never fire a pulse at a board we cannot hear: its door would move unobserved.
        if board in self._refused:
            return job.finish(DeviceOperationError(
                f"door {job.door} not unlocked: {self._refused[board]}"))
        if board in self._offline and not self._read_board(board, self._attempts):
            return job.finish(DeviceTimeout(
                f"board {board} not answering on {self.port}; door {job.door} not unlocked", sent=False))
        self._line.send(codec.unlock_frame(board, job.lock_index))
        self._count("unlocks")
        self._last_pulse[job.door] = time.monotonic()
        # Poll this board fast until the door is seen open: a person may open and shut it
        # within one routine poll interval, and the opening is the evidence the books need.
        self._watch[job.door] = time.monotonic() + self._open_watch_s
        if self._unlock_reply != "none":
            # Firmware that answers 0x31 sends a status frame: listen for it before talking
            # again, or on a real half-duplex line our next query would collide with it.
            early = self._line.await_status(board, count_timeout=False)
            if early is not None:
                self._read_board(board, 0, early)
                if self._unlock_reply == "status":
                    return job.finish()  # the answer is the confirmation
            elif not self._stopping:
                self._count("unlock_reply_waits")
                if board not in self._hinted:
                    self._hinted.add(board)
                    log.info("%s: board %d did not answer an unlock within timeout_ms; if its firmware "
                             "never does, unlock_reply=none saves that wait on every unlock", self.port, board)
        # unlock_reply=none: no answer is coming, so the status query goes at once.
        if not self._read_board(board, self._attempts):
            return job.finish(DeviceTimeout(
                f"board {board} on {self.port} did not answer after the unlock of door {job.door}; "
                "the pulse was sent, so the door may have opened", sent=None))
        job.finish()

    def _count(self, key: str, n: int = 1) -> None:
        with self._state_lock:
            self._counts[key] += n
