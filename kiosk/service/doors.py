"""Door evidence: turning sensor readings and timers into recorded facts.

Every outcome of ``kiosk.domain.lockers`` is written here in ONE transaction: the locker,
the parcel it concerns, the outbox event for the store, and the audit entry. Then the
screens are told. This is the only place a parcel becomes ``arrived`` or ``collected``
from a door, and it happens only on the door's own evidence.
"""

from __future__ import annotations

import logging

from kiosk.domain import lockers as L
from kiosk.domain.lockers import Locker, Outcome
from kiosk.domain.parcels import ParcelState, leaves_by_round
from kiosk.service import holding, reopen
from kiosk.service.events import EventKind
from kiosk.service.site import Site

log = logging.getLogger(__name__)

FAULTS = (Outcome.JAMMED, Outcome.INTERRUPTED, Outcome.UNLOCK_FAILED)
OCCUPANCY = "occupancy"   # the source of facts a restart settled by the compartment's occupancy sensor
DOOR_EVENTS = {L.OPEN: EventKind.DOOR_OPEN, L.CLOSED: EventKind.DOOR_CLOSED}   # a door gone unknown is no news


def on_reading(site: Site, number: int, reading: str, source: str = "sensor", *, at: float | None = None) -> Outcome:
    """A door sensor said ``reading`` for locker ``number`` at ``at`` (default: now; a
    reading that could not be written when it came is applied later with its own time).
    Raises StorageError when it cannot be written (the caller keeps it and tries again)."""
    locker = site.db.locker(number)
    if locker is None:
        return Outcome.NOTHING  # a door beyond the configured lockers
    when = site.now() if at is None else at
    occupied = site.locks.occupancy().get(number) if reading == L.CLOSED and locker.phase == L.Phase.OPENED else None
    new, outcome = L.door_reading(locker, reading, when, occupied)
    record(site, locker, new, outcome, source, at=when)
    return outcome


def on_tick(site: Site) -> list[tuple[int, Outcome]]:
    """Run the timers of every locker with an opening under way."""
    results: list[tuple[int, Outcome]] = []
    for locker in site.db.lockers():
        if locker.busy:
            new, outcome = L.check_timers(locker, site.now(), site.config.timing)
            if outcome != Outcome.NOTHING:
                record(site, locker, new, outcome, "timer")
                results.append((locker.number, outcome))
    return results


def on_restart(site: Site, number: int, reading: str, occupied: bool | None = None) -> Outcome:
    """Square locker ``number``'s books with its door (``reading``) and, where the bank has
    one, its occupancy sensor (``occupied``) at start-up."""
    locker = site.db.require_locker(number)
    new, outcome = L.reconcile(locker, reading, site.now(), occupied)
    settled = locker.phase == L.Phase.COMMANDED and outcome in (Outcome.PICKUP_DONE, Outcome.DEPOSIT_DONE,
                                                                Outcome.NOT_OPENED)
    record(site, locker, new, outcome, OCCUPANCY if settled else "reconcile")
    return outcome


