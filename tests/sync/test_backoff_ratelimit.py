"""Backoff (exponential, capped, full jitter, seeded) and the online-check token bucket."""

import random

import pytest

from kiosk.clock import ManualClock
from kiosk.sync.backoff import Backoff
from kiosk.sync.ratelimit import TokenBucket


def test_backoff_grows_to_its_cap_and_jitters_below_the_ceiling():
    b = Backoff(2.0, 60.0, random.Random(1))
    assert [b.ceiling(n) for n in range(0, 7)] == [0.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0]
    assert b.ceiling(10_000) == 60.0   # no overflow however long the outage
    delays = [b.delay(5) for _ in range(500)]
    assert all(0.0 <= d <= 32.0 for d in delays)
    assert max(delays) - min(delays) > 16.0  # full jitter, not a fixed step


def test_backoff_is_reproducible_with_a_seed_and_honours_retry_after():
    a, b = Backoff(1.0, 30.0, random.Random(7)), Backoff(1.0, 30.0, random.Random(7))
    assert [a.delay(n) for n in range(1, 20)] == [b.delay(n) for n in range(1, 20)]
    assert Backoff(1.0, 30.0, random.Random(0)).delay(1, at_least=12.0) >= 12.0


def test_backoff_refuses_nonsense():
    with pytest.raises(ValueError):
        Backoff(0, 10)
    with pytest.raises(ValueError):
        Backoff(5, 1)


def test_token_bucket_allows_a_burst_then_the_rate():
    clock = ManualClock()
    bucket = TokenBucket(rate_per_s=0.5, burst=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(2.0)        # one token every 2 s
    clock.advance(1.0)
    assert bucket.take() == pytest.approx(1.0)
    clock.advance(1.0)
    assert bucket.take() == 0.0
    clock.advance(3600)
    assert [bucket.take() for _ in range(4)][:3] == [0.0, 0.0, 0.0]   # never more than the burst saved
