"""Who is signed in where: courier sessions and counter desks, each with its own owner.

A courier session lasts ``COURIER_SESSION_S`` from its last use; a counter desk forgets
what it has read ``DESK_TTL_S`` after the last read (the customer left). Both live in
memory only: a restart signs every courier out and empties every desk, which is safe
(nothing is handed over or opened on the strength of a session alone).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from kiosk.errors import CodeInvalid
from kiosk.security import tags
from kiosk.service.dto import CounterTicket, CourierSession

COURIER_SESSION_S = 300.0
DESK_TTL_S = 180.0     # a desk forgets reads this long after the last one (the customer left)


@dataclass
class _Courier:
    courier_id: str
    last_used: float


class CourierSessions:
    def __init__(self, valid_s: float = COURIER_SESSION_S) -> None:
        self.valid_s = valid_s
        self._open: dict[str, _Courier] = {}

    def open(self, courier_id: str, now: float) -> CourierSession:
        token = uuid.uuid4().hex
        self._open[token] = _Courier(courier_id, now)
        return CourierSession(token, courier_id, self.valid_s)

    def courier_of(self, token: str, now: float) -> str:
        """The courier signed in with ``token`` (its session renewed). Raises CodeInvalid
        when the session is unknown or has expired."""
        entry = self._open.get(token)
        if entry is None or now - entry.last_used > self.valid_s:
            self._open.pop(token, None)
            raise CodeInvalid("courier session expired; enter the courier code again")
        entry.last_used = now
        return entry.courier_id

    def close(self, token: str) -> None:
        self._open.pop(token, None)

    def __len__(self) -> int:
        return len(self._open)


@dataclass
class Desk:
    """What one counter desk has read for the customer in front of it."""

    name: str
    tag: tags.Tag | None = None
    label: str | None = None
    label_source: str = ""
    secret: str | None = field(default=None, repr=False)
    token: str | None = None   # the id read from the parcel's token (F4), ten hex digits
    ready: CounterTicket | None = None
    touched: float = 0.0
    reads: int = 0        # counts reads, so a check that finishes after a new read is void


class CounterDesks:
    def __init__(self, ttl_s: float = DESK_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._desks: dict[str, Desk] = {}

    def get(self, name: str, now: float) -> Desk:
        """The desk's current reads (a fresh desk when the last read is older than the TTL)."""
        held = self._desks.get(name)
        if held is None or now - held.touched > self.ttl_s:
            held = Desk(name, touched=now)
            self._desks[name] = held
        return held

    def is_current(self, desk: Desk) -> bool:
        """False once the desk was cancelled or replaced (a check that finishes late is void)."""
        return self._desks.get(desk.name) is desk

    def drop(self, name: str) -> None:
        self._desks.pop(name, None)
