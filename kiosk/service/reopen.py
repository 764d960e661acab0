"""Open it again: the recipient shut the door on their parcel.

When the compartment's occupancy sensor shows the parcel still inside after the door
closed (kiosk.service.doors: ``pickup_not_taken``), the parcel stays collectable and the
recipient who just opened that door may open it once more without typing the secret
again — within ``[lockers] reopen_window_s`` of the door closing, at most ``reopen_max``
times. After that, or after a restart (the grant is kept in memory only, on purpose), the
secret is needed again, with its attempt limits.

The re-opening is an ordinary pickup opening (kiosk.service.pickup.open_for_pickup): one
transaction with its audit entry (``verified: "reopen"``, ``reopened``: the count), then
the pulse; the parcel is collected only on door evidence, as always.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain.parcels import normalise_trade_number
from kiosk.errors import NotCollectable
from kiosk.service.dto import DoorOpening
from kiosk.service.pickup import _check_collectable, open_for_pickup
from kiosk.service.site import Site

EXPIRED = "the time to open it again has passed: type your secret again"


@dataclass
class Grant:
    locker: int
    until: float
    used: int = 0


def grant(site: Site, trade_number: str, locker: int, now: float) -> None:
    """The door of ``locker`` shut on ``trade_number``'s parcel: it may be opened again."""
    timing = site.config.timing
    if timing.reopen_max > 0 and timing.reopen_window_s > 0:
        used = site.reopens[trade_number].used if trade_number in site.reopens else 0
        site.reopens[trade_number] = Grant(locker, now + timing.reopen_window_s, used)


def can_reopen(site: Site, trade_number: str) -> int | None:
    """The locker ``trade_number``'s parcel may be opened again from, if it may."""
    entry = site.reopens.get(trade_number)
    if entry is None or site.now() > entry.until or entry.used >= site.config.timing.reopen_max:
        return None
    return entry.locker


async def reopen(site: Site, trade_number: str) -> DoorOpening:
    """Open the door again for the parcel left inside. Raises NotCollectable
    (``reopen_expired``: no grant, too late or used up; or why the parcel cannot be
    handed over now), SeeStaff (the locker needs attention), DoorFault."""
    site.require_storage()
    trade = normalise_trade_number(trade_number)
    locker = can_reopen(site, trade)
    parcel = site.db.parcel(trade)
    if locker is None or parcel is None or parcel.locker != locker:
        site.reopens.pop(trade, None)
        raise NotCollectable(EXPIRED, "reopen_expired")
    _check_collectable(site, parcel)
    entry = site.reopens[trade]
    entry.used += 1
    return await open_for_pickup(site, parcel, "reopen", "reopen", reopened=entry.used)
