"""Cash at a locker's payment slot (issue 13): verified → pay → change → only then the door opens.

``start`` checks the recipient exactly as ``submit_code`` does (same attempt limits), opens a
payment for what is due and lets the acceptors take money. Device events arrive in order
through ``run`` (the driver's thread hands them to the loop): each credit is counted in one
transaction with the device's event counter (so a restart resumes after it, kiosk.devices.roles
CashDevices.resume), a note in escrow is stacked while money is still due and returned
otherwise. When enough is in: money refused again, change paid, then one transaction records
the receipt (the parcel's ``amount_paid``, the ``cash_collected`` outbox event, the audit
entry), and only then is the door unlocked. A door that fails after that leaves the money
credited to the parcel: the recipient retries with ``submit_code`` and pays nothing more.

``cancel`` (the customer, or ``expire`` after ``PAYMENT_TIMEOUT_S`` without activity) refuses
money, returns a note in escrow and pays back what was taken; what the hoppers cannot pay is
recorded as owed (``refund_owed``, in the ``cash_refunded`` event), never silently kept.
After a crash ``recover`` squares the books: a payment still collecting is refunded; one
caught paying change or a refund is closed with the uncertain amount owed for a clerk to check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from kiosk.devices.roles import CashEvent, CashEventKind, PayoutResult
from kiosk.domain import payments as P
from kiosk.domain.payments import Payment, PaymentState
from kiosk.errors import DeviceError, InvalidTransition, KioskError, SeeStaff
from kiosk.service import pickup
from kiosk.service.dto import PaymentSession
from kiosk.service.events import EventKind
from kiosk.service.site import Site
from kiosk.service.verification import OnlineVerifier
from kiosk.storage import payments as store

log = logging.getLogger(__name__)

PAYMENT_TIMEOUT_S = 120.0
HOPPER_SETTLE_S = 30.0   # after a restart, how long a dispense under way may take to end
ALARM_KINDS = (CashEventKind.FRAUD, CashEventKind.MISSED, CashEventKind.RESET, CashEventKind.FAULT)


def _cash(site: Site):
    if site.cash is None:
        raise SeeStaff("this pickup point takes no cash; please pay at the counter")
    return site.cash


def _publish(site: Site, p: Payment) -> None:
    site.bus.publish(EventKind.PAYMENT, site.now(), payment_id=p.payment_id, trade_number=p.trade_number,
                     state=p.state.value, amount_due=p.amount_due, credited=p.credited,
                     escrow=site.payments.escrow, paid_back=p.paid_back, owed=p.owed)


def _session(site: Site, p: Payment) -> PaymentSession:
    accepts = site.cash.accepted() if site.cash is not None else ()
    return PaymentSession(p.payment_id, p.trade_number, p.amount_due, p.credited, p.state.value, accepts)


def _collecting(site: Site) -> Payment | None:
    return next((p for p in store.unfinished(site.db) if p.state is PaymentState.COLLECTING), None)


async def start(site: Site, trade_number: str, secret: str, *, online: OnlineVerifier | None = None,
                source: str = "typed") -> PaymentSession:
    """Verify the recipient and open a payment for what the parcel has due. Raises SeeStaff
    (no cash here, or the slot is busy with another payment), InvalidTransition (nothing is
    due), and everything ``submit_code`` raises before the door."""
    cash = _cash(site)
    parcel, how = await pickup.verify_recipient(site, trade_number, secret, online=online, allow_due=True)
    due = parcel.amount_due - parcel.amount_paid
    if due <= 0:
        raise InvalidTransition(f"nothing is due for {parcel.trade_number}: use submit_code")
    busy = _collecting(site)
    if busy is not None and busy.trade_number != parcel.trade_number:
        raise SeeStaff("the payment slot is busy with another payment; please wait or see staff")
    if busy is not None:
        return _session(site, busy)
    payment = P.start(site.new_id(), parcel.trade_number, due, site.now())
    with site.db.transaction(site.now()) as tx:
        store.save(tx, payment)
        tx.audit("recipient", "payment_started", parcel.trade_number, payment_id=payment.payment_id,
                 amount_due=due, verified=how, source=source)
    site.payments.verified[payment.payment_id] = (how, source)
    try:
        await asyncio.to_thread(cash.accept, True)
    except DeviceError as err:
        await _refund(site, payment.payment_id, f"the acceptors failed: {err}")
        raise SeeStaff("the payment slot is not working; please pay at the counter") from err
    _publish(site, payment)
    return _session(site, payment)


async def cancel(site: Site, payment_id: str, reason: str = "cancelled") -> PaymentSession:
    """Stop collecting and pay back everything taken. Raises InvalidTransition (not collecting),
    SeeStaff (no cash here)."""
    _cash(site)
    payment = store.payment(site.db, payment_id)
    if payment is None or payment.state is not PaymentState.COLLECTING:
        raise InvalidTransition(f"payment {payment_id} is not collecting")
    return _session(site, await _refund(site, payment_id, reason))


def expire(site: Site) -> None:
    """From the timers: cancel a payment untouched for PAYMENT_TIMEOUT_S."""
    if site.cash is None:
        return
    for p in store.unfinished(site.db):
        if p.state is PaymentState.COLLECTING and site.now() - p.last_activity >= PAYMENT_TIMEOUT_S \
                and p.payment_id not in site.payments.closing:
            site.payments.closing.add(p.payment_id)  # the next tick must not start a second refund
            site.payments.spawn(_refund(site, p.payment_id, "timed out"))


async def run(site: Site, queue: asyncio.Queue[CashEvent]) -> None:
    """Apply the devices' events, one at a time, in order (a supervised task)."""
    while True:
        event = await queue.get()
        try:
            await on_event(site, event)
        finally:
            queue.task_done()


