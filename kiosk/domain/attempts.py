"""Attempt limits: every keypad and every online check is a guessing machine unless limited.

Two limits, both pure (the caller passes the time and the recent history):
- per parcel: after ``per_parcel_max`` wrong secrets the parcel is locked out until a
  clerk or the store resets it;
- per site: when ``site_threshold`` failures fall within ``site_window_s``, every attempt
  at the site must wait ``site_slowdown_s`` after the previous failure, and one alarm is
  raised per window — a burst of guesses over many trade numbers is slowed for all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kiosk.domain.parcels import Parcel
from kiosk.errors import SlowDown


@dataclass(frozen=True)
class AttemptPolicy:
    per_parcel_max: int = 5
    site_window_s: float = 300.0
    site_threshold: int = 20
    site_slowdown_s: float = 10.0


def attempts_left(parcel: Parcel, policy: AttemptPolicy) -> int:
    return max(0, policy.per_parcel_max - parcel.failed_attempts)


def register_failure(parcel: Parcel, policy: AttemptPolicy) -> Parcel:
    """The parcel after one more wrong secret (locked out once the limit is reached)."""
    failed = parcel.failed_attempts + 1
    return replace(parcel, failed_attempts=failed, locked_out=parcel.locked_out or failed >= policy.per_parcel_max)


def reset_attempts(parcel: Parcel) -> Parcel:
    return replace(parcel, failed_attempts=0, locked_out=False)


def site_is_alarmed(recent_failures: list[float], now: float, policy: AttemptPolicy) -> bool:
    window = [t for t in recent_failures if now - t <= policy.site_window_s]
    return len(window) >= policy.site_threshold


def check_site(recent_failures: list[float], now: float, policy: AttemptPolicy) -> None:
    """Raise SlowDown when the site is under a burst of failures and the last one was too recent."""
    if not site_is_alarmed(recent_failures, now, policy):
        return
    wait = policy.site_slowdown_s - (now - max(recent_failures))
    if wait > 0:
        raise SlowDown(wait)


def crosses_alarm(previous_failures: list[float], now: float, policy: AttemptPolicy) -> bool:
    """True when one more failure at ``now`` is the one that raises the site alarm."""
    return (site_is_alarmed([*previous_failures, now], now, policy)
            and not site_is_alarmed(previous_failures, now, policy))
