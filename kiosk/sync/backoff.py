"""Retry delays after a failed exchange: exponential, capped, with full jitter.

"Full jitter" (a uniform draw between 0 and the exponential ceiling) keeps a fleet of
pickup points that lost the store at the same moment from all coming back at the same
moment. The random source is injected so a scenario or a test replays exactly.
"""

from __future__ import annotations

import random


class Backoff:
    """``delay(n)`` is the wait before retry number ``n`` (1 = after the first failure)."""

    def __init__(self, initial_s: float, cap_s: float, rng: random.Random | None = None):
        if initial_s <= 0 or cap_s < initial_s:
            raise ValueError("backoff needs 0 < initial_s <= cap_s")
        self.initial_s = initial_s
        self.cap_s = cap_s
        self.rng = rng or random.Random()

    def ceiling(self, failures: int) -> float:
        """The largest delay after ``failures`` consecutive failures."""
        if failures <= 0:
            return 0.0
        # 2**60 × anything positive is past any cap: stop doubling before floats overflow.
        return min(self.cap_s, self.initial_s * 2.0 ** min(failures - 1, 60))

    def delay(self, failures: int, *, at_least: float = 0.0) -> float:
        """A jittered delay in [0, ceiling]; never less than ``at_least`` (a store's Retry-After)."""
        return max(at_least, self.rng.uniform(0.0, self.ceiling(failures)))

    def __repr__(self) -> str:
        return f"Backoff(initial_s={self.initial_s}, cap_s={self.cap_s})"
