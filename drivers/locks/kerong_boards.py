"""The Kerong bus thread's reading of its boards (``LockBankKerong``'s other half): the
first reading with its polarity check, the routine polls, and what a board's answer or
silence means for its doors — a board that answers is online, one that stops answering is
asked less and less often and its doors become UNKNOWN. Only the bus thread runs these.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from drivers.locks import kerong_codec as codec
from drivers.locks.kerong_line import KerongLine
from kiosk.devices.roles import DoorState

log = logging.getLogger("drivers.locks.kerong")

OFFLINE_REPOLL_S = 0.5  # an offline board is asked once per interval, so it cannot hog the bus
OFFLINE_REPOLL_MAX_S = 4.0  # ... the interval doubling up to this while it stays silent
PROBE_QUIET_S = 0.03    # an offline board's probe is given up for an unlock after this long
MIN_DOORS_POLARITY_CHECK = 2  # one open door at start-up is ordinary; all of several is a setting
FAST_POLL_S = 0.025     # the poll interval of a board with a door just unlocked and not yet seen open


class BoardReading:
    """Mixed into LockBankKerong, which owns the state named here."""

    port: str
    boards: tuple[int, ...]
    door_count: int
    _attempts: int
    _poll_s: float
    _line: KerongLine
    _stopping: bool
    _polled: tuple[int, ...]
    _heard: bool
    _offline: set[int]
    _refused: dict[int, str]
    _occupied: dict[int, bool | None]
    _misses: dict[int, int]
    _backoff: dict[int, float]
    _due: dict[int, float]
    _watch: dict[int, float]
    _jobs: collections.deque[Any]
    _cv: threading.Condition
    _state_lock: threading.Lock

    # LockBankBase's and LockBankKerong's, for the type checker only.
    if TYPE_CHECKING:
        def _report(self, door: int, state: DoorState, detail: str = "") -> None: ...
        def _polarity_advice(self, boards: list[int]) -> str: ...
        def _count(self, key: str, n: int = 1) -> None: ...

    def _first_read(self) -> None:
        """Read every board once; refuse a board whose every door reads open (polarity)."""
        refused = []
        for board in self.boards:
            status = self._query(board, self._attempts)
            doors = self._doors_of(board)
            if (status is not None and len(doors) >= MIN_DOORS_POLARITY_CHECK
                    and not any(status.closed[i] for _, i in doors)):
                refused.append(board)
            else:
                self._read_board(board, 0, status)
        self._polled = tuple(b for b in self.boards if b not in refused)
        self._heard = any(b not in self._offline for b in self.boards)  # refused ones answered
        if not refused:
            return
        message = self._polarity_advice(refused)
        with self._state_lock:
            self._refused.update(dict.fromkeys(refused, message))
        if self._polled:  # else open() raises it: one message either way
            log.error("%s; these doors stay UNKNOWN and are not unlocked", message)
        for board in refused:
            for door, _ in self._doors_of(board):
                self._report(door, DoorState.UNKNOWN, message)

    def _query(self, board: int, attempts: int) -> codec.BoardStatus | None:
        """Ask ``board`` for its status, up to ``attempts`` times; None if it never answered."""
        for _ in range(attempts):
            if self._stopping:
                break
            status = self._line.ask(board)
            if status is not None:
                return status
        return None

    def _read_board(self, board: int, attempts: int, status: codec.BoardStatus | None = None) -> bool:
        """Ask ``board`` for its status (unless ``status`` was just read); report what it says.
        False if it never answered."""
        if status is None:
            status = self._query(board, attempts)
        if status is None:
            self._went_silent(board)
            return False
        self._heard_from(board, status)
        return True

    def _poll(self, board: int) -> None:
        """One routine question to ``board``. A miss is retried soon, but behind any unlock;
        the question to an offline board is given up for an unlock once a reply could no
        longer be on its way."""
        offline = board in self._offline
        status = self._line.ask(board, abandon_after=PROBE_QUIET_S if offline else None,
                                abandon=self._unlock_waiting)
        if status is not None:
            self._heard_from(board, status)
        elif self._line.abandoned:
            self._count("probes_abandoned")  # asked again at its next turn, no miss counted
            self._due[board] = time.monotonic() + self._backoff.get(board, OFFLINE_REPOLL_S)
        elif offline or self._misses.get(board, 0) + 1 >= self._attempts:
            self._went_silent(board)
        else:
            self._misses[board] = self._misses.get(board, 0) + 1
            self._due[board] = time.monotonic()  # again now: _next_work puts unlocks first

    def _heard_from(self, board: int, status: codec.BoardStatus) -> None:
        self._misses.pop(board, None)
        self._backoff.pop(board, None)
        self._apply(status)
        fast = self._watching(board)
        self._due[board] = time.monotonic() + (min(self._poll_s, FAST_POLL_S) if fast else self._poll_s)

    def _went_silent(self, board: int) -> None:
        self._misses.pop(board, None)
        if self._stopping:
            return
        backoff = self._backoff.get(board)
        backoff = max(self._poll_s, OFFLINE_REPOLL_S) if backoff is None else min(2 * backoff, OFFLINE_REPOLL_MAX_S)
        self._backoff[board] = backoff
        self._due[board] = time.monotonic() + backoff
        self._mark_offline([board], f"board {board} not answering")

    def _unlock_waiting(self) -> bool:
        now = time.monotonic()
        with self._cv:
            return any(job.door is not None for job in self._jobs if job.not_before <= now)

    def _watching(self, board: int) -> bool:
        """Is a door of ``board`` unlocked and not yet seen open (its watch not over)?"""
        now = time.monotonic()
        for door, until in list(self._watch.items()):
            if until <= now:
                del self._watch[door]
        first = (board - self.boards[0]) * codec.LOCKS_PER_BOARD + 1
        return any(first <= door < first + codec.LOCKS_PER_BOARD for door in self._watch)

    def _apply(self, status: codec.BoardStatus) -> None:
        """Report one board's reading; a board that answers is online again."""
        doors = self._doors_of(status.board)
        with self._state_lock:
            if status.board in self._offline:
                log.info("%s: board %d answering again", self.port, status.board)
            self._offline.discard(status.board)
            self._occupied.update({door: status.occupied[i] for door, i in doors})
        for door, i in doors:
            if not status.closed[i]:
                self._watch.pop(door, None)  # seen open: the watch is over
            self._report(door, DoorState.CLOSED if status.closed[i] else DoorState.OPEN)

    def _mark_offline(self, boards: list[int], detail: str) -> None:
        for board in boards:
            doors = self._doors_of(board)
            with self._state_lock:
                if board not in self._offline:
                    log.warning("%s: %s", self.port, detail)
                self._offline.add(board)
                self._occupied.update({door: None for door, _ in doors})
            for door, _ in doors:
                self._report(door, DoorState.UNKNOWN, detail)

    def _doors_of(self, board: int) -> list[tuple[int, int]]:
        """(door, lock index) for each fitted door on ``board``."""
        first = (board - self.boards[0]) * codec.LOCKS_PER_BOARD + 1
        last = min(first + codec.LOCKS_PER_BOARD - 1, self.door_count)
        return [(door, door - first) for door in range(first, last + 1)]
