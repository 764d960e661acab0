"""Clerk and store actions: each one audited under the clerk's id, each its own transaction
(refused with OutOfService while the database cannot be written).

These are the ways out of the machine's safe refusals: a locked-out parcel reset, a
parcel handed over by a person (the only way to "collected" without door evidence,
and it says so in the receipt notice), a locker opened for inspection, put back in
service or taken out of it, and expired parcels taken back for return.
"""

from __future__ import annotations

import dataclasses

from kiosk.domain import attempts as A
from kiosk.domain import lockers as L
from kiosk.domain.parcels import ParcelState, check_paid, normalise_trade_number
from kiosk.errors import InvalidTransition, PaymentDue, UnknownParcel
from kiosk.service import unlock
from kiosk.service.site import Site
from kiosk.service.events import EventKind


def _parcel(site: Site, trade_number: str):
    site.require_storage()
    trade = normalise_trade_number(trade_number)
    parcel = site.db.parcel(trade)
    if parcel is None:
        raise UnknownParcel(f"no parcel {trade} here")
    return parcel


def _locker(site: Site, number: int) -> L.Locker:
    site.require_storage()
    return site.db.require_locker(number)


def reset_attempts(site: Site, clerk: str, trade_number: str) -> None:
    parcel = _parcel(site, trade_number)
    with site.db.transaction(site.now()) as tx:
        tx.save_parcel(A.reset_attempts(parcel))
        tx.emit("attempts_reset", parcel.trade_number, by="clerk", at=site.now())
        tx.audit(f"clerk:{clerk}", "attempts_reset", parcel.trade_number, was=parcel.failed_attempts)


def hand_over(site: Site, clerk: str, trade_number: str, reason: str, *, method: str = "clerk",
              evidence: dict | None = None, payment_taken: bool = False, cash_received: int | None = None) -> None:
    """A clerk hands the parcel over in person (after checking the recipient's proof).

    ``method`` and ``evidence`` say how the recipient was verified when the machine did
    it (the counter: f1_tag, f2_tag, secret); they travel in the receipt notice. A parcel
    with money due is handed over only with the money: ``cash_received`` (what the clerk
    took in cash, minor units: the books record the payment, the change and a
    ``cash_collected`` event in the same transaction as the hand-over) or
    ``payment_taken`` (the clerk confirms it was paid otherwise; audited, and said in the
    receipt notice).
    Raises UnknownParcel, InvalidTransition, PaymentDue (also when the cash is short)."""
    parcel = _parcel(site, trade_number)
    if not reason.strip():
        raise InvalidTransition("a clerk hand-over needs a reason")
    due = check_cash(parcel, cash_received, payment_taken)
    now = site.now()
    with site.db.transaction(now) as tx:
        if parcel.locker is not None:
            tx.save_locker(L.remove_parcel(tx.require_locker(parcel.locker)))
        if cash_received is not None:
            payment_id = site.new_id()
            parcel = dataclasses.replace(parcel, amount_paid=parcel.amount_paid + due)
            tx.emit("cash_collected", parcel.trade_number, payment_id=payment_id, amount=due, received=cash_received,
                    denominations={}, change_paid=cash_received - due, change_owed=0, method="counter",
                    devices={}, at=now)
            tx.audit(f"clerk:{clerk}", "payment_completed", parcel.trade_number, payment_id=payment_id, amount=due,
                     received=cash_received, change_paid=cash_received - due, owed=0, at_counter=True)
        tx.save_parcel(parcel.to(ParcelState.COLLECTED))
        evidence = {"clerk": clerk, "reason": reason, **(evidence or {})}
        if parcel.amount_due > 0:
            taken_by = "cash:counter" if cash_received is not None else \
                "cash:locker" if due <= 0 else f"clerk:{clerk}"   # due <= 0: paid at the payment slot
            evidence["payment"] = {"amount_due": parcel.amount_due, "taken_by": taken_by}
        tx.emit("parcel_collected", parcel.trade_number, locker=parcel.locker, method=method, at=now, evidence=evidence)
        tx.audit(f"clerk:{clerk}", "parcel_collected", parcel.trade_number, locker=parcel.locker, **evidence)
    site.bus.publish(EventKind.PARCEL_COLLECTED, now, trade_number=parcel.trade_number, locker=parcel.locker, by="clerk")


def check_cash(parcel, cash_received: int | None, payment_taken: bool = False) -> int:
    """What is due on ``parcel`` (minor units), checked against the cash the clerk took.
    Raises PaymentDue (money due and none taken, or the cash is short), InvalidTransition."""
    due = parcel.amount_due - parcel.amount_paid
    if cash_received is not None:
        if due <= 0 or cash_received < 0:
            raise InvalidTransition("no cash is due on this parcel" if due <= 0 else "cash received cannot be negative")
        if cash_received < due:
            raise PaymentDue(f"{due - cash_received} (minor units) short of the {due} due: take the rest first", due)
    elif not payment_taken:
        check_paid(parcel)
    return due


async def open_locker(site: Site, clerk: str, number: int) -> str:
    """Open a locker for inspection; its state is kept. Returns the opening's id."""
    locker = _locker(site, number)
    op_id = site.new_id()
    with site.db.transaction(site.now()) as tx:
        tx.save_locker(L.begin_service(locker, op_id, site.now()))
        tx.audit(f"clerk:{clerk}", "unlock_commanded", f"locker:{number}", op_id=op_id, op="service")
    await unlock.fire(site, number)
    return op_id


def set_in_service(site: Site, clerk: str, number: int, in_service: bool, reason: str = "") -> None:
    locker = _locker(site, number)
    new = L.return_to_service(locker) if in_service else L.set_out_of_service(locker, reason or "taken out of service")
    with site.db.transaction(site.now()) as tx:
        tx.save_locker(new)
        tx.audit(f"clerk:{clerk}", "locker_in_service" if in_service else "locker_out_of_service",
                 f"locker:{number}", reason=reason, was=locker.state.value, fault=locker.fault)
    site.bus.publish(EventKind.LOCKER_STATE, site.now(), locker=number, state=new.state.value)


def mark_returned(site: Site, clerk: str, trade_number: str) -> None:
    """An expired parcel has been taken out (by a clerk) to go back to the store."""
    parcel = _parcel(site, trade_number)
    now = site.now()
    with site.db.transaction(now) as tx:
        if parcel.locker is not None:
            tx.save_locker(L.remove_parcel(tx.require_locker(parcel.locker)))
        tx.save_parcel(parcel.to(ParcelState.RETURNED))
        tx.emit("parcel_returned", parcel.trade_number, at=now)
        tx.audit(f"clerk:{clerk}", "parcel_returned", parcel.trade_number, locker=parcel.locker)
