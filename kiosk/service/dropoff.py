"""Parcels sent from the pickup point (issue 15 §4): a sender drops a parcel off with the
code the store gave them, and the courier's collection round takes it — with the parcels
whose holding period ended — under one sign-in, each door on its own evidence.

**Drop-off** (``drop_off``): the store's manifest lists the parcel (``dropoff: true``, its
size, the drop-off code's Argon2id hash). The sender types the trade number and the code:
the same attempt limits as a pickup (the site's gate, the parcel's counter), then a free
door of the right size opens (kiosk.domain.compartments) as for a courier's deposit; the
door opened and shut with the parcel inside is the arrival (``parcel_arrived``: the store
knows it is here). A dropped-off parcel is never handed to anyone at a locker or a counter
(``check_state_for_handover``), is not warned about and does not expire.

**The round** (``round_items``, ``open_for_round``): a signed-in courier sees every door
holding a parcel to send or an expired one, and opens them one by one; each door opened and
shut empty is that parcel ``returned`` (``parcel_returned`` with the door's evidence,
kiosk.service.doors), a door shut on the parcel leaves it where it was.
"""

from __future__ import annotations

from kiosk.domain import attempts as A
from kiosk.domain import lockers as L
from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import LOCKED_OUT_MESSAGE, ParcelState, normalise_trade_number
from kiosk.errors import CodeInvalid, InvalidTransition, LockedOut, NotCollectable, UnknownParcel
from kiosk.security.secrets import verify_secret
from kiosk.service import unlock, verification
from kiosk.service.deposit import choose_locker
from kiosk.service.dto import DoorOpening, RoundItem
from kiosk.service.events import EventKind
from kiosk.service.pickup import record_failure, recent_failures
from kiosk.service.site import Site


async def drop_off(site: Site, trade_number: str, code: str) -> DoorOpening:
    """The sender's code checked, a free door of the right size opens. Raises SlowDown,
    UnknownParcel, NotCollectable (not a parcel to send here, or already dropped), LockedOut,
    CodeInvalid, NoLockerFree, DoorFault."""
    site.require_storage()
    trade = normalise_trade_number(trade_number)
    policy = site.config.attempts
    with site.gate.admit(recent_failures(site), site.now(), policy, trade):
        parcel = site.db.parcel(trade)
        if parcel is None:
            record_failure(site, trade, known=False)   # an unknown number counts, as at a pickup
            raise UnknownParcel("no parcel to send has that number here")
        if not parcel.dropoff:
            raise NotCollectable("this is a parcel to collect, not to send", "not_dropoff")
        if parcel.locked_out:
            raise LockedOut(LOCKED_OUT_MESSAGE)
        if parcel.state != ParcelState.EXPECTED:
            raise NotCollectable("this parcel has already been dropped off", "dropped_off")
        check = await verification.check_secret(site, parcel, code, None, local=verify_secret)
        if not check.matches:
            parcel = record_failure(site, trade, known=True)
            if parcel.locked_out:
                raise LockedOut(LOCKED_OUT_MESSAGE)
            raise CodeInvalid("the drop-off code does not match", A.attempts_left(parcel, policy))
    locker = choose_locker(site, parcel)
    op_id = site.new_id()
    with site.db.transaction(site.now()) as tx:
        tx.save_locker(L.begin_deposit(locker, trade, op_id, site.now()))
        tx.audit("sender", "unlock_commanded", trade, locker=locker.number, op_id=op_id, op="deposit",
                 verified=check.how, dropoff=True)
    site.bus.publish(EventKind.DEPOSIT_STARTED, site.now(), locker=locker.number, trade_number=trade)
    await unlock.fire(site, locker.number)
    return DoorOpening("deposit", trade, locker.number, op_id)


def round_items(site: Site) -> tuple[RoundItem, ...]:
    """Every door the courier's round empties: parcels to send, and expired ones, by door."""
    items = []
    for locker in site.db.lockers():
        if locker.parcel is None or locker.state != LockerState.OCCUPIED or locker.number not in site.locker_numbers:
            continue
        parcel = site.db.parcel(locker.parcel)
        if parcel is None:
            continue
        if parcel.dropoff and parcel.state == ParcelState.ARRIVED:
            items.append(RoundItem(locker.number, parcel.trade_number, "send"))
        elif parcel.state == ParcelState.EXPIRED:
            items.append(RoundItem(locker.number, parcel.trade_number, "expired"))
    return tuple(sorted(items, key=lambda i: i.locker))


async def open_for_round(site: Site, courier: str, number: int) -> DoorOpening:
    """Open one door of the round (``round_items``). Raises InvalidTransition (not on the
    round: nothing to take there), DoorFault."""
    site.require_storage()
    item = next((i for i in round_items(site) if i.locker == number), None)
    if item is None:
        raise InvalidTransition(f"locker {number} holds nothing for the courier's round")
    locker = site.db.require_locker(number)
    op_id = site.new_id()
    with site.db.transaction(site.now()) as tx:
        tx.save_locker(L.begin_pickup(locker, op_id, site.now()))
        tx.audit(f"courier:{courier}", "unlock_commanded", item.trade_number, locker=number, op_id=op_id, op="pickup",
                 round=item.why)
    site.bus.publish(EventKind.PICKUP_STARTED, site.now(), locker=number, trade_number=item.trade_number,
                     source="round")
    await unlock.fire(site, number)
    return DoorOpening("pickup", item.trade_number, number, op_id)
