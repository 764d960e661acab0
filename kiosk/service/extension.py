"""Extending a parcel's hold (issue 15 §5): "I can't come before Friday".

The recipient at the kiosk (after proving the right to the parcel with its secret, under
the same attempt limits as a pickup) or a clerk extends the deadline of an arrived parcel
by ``[holding] extend_hours``, at most ``extensions_max`` times. One transaction: the new
deadline, the count, the warnings already past for the new deadline counted as sent (so
none is repeated, and the next one follows the new deadline), the ``hold_extended`` event
for the store (protocol v1.2) and the audit entry.
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.domain import holding as H
from kiosk.domain.parcels import Parcel, ParcelState, normalise_trade_number
from kiosk.errors import LockedOut, NotCollectable, UnknownParcel
from kiosk.service.site import Site


def can_extend(parcel: Parcel, policy: H.HoldPolicy) -> bool:
    return (parcel.state == ParcelState.ARRIVED and parcel.hold_deadline is not None and not parcel.locked_out
            and parcel.extensions < policy.extensions_max)


def extend(site: Site, trade_number: str, actor: str) -> Parcel:
    """Extend the hold of ``trade_number``; ``actor`` is "recipient" or "clerk:<id>".
    Returns the parcel with its new deadline. Raises UnknownParcel, LockedOut,
    NotCollectable ("not_extendable": not arrived, or extended as often as allowed)."""
    site.require_storage()
    policy, now = site.config.holding, site.now()
    trade = normalise_trade_number(trade_number)
    with site.db.transaction(now) as tx:
        parcel = tx.parcel(trade)
        if parcel is None:
            raise UnknownParcel("no parcel with that number is waiting here")
        if parcel.locked_out:
            raise LockedOut("this parcel is locked after too many wrong attempts; please see staff")
        if not can_extend(parcel, policy):
            raise NotCollectable("this parcel's hold cannot be extended (again); please see staff", "not_extendable")
        assert parcel.hold_deadline is not None    # can_extend
        deadline = parcel.hold_deadline + policy.extend_s
        extended = replace(parcel, hold_deadline=deadline, extensions=parcel.extensions + 1,
                           reminders_sent=H.reminders_due(deadline, 0, now, policy))
        tx.save_parcel(extended)
        tx.emit("hold_extended", trade, deadline=deadline, extensions=extended.extensions, by=actor.split(":")[0],
                at=now)
        tx.audit(actor, "hold_extended", trade, deadline=deadline, extensions=extended.extensions)
    return extended
