"""Holding periods: forgotten-pickup warnings before the deadline, expiry at it (Fig 6, 【0054】).

Run by the controller's timer. Each warning is one transaction (the parcel's count of
warnings sent, its ``forgotten_pickup`` event for the store, which escalates it, and
the audit entry), so a restart never repeats or skips one. At the deadline the parcel
becomes ``expired`` and is listed for return to the store (``returns``).
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.domain import holding as H
from kiosk.domain.parcels import Parcel, ParcelState
from kiosk.service.site import Site
from kiosk.service.events import EventKind


def arrival_deadline(site: Site, parcel: Parcel, arrived_at: float) -> float:
    """The deadline a parcel gets on arrival: the store's, else arrival + the hold period."""
    return H.deadline(parcel.hold_deadline, arrived_at, site.config.holding)


def sweep(site: Site) -> None:
    """Raise the warnings that are due and expire what is past its deadline."""
    now = site.now()
    for parcel in site.db.parcels(ParcelState.ARRIVED) + site.db.parcels(ParcelState.EXPECTED):
        if parcel.hold_deadline is None or (parcel.dropoff and parcel.state == ParcelState.ARRIVED):
            continue  # a dropped-off parcel waits for the courier's round: nobody to warn, nothing expires
        if parcel.locker is not None and site.db.require_locker(parcel.locker).busy:
            continue  # a door is open for it right now: let that finish first
        if parcel.hold_deadline <= now:
            _expire(site, parcel, now)
        elif parcel.state == ParcelState.ARRIVED:
            due = H.reminders_due(parcel.hold_deadline, parcel.reminders_sent, now, site.config.holding)
            if due > parcel.reminders_sent:
                _warn(site, parcel, due, now)


def _warn(site: Site, parcel: Parcel, due: int, now: float) -> None:
    assert parcel.hold_deadline is not None   # sweep() warns only parcels with a deadline
    hours_left = round((parcel.hold_deadline - now) / 3600, 1)
    with site.db.transaction(now) as tx:
        tx.save_parcel(replace(parcel, reminders_sent=due))
        tx.emit("forgotten_pickup", parcel.trade_number, reminder=due, hours_left=hours_left,
                deadline=parcel.hold_deadline, locker=parcel.locker, at=now)
        tx.audit("kioskd", "forgotten_pickup", parcel.trade_number, reminder=due, hours_left=hours_left)
    site.bus.publish(EventKind.FORGOTTEN_PICKUP, now, trade_number=parcel.trade_number, hours_left=hours_left)


def _expire(site: Site, parcel: Parcel, now: float) -> None:
    with site.db.transaction(now) as tx:
        tx.save_parcel(parcel.to(ParcelState.EXPIRED))
        tx.emit("parcel_expired", parcel.trade_number, locker=parcel.locker, at=now)
        tx.audit("kioskd", "parcel_expired", parcel.trade_number, deadline=parcel.hold_deadline)
    site.bus.publish(EventKind.PARCEL_EXPIRED, now, trade_number=parcel.trade_number, locker=parcel.locker)
