"""Lockers: a door, a lock, maybe a parcel — and the evidence of what the door did.

Commands and evidence are separate facts. Sending an unlock pulse ("commanded") proves
nothing; only the door sensor proves the door opened ("opened") and then closed. A
deposit or a pickup completes on that evidence alone::

    free ──deposit──► loading ──door open, door closed──► occupied
    occupied ──pickup──► unloading ──door open, door closed──► free
    any ──no door-open within the timeout, or door opened with no command──► fault
    any ──clerk──► out_of_service / back in service

Every function here is pure: it takes a locker and facts (door readings, the time) and
returns the new locker and an ``Outcome`` saying what the service must record.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from kiosk.errors import InvalidTransition


class LockerState(enum.StrEnum):
    FREE = "free"
    LOADING = "loading"          # a courier deposit is under way
    OCCUPIED = "occupied"
    UNLOADING = "unloading"      # a pickup (or a clerk's removal) is under way
    FAULT = "fault"              # needs a person: jammed, forced, interrupted
    OUT_OF_SERVICE = "out_of_service"


class Phase(enum.StrEnum):
    COMMANDED = "commanded"      # the unlock pulse was asked for; no evidence yet
    OPENED = "opened"            # the sensor showed the door open after the command


class Outcome(enum.StrEnum):
    NOTHING = "nothing"
    EVIDENCE = "evidence"              # door opened after a command: worth recording
    DEPOSIT_DONE = "deposit_done"      # door opened then closed: parcel is in
    PICKUP_DONE = "pickup_done"        # door opened then closed: parcel is out
    SERVICE_DONE = "service_done"      # a clerk's opening finished
    JAMMED = "jammed"                  # commanded, never opened in time
    LEFT_OPEN = "left_open"            # opened and not closed in time (alarm, once)
    TAMPER = "tamper"                  # opened with no command
    INTERRUPTED = "interrupted"        # a restart found a command with no evidence either way
    NOT_OPENED = "not_opened"          # a restart found the opening undone (occupancy): nothing changed hands
    STILL_INSIDE = "still_inside"      # the pickup door shut on the parcel (occupancy): not collected
    NOT_LOADED = "not_loaded"          # the deposit door shut on an empty compartment (occupancy)
    UNLOCK_FAILED = "unlock_failed"    # the lock board refused or did not answer the command


OPEN, CLOSED, UNKNOWN = "open", "closed", "unknown"
TAMPERED = "door opened without a command"


@dataclass(frozen=True)
class Locker:
    number: int
    state: LockerState = LockerState.FREE
    parcel: str | None = None        # trade number of the parcel inside (or being loaded)
    door: str = UNKNOWN              # last sensor reading: open / closed / unknown
    op_id: str | None = None         # id of the unlock command under way
    op_kind: str | None = None       # deposit / pickup / service
    phase: Phase | None = None
    commanded_at: float | None = None
    opened_at: float | None = None
    alarmed: bool = False            # the left-open alarm was raised for this opening
    fault: str | None = None         # why it is in fault

    @property
    def busy(self) -> bool:
        return self.op_id is not None

    @property
    def usable_for_deposit(self) -> bool:
        return self.state == LockerState.FREE and self.door == CLOSED and not self.busy


@dataclass(frozen=True)
class Timing:
    open_timeout_s: float = 15.0       # a commanded door must open within this
    left_open_alarm_s: float = 120.0   # an opened door should close within this
    reopen_window_s: float = 60.0      # a door shut on the parcel may be opened again this long after
    reopen_max: int = 1                # times, without the secret again (kiosk.service.reopen)


def _start(locker: Locker, kind: str, op_id: str, now: float, state: LockerState) -> Locker:
    return replace(locker, state=state, op_id=op_id, op_kind=kind, phase=Phase.COMMANDED,
                   commanded_at=now, opened_at=None, alarmed=False)


def begin_deposit(locker: Locker, trade_number: str, op_id: str, now: float) -> Locker:
    if not locker.usable_for_deposit:
        raise InvalidTransition(f"locker {locker.number} is {locker.state.value} (door {locker.door}); cannot load it")
    return replace(_start(locker, "deposit", op_id, now, LockerState.LOADING), parcel=trade_number)


def begin_pickup(locker: Locker, op_id: str, now: float) -> Locker:
    if locker.state != LockerState.OCCUPIED or locker.busy:
        raise InvalidTransition(f"locker {locker.number} is {locker.state.value}; cannot open it for a pickup")
    return _start(locker, "pickup", op_id, now, LockerState.UNLOADING)


def begin_service(locker: Locker, op_id: str, now: float) -> Locker:
    """A clerk opens the door (to remove an expired parcel or inspect). Keeps the state."""
    if locker.busy:
        raise InvalidTransition(f"locker {locker.number} is busy with another opening")
    return replace(locker, op_id=op_id, op_kind="service", phase=Phase.COMMANDED,
                   commanded_at=now, opened_at=None, alarmed=False)


def _finish(locker: Locker, **changes) -> Locker:
    return replace(locker, op_id=None, op_kind=None, phase=None, commanded_at=None,
                   opened_at=None, alarmed=False, **changes)


def door_reading(locker: Locker, reading: str, now: float, occupied: bool | None = None) -> tuple[Locker, Outcome]:
    """Apply one door-sensor reading (open / closed / unknown). ``occupied``: what the
    compartment's occupancy sensor says as the door closes (None: no sensor). With a
    sensor, a pickup door shut on the parcel is not a collection (STILL_INSIDE) and a
    deposit door shut on an empty compartment is not an arrival (NOT_LOADED)."""
    if reading == locker.door:
        return locker, Outcome.NOTHING
    locker = replace(locker, door=reading)
    if reading == UNKNOWN:
        return locker, Outcome.NOTHING   # a blind sensor proves nothing; timeouts still run
    if reading == OPEN:
        if locker.phase == Phase.COMMANDED:
            return replace(locker, phase=Phase.OPENED, opened_at=now), Outcome.EVIDENCE
        if locker.phase == Phase.OPENED:
            return locker, Outcome.NOTHING  # bounced back open after an unknown spell
        if locker.state == LockerState.FAULT and locker.fault == TAMPERED:
            return locker, Outcome.NOTHING  # seen again after a spell of unknown: same alarm
        # Open with no command: forced, or a lock that lets go by itself.
        return replace(locker, state=LockerState.FAULT, fault=TAMPERED), Outcome.TAMPER
    # reading == CLOSED
    if locker.phase != Phase.OPENED:
        return locker, Outcome.NOTHING
    kind = locker.op_kind
    if kind == "deposit":
        if occupied is False:
            return _finish(locker, state=LockerState.FREE, parcel=None), Outcome.NOT_LOADED
        return _finish(locker, state=LockerState.OCCUPIED), Outcome.DEPOSIT_DONE
    if kind == "pickup":
        if occupied is True:
            return _finish(locker, state=LockerState.OCCUPIED), Outcome.STILL_INSIDE
        return _finish(locker, state=LockerState.FREE, parcel=None), Outcome.PICKUP_DONE
    return _finish(locker), Outcome.SERVICE_DONE


def check_timers(locker: Locker, now: float, timing: Timing) -> tuple[Locker, Outcome]:
    """Jam detection (commanded, never opened) and the left-open alarm (opened, never closed)."""
    if (locker.phase == Phase.COMMANDED and locker.commanded_at is not None
            and now - locker.commanded_at >= timing.open_timeout_s):
        reason = "door did not open when unlocked (jammed?)"
        return _fault_after_failed_op(locker, reason), Outcome.JAMMED
    if (locker.phase == Phase.OPENED and not locker.alarmed and locker.opened_at is not None
            and now - locker.opened_at >= timing.left_open_alarm_s):
        return replace(locker, alarmed=True), Outcome.LEFT_OPEN
    return locker, Outcome.NOTHING


def _fault_after_failed_op(locker: Locker, reason: str) -> Locker:
    """The opening failed: the parcel stays where the books say it was."""
    parcel = locker.parcel
    if locker.op_kind == "deposit":
        parcel = None  # it never went in: the door never opened
    return _finish(locker, state=LockerState.FAULT, fault=reason, parcel=parcel)


def command_failed(locker: Locker, reason: str) -> tuple[Locker, Outcome]:
    """The unlock command could not be delivered (board not answering): the opening ends in fault."""
    if not locker.busy:
        raise InvalidTransition(f"locker {locker.number} has no opening under way")
    return _fault_after_failed_op(locker, f"unlock failed: {reason}"), Outcome.UNLOCK_FAILED


def reconcile(locker: Locker, reading: str, now: float, occupied: bool | None = None) -> tuple[Locker, Outcome]:
    """At start-up: square the books with the door as it is now, and with the
    compartment's occupancy sensor where the bank has one (``occupied``; None: no sensor).

    - opening commanded, door now open  → that is the evidence; wait for it to close;
    - opening commanded, door now closed, and an occupancy sensor that tells:
        pickup, compartment empty        → collected (evidence: occupancy);
        pickup, parcel still inside      → not collected: back in service, the parcel waits;
        deposit, parcel inside           → arrived (evidence: occupancy);
        deposit, compartment empty       → not loaded: the locker is free again;
    - opening commanded, door now closed, no sensor → we cannot know whether it opened
      while we were down: fault, a person inspects (never counted as collected without
      evidence);
    - door opened (evidence recorded), now closed → the opening is complete;
    - no opening under way but the door is open → tamper.
    """
    if reading == UNKNOWN:
        return replace(locker, door=UNKNOWN), Outcome.NOTHING
    if locker.phase == Phase.COMMANDED and reading == CLOSED:
        locker = replace(locker, door=CLOSED)
        if locker.op_kind == "service":
            return _finish(locker), Outcome.SERVICE_DONE
        if occupied is not None and locker.op_kind in ("pickup", "deposit"):
            return _settled_by_occupancy(locker, occupied)
        reason = f"{locker.op_kind} interrupted by a restart: inspect the locker"
        return _fault_after_failed_op(locker, reason), Outcome.INTERRUPTED
    # Everything else means what a live reading would: a door that did not change while
    # we were down is no news (no second tamper alarm for a door already reported open).
    return door_reading(locker, reading, now, occupied)


def _settled_by_occupancy(locker: Locker, occupied: bool) -> tuple[Locker, Outcome]:
    """An opening a restart interrupted, settled by what is in the compartment now."""
    if locker.op_kind == "pickup":
        if not occupied:
            return _finish(locker, state=LockerState.FREE, parcel=None), Outcome.PICKUP_DONE
        return _finish(locker, state=LockerState.OCCUPIED), Outcome.NOT_OPENED
    if occupied:
        return _finish(locker, state=LockerState.OCCUPIED), Outcome.DEPOSIT_DONE
    return _finish(locker, state=LockerState.FREE, parcel=None), Outcome.NOT_OPENED


def set_out_of_service(locker: Locker, reason: str) -> Locker:
    if locker.busy:
        raise InvalidTransition(f"locker {locker.number} is busy; wait for the door to close")
    return replace(locker, state=LockerState.OUT_OF_SERVICE, fault=reason)


def return_to_service(locker: Locker) -> Locker:
    """A clerk has inspected the locker: back in service, empty or holding its parcel."""
    if locker.busy:
        raise InvalidTransition(f"locker {locker.number} is busy; wait for the door to close")
    state = LockerState.OCCUPIED if locker.parcel else LockerState.FREE
    return replace(locker, state=state, fault=None)


def remove_parcel(locker: Locker) -> Locker:
    """A person took the parcel out (clerk hand-over, return to the store).

    The locker stays in fault or out of service if it was: emptying it repairs nothing."""
    if locker.busy:
        raise InvalidTransition(f"locker {locker.number} is open; wait for it to close")
    state = LockerState.FREE if locker.state == LockerState.OCCUPIED else locker.state
    return replace(locker, parcel=None, state=state)
