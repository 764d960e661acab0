"""Courier drop-off: courier code → trade number → a locker opens → courier closes it → arrived.

A courier session (kiosk.service.sessions) lasts a few minutes from its last use. A wrong
courier code counts against the site like a wrong recipient secret (the same keypad, the
same guessing machine), and against courier sign-in itself: enough wrong codes close it
for a while and raise an alarm; each courier's code signs in only so often an hour
(kiosk.domain.attempts). The check goes through the attempt gate like every other. The locker is the manifest's hint when that one is free and closed, else the
lowest-numbered free one; a jammed door ends in fault and the courier simply asks again
(another locker is chosen).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from kiosk.domain import attempts as A
from kiosk.domain import compartments
from kiosk.domain import lockers as L
from kiosk.domain.parcels import Parcel, ParcelState, normalise_trade_number
from kiosk.errors import CodeInvalid, NoLockerFree, NotCollectable, SeeStaff, SlowDown, UnknownParcel
from kiosk.security.secrets import verify_secret
from kiosk.service import unlock
from kiosk.service.dto import CourierSession, DoorOpening
from kiosk.service.events import EventKind
from kiosk.service.pickup import record_failure, recent_failures
from kiosk.service.site import Site

T = TypeVar("T")


async def courier_login(site: Site, code: str) -> CourierSession:
    """Check a courier code; returns the session. Raises SlowDown (the site is slowed
    down, courier sign-in is closed after wrong codes, or this courier signed in too often
    this hour — ``retry_after`` says how long), CodeInvalid."""
    courier = await check_sign_in_code(site, code, site.config.couriers)
    if courier is None:
        raise CodeInvalid("courier code not recognised")
    return _signed_in(site, courier.id)


async def check_sign_in_code(site: Site, code: str, entries: Sequence[T]) -> T | None:
    """The entry of ``entries`` (couriers, staff: each with a ``code_hash``) whose code
    ``code`` is, or None — a wrong code charged to the site and to sign-in. Raises SlowDown
    while the site is slowed down or sign-in is closed after wrong codes."""
    site.require_storage()
    policy = site.config.attempts
    A.check_site(recent_failures(site), site.now(), policy)
    closed = A.courier_lockout_wait(_courier_failures(site), site.now(), policy)
    if closed > 0:
        raise SlowDown(closed)
    with site.gate.admit(recent_failures(site), site.now(), policy):
        for entry in entries:
            if await site.off_loop(verify_secret, code, entry.code_hash):   # type: ignore[attr-defined]
                return entry
        _wrong_courier_code(site)
    return None


def _courier_failures(site: Site) -> list[float]:
    policy = site.config.attempts
    return site.db.courier_failures_since(site.now() - policy.courier_window_s - policy.courier_lockout_s)


def _signed_in(site: Site, courier_id: str) -> CourierSession:
    now, policy = site.now(), site.config.attempts
    wait = A.courier_logins_wait(site.db.courier_logins_since(courier_id, now - 3600.0), now, policy)
    if wait > 0:
        with site.db.transaction(now) as tx:
            tx.audit(f"courier:{courier_id}", "courier_login_refused", None, reason="too many sign-ins this hour")
        raise SlowDown(wait)
    with site.db.transaction(now) as tx:
        tx.record_courier_login(courier_id, prune_before=now - 3600.0)
        tx.audit(f"courier:{courier_id}", "courier_login")
    return site.couriers.open(courier_id, now)


def _wrong_courier_code(site: Site) -> None:
    """One wrong courier code: charged to the site and to courier sign-in; the one that
    closes courier sign-in raises an alarm (to the store and on the screens)."""
    now, policy = site.now(), site.config.attempts
    record_failure(site, "", known=False)
    was_open = A.courier_lockout_wait(_courier_failures(site), now, policy) == 0
    with site.db.transaction(now) as tx:
        tx.record_courier_failure(prune_before=now - policy.courier_window_s - policy.courier_lockout_s)
        tx.audit("courier", "courier_code_wrong", None)
        closes = was_open and A.courier_lockout_wait(tx.courier_failures_since(
            now - policy.courier_window_s - policy.courier_lockout_s), now, policy) > 0
        if closes:
            # v1 of the store protocol knows site_attempts_alarm; ``scope`` says which sign-in closed.
            tx.emit("site_attempts_alarm", None, scope="courier_sign_in", failures=policy.courier_max_failures,
                    window_s=policy.courier_window_s, closed_for_s=policy.courier_lockout_s, at=now)
            tx.audit("kioskd", "alarm_courier_attempts", None, closed_for_s=policy.courier_lockout_s)
    if closes:
        site.bus.publish(EventKind.ALARM, now, alarm="courier_attempts")


def courier_logout(site: Site, token: str) -> None:
    site.couriers.close(token)


def choose_locker(site: Site, parcel: Parcel) -> L.Locker:
    """The free door for ``parcel``: big enough, low when its recipient asked for one, the
    store's hint when it fits (kiosk.domain.compartments). Raises NoLockerFree saying why."""
    lockers = {lk.number: lk for lk in site.db.lockers() if lk.number in site.locker_numbers}
    usable = [n for n, lk in lockers.items() if lk.usable_for_deposit]
    if not usable:
        raise NoLockerFree("no working locker is free")
    chosen = compartments.choose(usable, site.config.layout, size=parcel.size, low_door=parcel.low_door,
                                 hint=parcel.locker_hint)
    if isinstance(chosen, compartments.Refusal):
        raise NoLockerFree(chosen.message, reason=chosen.reason)
    return lockers[chosen]


async def deposit(site: Site, token: str, trade_number: str) -> DoorOpening:
    """Open a free locker for an expected parcel. Raises CodeInvalid (session), UnknownParcel,
    NotCollectable (not expected any more), NoLockerFree, SeeStaff, DoorFault."""
    site.require_storage()
    courier = site.couriers.courier_of(token, site.now())
    trade = normalise_trade_number(trade_number)
    parcel = site.db.parcel(trade)
    if parcel is None:
        raise UnknownParcel(f"{trade} is not in the manifest for this pickup point")
    if parcel.state != ParcelState.EXPECTED:
        raise NotCollectable(f"{trade} is already {parcel.state.value}")
    if parcel.dropoff:
        raise SeeStaff(f"{trade} is a parcel someone sends: its sender drops it off here")
    if any(lk.parcel == trade for lk in site.db.lockers()):
        raise SeeStaff(f"{trade} is already being loaded")
    # An IC-card parcel may wait in a locker too: it opens only with its card (kiosk.service.card_pickup);
    # a biometric one where a fingerprint sensor can open it (kiosk.service.finger_pickup).
    fingers = bool(site.config.devices.get("biometric"))
    if parcel.method not in ("locker", "secret", "ic_card") and not (parcel.method == "biometric" and fingers):
        raise SeeStaff(f"{trade} is to be handed over at the counter, not put in a locker")
    locker = choose_locker(site, parcel)
    op_id = site.new_id()
    with site.db.transaction(site.now()) as tx:
        tx.save_locker(L.begin_deposit(locker, trade, op_id, site.now()))
        tx.audit(f"courier:{courier}", "unlock_commanded", trade, locker=locker.number, op_id=op_id, op="deposit")
    site.bus.publish(EventKind.DEPOSIT_STARTED, site.now(), locker=locker.number, trade_number=trade)
    await unlock.fire(site, locker.number)
    return DoorOpening("deposit", trade, locker.number, op_id)
