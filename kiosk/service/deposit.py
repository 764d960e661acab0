"""Courier drop-off: courier code → trade number → a locker opens → courier closes it → arrived.

A courier session (kiosk.service.sessions) lasts a few minutes from its last use. A wrong courier code
counts against the site like a wrong recipient secret (the same keypad, the same guessing
machine). The locker is the manifest's hint when that one is free and closed, else the
lowest-numbered free one; a jammed door ends in fault and the courier simply asks again
(another locker is chosen).
"""

from __future__ import annotations

from kiosk.domain import attempts as A
from kiosk.domain import lockers as L
from kiosk.domain.parcels import ParcelState, normalise_trade_number
from kiosk.errors import CodeInvalid, NoLockerFree, NotCollectable, SeeStaff, UnknownParcel
from kiosk.security.secrets import verify_secret
from kiosk.service import unlock
from kiosk.service.dto import CourierSession, DoorOpening
from kiosk.service.events import EventKind
from kiosk.service.pickup import record_failure, recent_failures
from kiosk.service.site import Site


async def courier_login(site: Site, code: str) -> CourierSession:
    """Check a courier code; returns the session. Raises SlowDown, CodeInvalid."""
    A.check_site(recent_failures(site), site.now(), site.config.attempts)
    for courier in site.config.couriers:
        if await site.off_loop(verify_secret, code, courier.code_hash):
            session = site.couriers.open(courier.id, site.now())
            with site.db.transaction(site.now()) as tx:
                tx.audit(f"courier:{courier.id}", "courier_login")
            return session
    record_failure(site, "", known=False)
    raise CodeInvalid("courier code not recognised")


def courier_logout(site: Site, token: str) -> None:
    site.couriers.close(token)


def choose_locker(site: Site, hint: int | None) -> L.Locker:
    lockers = [lk for lk in site.db.lockers() if lk.number in site.locker_numbers]
    usable = [lk for lk in lockers if lk.usable_for_deposit]
    for locker in usable:
        if locker.number == hint:
            return locker
    if not usable:
        raise NoLockerFree("no working locker is free")
    return usable[0]


async def deposit(site: Site, token: str, trade_number: str) -> DoorOpening:
    """Open a free locker for an expected parcel. Raises CodeInvalid (session), UnknownParcel,
    NotCollectable (not expected any more), NoLockerFree, SeeStaff, DoorFault."""
    courier = site.couriers.courier_of(token, site.now())
    trade = normalise_trade_number(trade_number)
    parcel = site.db.parcel(trade)
    if parcel is None:
        raise UnknownParcel(f"{trade} is not in the manifest for this pickup point")
    if parcel.state != ParcelState.EXPECTED:
        raise NotCollectable(f"{trade} is already {parcel.state.value}")
    if any(lk.parcel == trade for lk in site.db.lockers()):
        raise SeeStaff(f"{trade} is already being loaded")
    if parcel.method not in ("locker", "secret"):
        raise SeeStaff(f"{trade} is to be handed over at the counter, not put in a locker")
    locker = choose_locker(site, parcel.locker_hint)
    op_id = site.new_id()
    with site.db.transaction(site.now()) as tx:
        tx.save_locker(L.begin_deposit(locker, trade, op_id, site.now()))
        tx.audit(f"courier:{courier}", "unlock_commanded", trade, locker=locker.number, op_id=op_id, op="deposit")
    site.bus.publish(EventKind.DEPOSIT_STARTED, site.now(), locker=locker.number, trade_number=trade)
    await unlock.fire(site, locker.number)
    return DoorOpening("deposit", trade, locker.number, op_id)