async def on_event(site: Site, event: CashEvent) -> None:
    cash = _cash(site)
    if event.kind is CashEventKind.CREDIT:
        await _credit(site, event)
        return
    if event.kind is CashEventKind.ESCROW:
        site.payments.escrow = event.amount
        payment = _collecting(site)
        with site.db.transaction(site.now()) as tx:
            store.save_counter(tx, event.device, event.counter)
            if payment is not None:
                store.save(tx, P.touch(payment, site.now()))
        try:
            if payment is not None:  # any note while money is due: the change is the hoppers' job
                await asyncio.to_thread(cash.accept_escrow)
            else:
                await asyncio.to_thread(cash.return_escrow)
        except DeviceError as err:
            log.error("note in escrow: %s", err)
            await _alarm(site, event, f"note in escrow could not be routed: {err}")
        if payment is not None:
            _publish(site, payment)
        return
    if event.kind is CashEventKind.RETURNED:
        site.payments.escrow = None
    with site.db.transaction(site.now()) as tx:
        store.save_counter(tx, event.device, event.counter)
        tx.audit("kioskd", f"cash_{event.kind.value}", None, device=event.device, code=event.code,
                 detail=event.detail, missed=event.missed)
    if event.kind in ALARM_KINDS:
        await _alarm(site, event, event.detail)


async def _alarm(site: Site, event: CashEvent, problem: str) -> None:
    with site.db.transaction(site.now()) as tx:
        tx.emit("device_health", None, component=f"cash:{event.device}", problem=problem, at=site.now())
    site.bus.publish(EventKind.ALARM, site.now(), alarm=f"cash_{event.kind.value}")


async def _credit(site: Site, event: CashEvent) -> None:
    site.payments.escrow = None if event.device == "validator" else site.payments.escrow
    unfinished = store.unfinished(site.db)
    # The money belongs to the payment taking it; a late coin to the one just ended (owed back).
    payment = next((p for p in unfinished if p.state is PaymentState.COLLECTING), None) \
        or (unfinished[0] if unfinished else None) or next(iter(reversed(store.payments(site.db))), None)
    with site.db.transaction(site.now()) as tx:
        store.save_counter(tx, event.device, event.counter)
        if payment is None:
            tx.emit("cash_unattributed", None, amount=event.amount, denomination=event.denomination,
                    device=event.device, at=site.now())
            tx.audit("kioskd", "cash_unattributed", None, amount=event.amount, device=event.device)
            return
        payment = P.credit(payment, event.amount, event.denomination, site.now())
        store.save(tx, payment)
        tx.audit("kioskd", "cash_credited", payment.trade_number, payment_id=payment.payment_id,
                 amount=event.amount, denomination=event.denomination, device=event.device, counter=event.counter)
    _publish(site, payment)
    if payment.state is PaymentState.COLLECTING and payment.credited >= payment.amount_due:
        await _complete(site, payment.payment_id)


