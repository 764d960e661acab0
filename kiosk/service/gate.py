"""The attempt gate: limits that hold however many checks arrive at once.

A secret check is slow (Argon2id in the hasher pool, or a round trip to the store), and
the attempt limits are checked before it and charged after it. Without a gate, many
checks started together — two dozen phone codes in one camera frame, several screens or
desks — all pass the site's slow-down before the first failure is recorded. So a check is
admitted here atomically (on the event loop, with no await between the look and the
registration) and, while in flight, counts as a failure for the site's slow-down; at
most ``max_checks_in_flight`` run per site, and at most one per parcel (a second check of
the same parcel waits for the first, which may lock it out).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kiosk.domain import attempts as A
from kiosk.errors import KioskError, SlowDown

BUSY_RETRY_S = 1.0   # what a refused-while-busy caller is told to wait


class AttemptGate:
    def __init__(self) -> None:
        self._in_flight: dict[int, tuple[str | None, float]] = {}   # key -> (trade number, started at)
        self._keys = itertools.count()
        # Called with (seconds, outcome) for every check admitted (the metrics' latency
        # histogram): outcome "passed", "refused" (a KioskError) or "failed" (anything else).
        self.observe: Callable[[float, str], None] | None = None

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @contextmanager
    def admit(self, failures: list[float], now: float, policy: A.AttemptPolicy,
              trade_number: str | None = None) -> Iterator[None]:
        """Admit one check (of ``trade_number``'s secret, or a courier code when None)
        given the site's recent ``failures``; it counts as in flight until the block ends.
        Raises SlowDown (the site is slowed down, too many checks at once, or this parcel
        is being checked already)."""
        if trade_number is not None and any(t == trade_number for t, _ in self._in_flight.values()):
            raise SlowDown(BUSY_RETRY_S)
        if len(self._in_flight) >= policy.max_checks_in_flight:
            raise SlowDown(BUSY_RETRY_S)
        A.check_site(failures + [started for _, started in self._in_flight.values()], now, policy)
        key = next(self._keys)
        self._in_flight[key] = (trade_number, now)
        started, outcome = time.perf_counter(), "failed"
        try:
            yield
            outcome = "passed"
        except KioskError:
            outcome = "refused"
            raise
        finally:
            del self._in_flight[key]
            if self.observe is not None:
                self.observe(time.perf_counter() - started, outcome)