def record(site: Site, old: Locker, new: Locker, outcome: Outcome, source: str, *, at: float | None = None) -> None:
    if new == old and outcome == Outcome.NOTHING:
        return
    now = site.now() if at is None else at
    n = old.number
    trade = old.parcel
    returned = False
    with site.db.transaction(now) as tx:
        tx.save_locker(new)
        if new.door != old.door:
            tx.audit("kioskd", f"door_{new.door}", f"locker:{n}", source=source, op_id=old.op_id, op=old.op_kind)
        if outcome == Outcome.DEPOSIT_DONE:
            parcel = tx.require_parcel(trade)
            parcel = parcel.to(ParcelState.ARRIVED, locker=n, hold_deadline=holding.arrival_deadline(site, parcel, now))
            tx.save_parcel(parcel)
            tx.emit("parcel_arrived", trade, locker=n, at=now, op_id=old.op_id)
            how = "occupancy: parcel inside after a restart" if source == OCCUPANCY else "door opened and closed"
            tx.audit("kioskd", "parcel_arrived", trade, locker=n, op_id=old.op_id, evidence=how)
        elif outcome == Outcome.PICKUP_DONE:
            parcel = tx.require_parcel(trade)
            evidence = {"op_id": old.op_id, "door_opened_at": old.opened_at, "door_closed_at": now}
            if source == OCCUPANCY:   # the restart missed the door; the compartment is empty now
                evidence = {"op_id": old.op_id, "occupancy": "compartment empty after a restart",
                            "commanded_at": old.commanded_at, "seen_empty_at": now}
            if leaves_by_round(parcel):   # the courier's round took it: on its way back (or out)
                tx.save_parcel(parcel.to(ParcelState.RETURNED))
                tx.emit("parcel_returned", trade, locker=n, at=now, sent=parcel.dropoff, evidence=evidence)
                tx.audit("kioskd", "parcel_returned", trade, locker=n, sent=parcel.dropoff, **evidence)
                returned, sent = True, parcel.dropoff
            else:
                tx.save_parcel(parcel.to(ParcelState.COLLECTED))
                tx.emit("parcel_collected", trade, locker=n, method=parcel.method, at=now, evidence=evidence)
                tx.audit("kioskd", "parcel_collected", trade, locker=n, **evidence)
        elif outcome in FAULTS:
            tx.emit("door_fault", trade, locker=n, reason=new.fault, op=old.op_kind, at=now)
            tx.audit("kioskd", "door_fault", f"locker:{n}", reason=new.fault, op_id=old.op_id, op=old.op_kind, parcel=trade)
        elif outcome == Outcome.LEFT_OPEN:
            tx.emit("door_left_open", trade, locker=n, opened_at=old.opened_at, at=now)
            tx.audit("kioskd", "alarm_door_left_open", f"locker:{n}", op_id=old.op_id)
        elif outcome == Outcome.TAMPER:
            tx.emit("tamper", trade, locker=n, at=now)
            tx.audit("kioskd", "alarm_tamper", f"locker:{n}", parcel=trade)
        elif outcome == Outcome.STILL_INSIDE:
            tx.audit("kioskd", "pickup_not_taken", trade, locker=n, op_id=old.op_id,
                     evidence="occupancy: the door shut on the parcel")
            if trade is not None:
                reopen.grant(site, trade, n, now)
        elif outcome == Outcome.NOT_LOADED:
            tx.audit("kioskd", "deposit_not_loaded", trade, locker=n, op_id=old.op_id,
                     evidence="occupancy: the door shut on an empty compartment")
        elif outcome == Outcome.NOT_OPENED:
            tx.audit("kioskd", "opening_undone", f"locker:{n}", op_id=old.op_id, op=old.op_kind, parcel=trade,
                     evidence="occupancy: nothing changed hands")
        elif outcome == Outcome.SERVICE_DONE:
            tx.audit("kioskd", "service_opening_done", f"locker:{n}", op_id=old.op_id)
    publish(site, old, new, outcome, now, returned=returned)
    if returned:
        site.bus.publish(EventKind.PARCEL_RETURNED, now, locker=n, trade_number=trade, sent=sent)


def publish(site: Site, old: Locker, new: Locker, outcome: Outcome, now: float, *, returned: bool = False) -> None:
    n, trade = old.number, old.parcel
    if new.door != old.door and new.door in DOOR_EVENTS:
        site.bus.publish(DOOR_EVENTS[new.door], now, locker=n, op=old.op_kind)
    if outcome == Outcome.DEPOSIT_DONE:
        site.bus.publish(EventKind.PARCEL_ARRIVED, now, locker=n, trade_number=trade)
    elif outcome == Outcome.PICKUP_DONE and not returned:
        site.bus.publish(EventKind.PARCEL_COLLECTED, now, locker=n, trade_number=trade)
    elif outcome == Outcome.STILL_INSIDE:
        grant = site.reopens.get(trade or "")
        site.bus.publish(EventKind.PICKUP_NOT_TAKEN, now, locker=n, trade_number=trade,
                         reopen_until=grant.until if grant else None)
    elif outcome in FAULTS:
        site.bus.publish(EventKind.LOCKER_FAULT, now, locker=n, reason=new.fault, op=old.op_kind)
    elif outcome in (Outcome.LEFT_OPEN, Outcome.TAMPER):
        site.bus.publish(EventKind.ALARM, now, locker=n, alarm=outcome.value)
    if outcome != Outcome.NOTHING:
        log.info("locker %s: %s", n, outcome.value)


def fail_opening(site: Site, number: int, reason: str) -> None:
    """The unlock command itself failed: the opening ends in fault, the parcel stays put."""
    locker = site.db.locker(number)
    if locker is None or not locker.busy:
        return
    new, outcome = L.command_failed(locker, reason)
    record(site, locker, new, outcome, "command")