async def _payout(site: Site, amount: int) -> PayoutResult | None:
    if amount <= 0 or site.cash is None:
        return None
    return await asyncio.to_thread(site.cash.payout, amount)


async def _refuse_money(site: Site) -> None:
    try:
        await asyncio.to_thread(site.cash.accept, False)  # type: ignore[union-attr]
    except DeviceError as err:
        log.error("cash acceptors could not be inhibited: %s", err)


async def _mark_hoppers(site: Site, payment_id: str) -> None:
    """Write down each hopper's dispense counter before paying: after a crash mid-payout,
    ``recover`` reads the hoppers again and knows what the dispense under way paid."""
    if site.cash is None:
        return
    try:
        states = await asyncio.to_thread(site.cash.hoppers)
    except DeviceError as err:
        log.error("hoppers not readable before a payout: %s", err)
        return
    with site.db.transaction(site.now()) as tx:
        payment = store.payment(tx, payment_id)
        if payment is not None:
            store.save(tx, P.mark_hoppers(payment, {str(h.address): h.counter for h in states}))


async def _return_escrow(site: Site) -> None:
    if site.payments.escrow is None or site.cash is None:
        return
    try:
        await asyncio.to_thread(site.cash.return_escrow)
    except DeviceError as err:  # jammed: the alarm is out; a clerk frees it
        log.error("note in escrow not returned: %s", err)


async def _complete(site: Site, payment_id: str) -> None:
    payment = store.payment(site.db, payment_id)
    if payment is None or payment.state is not PaymentState.COLLECTING:
        return
    with site.db.transaction(site.now()) as tx:
        payment = P.fully_paid(payment)
        store.save(tx, payment)
    _publish(site, payment)  # "paying your change"
    await _refuse_money(site)
    await _return_escrow(site)  # a note the validator could not stack is the customer's
    await _mark_hoppers(site, payment_id)
    result = await _payout(site, payment.to_pay_back)
    payment = store.payment(site.db, payment_id) or payment  # late credits may have come in
    change = result.paid if result else 0
    with site.db.transaction(site.now()) as tx:
        payment = P.paid_back(payment, min(change, payment.to_pay_back))
        store.save(tx, payment)
        parcel = tx.require_parcel(payment.trade_number)
        tx.save_parcel(dataclasses.replace(parcel, amount_paid=parcel.amount_paid + payment.amount_due))
        tx.emit("cash_collected", payment.trade_number, payment_id=payment.payment_id, amount=payment.amount_due,
                received=payment.credited, denominations=payment.denominations, change_paid=payment.paid_back,
                change_owed=payment.owed, method="locker", devices=_serials(site), at=site.now())
        tx.audit("kioskd", "payment_completed", payment.trade_number, payment_id=payment.payment_id,
                 amount=payment.amount_due, received=payment.credited, change_paid=payment.paid_back,
                 owed=payment.owed, payout=result.status.value if result else None)
    _publish(site, payment)
    how, source = site.payments.verified.pop(payment_id, ("cash", "typed"))
    parcel = site.db.require_parcel(payment.trade_number)
    try:
        await pickup.open_for_pickup(site, parcel, how, source)
    except KioskError as err:  # paid: the parcel keeps the payment; a retry pays nothing more
        log.error("door after payment %s: %s", payment_id, err)


async def _refund(site: Site, payment_id: str, reason: str) -> Payment:
    try:
        return await _refund_now(site, payment_id, reason)
    finally:
        site.payments.closing.discard(payment_id)


