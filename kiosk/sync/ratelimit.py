"""A token bucket on an injected clock: how often this site may ask the store to verify.

The store limits online checks too (it answers 429); this bucket is the pickup point's
own half, so a guessing machine at the keypad is slowed here before it costs the store
anything, and tests and scenarios drive it with a ManualClock.
"""

from __future__ import annotations

from kiosk.clock import Clock


class TokenBucket:
    """``rate_per_s`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate_per_s: float, burst: int, clock: Clock):
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate_per_s > 0 and burst >= 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock.now()

    def _refill(self) -> None:
        now = self._clock.now()
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate_per_s)
        self._at = max(self._at, now)

    def take(self) -> float:
        """Take one token. Returns 0.0 when taken, else the seconds until one is free."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate_per_s

    def __repr__(self) -> str:
        return f"TokenBucket(rate_per_s={self.rate_per_s}, burst={self.burst})"
