"""Attempt limits: every keypad and every online check is a guessing machine unless limited.

Limits, all pure (the caller passes the time and the recent history):
- per parcel: after ``per_parcel_max`` wrong secrets the parcel is locked out until a
  clerk or the store resets it;
- per site: when ``site_threshold`` failures fall within ``site_window_s``, every attempt
  at the site must wait ``site_slowdown_s`` after the previous failure, and one alarm is
  raised per window — a burst of guesses over many trade numbers is slowed for all. A
  check still in flight counts as a failure here until it is known to have passed
  (kiosk.service.gate), so checks that run at once cannot slip through together;
- courier codes, their own: ``courier_max_failures`` wrong codes within
  ``courier_window_s`` close courier sign-in for ``courier_lockout_s`` (and raise an
  alarm); each courier's code signs in at most ``courier_logins_per_hour`` times an hour
  (a leaked code cannot empty the bank). Wrong courier codes also count for the site.
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
    max_checks_in_flight: int = 2      # slow secret checks at once per site (the hasher has 2 workers)
    courier_max_failures: int = 5
    courier_window_s: float = 600.0
    courier_lockout_s: float = 900.0
    courier_logins_per_hour: int = 30


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


def courier_lockout_wait(failures: list[float], now: float, policy: AttemptPolicy) -> float:
    """Seconds until courier sign-in opens again (0: open). It closes for
    ``courier_lockout_s`` after the failure that makes ``courier_max_failures`` within
    ``courier_window_s``."""
    recent = sorted(t for t in failures if now - t <= policy.courier_window_s + policy.courier_lockout_s)
    wait = 0.0
    for i in range(policy.courier_max_failures - 1, len(recent)):
        if recent[i] - recent[i - policy.courier_max_failures + 1] <= policy.courier_window_s:
            wait = max(wait, recent[i] + policy.courier_lockout_s - now)
    return max(0.0, wait)


def courier_logins_wait(logins: list[float], now: float, policy: AttemptPolicy) -> float:
    """Seconds until one courier's code may sign in again (0: now), given its sign-ins."""
    recent = sorted(t for t in logins if now - t < 3600.0)
    if len(recent) < policy.courier_logins_per_hour:
        return 0.0
    return recent[len(recent) - policy.courier_logins_per_hour] + 3600.0 - now


def crosses_alarm(previous_failures: list[float], now: float, policy: AttemptPolicy) -> bool:
    """True when one more failure at ``now`` is the one that raises the site alarm."""
    return (site_is_alarmed([*previous_failures, now], now, policy)
            and not site_is_alarmed(previous_failures, now, policy))