async def _refund_now(site: Site, payment_id: str, reason: str) -> Payment:
    payment = store.payment(site.db, payment_id)
    if payment is None or payment.state is not PaymentState.COLLECTING:
        raise InvalidTransition(f"payment {payment_id} is not collecting")
    with site.db.transaction(site.now()) as tx:
        payment = P.cancel(payment)
        store.save(tx, payment)
        tx.audit("recipient" if reason == "cancelled" else "kioskd", "payment_cancelled", payment.trade_number,
                 payment_id=payment_id, reason=reason, credited=payment.credited)
    _publish(site, payment)
    await _refuse_money(site)
    await _return_escrow(site)
    await _mark_hoppers(site, payment_id)
    payment = store.payment(site.db, payment_id) or payment
    result = await _payout(site, payment.to_pay_back)
    payment = store.payment(site.db, payment_id) or payment
    with site.db.transaction(site.now()) as tx:
        payment = P.paid_back(payment, min(result.paid if result else 0, payment.to_pay_back))
        store.save(tx, payment)
        tx.emit("cash_refunded", payment.trade_number, payment_id=payment_id, reason=reason,
                received=payment.credited, paid_back=payment.paid_back, owed=payment.owed,
                denominations=payment.denominations, devices=_serials(site), at=site.now())
        tx.audit("kioskd", "payment_refunded", payment.trade_number, payment_id=payment_id,
                 paid_back=payment.paid_back, owed=payment.owed)
    site.payments.verified.pop(payment_id, None)
    _publish(site, payment)
    return payment


async def recover(site: Site) -> None:
    """After a restart, with the devices open: close what a crash left open. A payment still
    collecting is refunded. One caught paying change or a refund is closed with what the
    hoppers say their dispense since the marks paid; what they cannot tell is owed, for a
    clerk to check against the hopper."""
    for p in store.unfinished(site.db):
        if p.state is PaymentState.COLLECTING:
            await _refund(site, p.payment_id, "restart")
        else:
            paid = await _paid_since_marks(site, p)
            _close_after_restart(site, p.payment_id, paid)


async def _paid_since_marks(site: Site, p: Payment) -> int | None:
    """What the hoppers paid since ``p``'s marks (waiting for a dispense under way to end);
    None when any of them cannot tell."""
    if site.cash is None or not p.payout_marks:
        return None
    states = []
    for _ in range(int(HOPPER_SETTLE_S / 0.05)):
        try:
            states = await asyncio.to_thread(site.cash.hoppers)
        except DeviceError as err:
            log.error("hoppers not readable after a restart: %s", err)
            return None
        if not any(h.remaining for h in states):
            break
        await asyncio.sleep(0.05)  # a hopper still paying: its motor sets the pace
    paid = 0
    for h in states:
        mark = p.payout_marks.get(str(h.address))
        coins = h.paid_since(mark) if mark is not None else 0
        if coins is None or h.remaining:
            return None
        paid += coins * h.value
    return paid


def _close_after_restart(site: Site, payment_id: str, paid: int | None) -> None:
    with site.db.transaction(site.now()) as tx:
        p = store.payment(tx, payment_id)
        if p is None or p.state in P.FINAL:
            return
        closed = P.paid_back(p, min(paid or 0, p.to_pay_back))
        store.save(tx, closed)
        if closed.state is PaymentState.PAID:
            parcel = tx.require_parcel(closed.trade_number)
            tx.save_parcel(dataclasses.replace(parcel, amount_paid=parcel.amount_paid + closed.amount_due))
            tx.emit("cash_collected", closed.trade_number, payment_id=closed.payment_id, amount=closed.amount_due,
                    received=closed.credited, denominations=closed.denominations, change_paid=closed.paid_back,
                    change_owed=closed.owed, method="locker", devices=_serials(site), at=site.now())
        else:
            tx.emit("cash_refunded", closed.trade_number, payment_id=closed.payment_id, reason="restart",
                    received=closed.credited, paid_back=closed.paid_back, owed=closed.owed,
                    denominations=closed.denominations, devices=_serials(site), at=site.now())
        tx.audit("kioskd", "payment_closed_after_restart", closed.trade_number, payment_id=closed.payment_id,
                 state=closed.state.value, paid_back=closed.paid_back, owed=closed.owed, hoppers_told=paid is not None)
    _publish(site, closed)


def _serials(site: Site) -> dict[str, int]:
    health = site.cash.health() if site.cash is not None else {}
    return {name: info.get("serial", 0) for name, info in health.get("devices", {}).items()}
