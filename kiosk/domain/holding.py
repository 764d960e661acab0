"""How long a parcel is held, and when the forgotten-pickup warnings fall due (Fig 6, 【0054】).

A parcel's deadline is the store's ``hold_deadline`` from the manifest, or, when the
store gave none, its arrival plus the site's hold period. Warnings fall due at fixed
lead times before the deadline (e.g. 24 h and 6 h). After an outage several may be due
at once: only one warning is raised then (the latest that applies), never a burst.
Pure: times are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HoldPolicy:
    hold_s: float = 3 * 86400.0
    reminders_before_s: tuple[float, ...] = (24 * 3600.0, 6 * 3600.0)   # longest lead first
    extend_s: float = 2 * 86400.0          # one hold extension adds this much
    extensions_max: int = 1                # how many a parcel may have (0: none)

    def __post_init__(self) -> None:
        if self.extend_s <= 0 or self.extensions_max < 0:
            raise ValueError("the extension must be positive and the number of extensions not negative")
        if self.hold_s <= 0 or any(r <= 0 for r in self.reminders_before_s):
            raise ValueError("hold period and reminder lead times must be positive")
        if list(self.reminders_before_s) != sorted(self.reminders_before_s, reverse=True):
            raise ValueError("reminder lead times go longest first")


def deadline(hold_deadline: float | None, arrived_at: float, policy: HoldPolicy) -> float:
    return hold_deadline if hold_deadline is not None else arrived_at + policy.hold_s


def reminders_due(parcel_deadline: float, sent: int, now: float, policy: HoldPolicy) -> int:
    """How many warnings should have gone out by ``now`` (≥ ``sent``); more than ``sent``
    means one warning is due now."""
    if now >= parcel_deadline:
        return sent  # past the deadline it is expiry, not a reminder
    due = sum(1 for lead in policy.reminders_before_s if now >= parcel_deadline - lead)
    return max(sent, due)
