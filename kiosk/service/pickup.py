"""Pickup at a locker (F6): trade number + secret → the door opens → closes → collected.

The checks, in order, each with its own answer for the screen:
site slow-down (a burst of failures) → parcel known → not locked out → arrived and in a
working locker → secret matches (Argon2id off the event loop, or online at the store as
``[verification]`` says: kiosk.service.verification) → commit the opening → pulse. A
wrong secret counts against the parcel and the site in one transaction with its outbox
event and audit entry; the parcel locks after the configured number.

**The recipient's phone code** (held to the kiosk's camera instead of typing): the text
``P/<trade number>/<secret>``, e.g. ``P/1234-5678/4821937`` in a QR code. ``/`` is in
neither a trade number nor a secret, and ``P/`` is not the counter's ``S/`` (a secret
alone), so the controller routes scans by prefix: ``P/`` here, anything else to the
counter desk. ``parse_phone_code`` is strict: exactly three parts, the trade number in
its own alphabet (kiosk.domain.parcels.TRADE_NUMBER, case-insensitive), the secret 1-64
letters or digits, at most ``PHONE_CODE_MAX`` characters in all; anything else is not a
phone code (None), never an error. A well-formed code then goes through ``submit_code``
exactly as typed: the same checks, the same attempt limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk.domain import attempts as A
from kiosk.domain import lockers as L
from kiosk.domain.lockers import LockerState
from kiosk.domain.parcels import (LOCKED_OUT_MESSAGE, check_state_for_handover, normalise_trade_number,
                                  valid_trade_number)
from kiosk.errors import CodeInvalid, LockedOut, NotCollectable, PaymentDue, SeeStaff, UnknownParcel
from kiosk.security.secrets import verify_secret
from kiosk.service import unlock, verification, visits
from kiosk.service.dto import DoorOpening
from kiosk.service.events import EventKind
from kiosk.service.site import Site
from kiosk.service.verification import OnlineVerifier


PHONE_CODE_PREFIX = "P/"
PHONE_CODE_MAX = 128
_PHONE_CODE = re.compile(r"P/([0-9A-Za-z-]{1,40})/([0-9A-Za-z]{1,64})")


@dataclass(frozen=True)
class PhoneCode:
    """A recipient's code read from their phone: what they would otherwise type."""

    trade_number: str
    secret: str = field(repr=False)


def looks_like_phone_code(text: str) -> bool:
    """True when ``text`` claims to be a recipient's phone code (it may still be malformed)."""
    return text.startswith(PHONE_CODE_PREFIX)


def parse_phone_code(text: str) -> PhoneCode | None:
    """``P/<trade number>/<secret>`` -> PhoneCode; None for anything not exactly that shape."""
    if not isinstance(text, str) or len(text) > PHONE_CODE_MAX:
        return None
    match = _PHONE_CODE.fullmatch(text)
    if match is None:
        return None
    trade = normalise_trade_number(match.group(1))
    if not valid_trade_number(trade):
        return None
    return PhoneCode(trade, match.group(2))


def recent_failures(site: Site) -> list[float]:
    return site.db.site_failures_since(site.now() - site.config.attempts.site_window_s)


def check_trade_number(site: Site, trade_number: str, *, allow_due: bool = False):
    """What ``submit_code`` checks before the secret, so a screen can say "locked out" or
    "pay at the counter" before anyone types a secret. An unknown number counts as a
    failed attempt for the site, exactly as a typed code with that number would (so this
    is no cheaper way to look for parcels). ``allow_due``: money due is no refusal (the
    recipient is about to pay here, kiosk.service.payment). Returns the parcel.

    Raises OutOfService, SlowDown, UnknownParcel, LockedOut, NotCollectable (PaymentDue), SeeStaff."""
    site.require_storage()
    A.check_site(recent_failures(site), site.now(), site.config.attempts)
    trade = normalise_trade_number(trade_number)
    parcel = site.db.parcel(trade)
    if parcel is None:
        record_failure(site, trade, known=False)
        raise UnknownParcel("no parcel with that number is waiting here")
    _check_collectable(site, parcel, allow_due)
    return parcel


async def submit_code(site: Site, trade_number: str, secret: str, *,
                      online: OnlineVerifier | None = None, source: str = "typed") -> DoorOpening:
    """Check a recipient's trade number and secret; on success the locker door is unlocked.
    ``online`` is the store's check, used for the methods ``[verification]`` sends online.
    ``source`` ("typed" or "scan": a phone code) goes into the audit entry and the
    ``pickup_started`` event, so a screen can tell a door it did not ask for.

    Raises OutOfService, SlowDown, UnknownParcel, LockedOut, NotCollectable, SeeStaff, CodeInvalid,
    DoorFault."""
    parcel, how = await verify_recipient(site, trade_number, secret, online=online)
    opening = await open_for_pickup(site, parcel, how, source)
    return await visits.open_the_rest(site, parcel, opening, how, source, check=_check_collectable,
                                      open_door=open_for_pickup)


async def verify_recipient(site: Site, trade_number: str, secret: str, *, online: OnlineVerifier | None = None,
                           allow_due: bool = False):
    """The checks of ``submit_code`` up to the secret, with its attempt limits. Returns the
    parcel and how it was verified. Raises as ``submit_code`` (not DoorFault)."""
    parcel = check_trade_number(site, trade_number, allow_due=allow_due)
    trade, policy = parcel.trade_number, site.config.attempts
    if parcel.method == "ic_card":   # its card checks the secret and signs the receipt: never a typed code
        raise NotCollectable("this parcel opens with its card: put the card in the reader", "card_required")
    if parcel.method == "biometric":   # no secret at all: the finger (kiosk.service.finger_pickup)
        raise NotCollectable("this parcel opens with a fingerprint: place your finger on the sensor",
                             "finger_required")
    with site.gate.admit(recent_failures(site), site.now(), policy, trade):
        check = await verification.check_secret(site, parcel, secret, online, local=verify_secret)
        # The world may have moved while we checked (another screen, a door): look again.
        parcel = site.db.require_parcel(trade)
        _check_collectable(site, parcel, allow_due)
        if not check.matches:   # charged before the check leaves the gate: no gap to slip through
            parcel = record_failure(site, trade, known=True)
            if parcel.locked_out:
                raise LockedOut(LOCKED_OUT_MESSAGE)
            raise CodeInvalid("the secret does not match", A.attempts_left(parcel, policy))
    return parcel, check.how


async def open_for_pickup(site: Site, parcel, how: str, source: str, *, with_locker: int | None = None,
                          **detail) -> DoorOpening:
    """Commit the opening of a verified parcel's locker, then pulse it. ``detail`` goes into
    the audit entry; ``with_locker``: the door of the same visit this one opens with.
    Raises DoorFault."""
    trade = parcel.trade_number
    locker = site.db.require_locker(parcel.locker)
    op_id = site.new_id()
    with site.db.transaction(site.now()) as tx:
        tx.save_locker(L.begin_pickup(locker, op_id, site.now()))
        tx.audit("recipient", "unlock_commanded", trade, locker=locker.number, op_id=op_id, op="pickup",
                 verified=how, source=source, **detail)
    site.bus.publish(EventKind.PICKUP_STARTED, site.now(), locker=locker.number, trade_number=trade, source=source,
                     with_locker=with_locker)
    await unlock.fire(site, locker.number)
    return DoorOpening("pickup", trade, locker.number, op_id)


def _check_collectable(site: Site, parcel, allow_due: bool = False) -> None:
    try:
        check_state_for_handover(parcel)
    except PaymentDue:
        if not allow_due:  # the last of its checks: everything else already holds
            raise
    if parcel.locker is None:
        raise NotCollectable("this parcel is kept at the counter; please see staff", "at_counter")
    locker = site.db.require_locker(parcel.locker)
    if locker.state in (LockerState.FAULT, LockerState.OUT_OF_SERVICE):
        raise SeeStaff(f"locker {locker.number} needs attention; please see staff")
    if locker.busy:
        raise NotCollectable(f"locker {locker.number} is already open", "door_busy")


def record_failure(site: Site, trade: str, known: bool):
    """Record one failed attempt against the site (and the parcel, when known)."""
    policy = site.config.attempts
    now = site.now()
    previous = recent_failures(site)
    parcel = site.db.parcel(trade) if known else None
    with site.db.transaction(now) as tx:
        tx.record_site_failure()
        tx.prune_site_failures(now - policy.site_window_s)
        if parcel is not None:
            parcel = A.register_failure(parcel, policy)
            tx.save_parcel(parcel)
            tx.emit("verification_failed", trade, failed_attempts=parcel.failed_attempts, at=now)
            if parcel.locked_out:
                tx.emit("parcel_locked_out", trade, at=now)
                tx.audit("kioskd", "parcel_locked_out", trade, failed_attempts=parcel.failed_attempts)
        # Never the secret; for an unknown number not even the number (it may be a typo of a real one).
        tx.audit("recipient", "verification_failed", trade if known else None, known=known)
        alarm = A.crosses_alarm(previous, now, policy)
        if alarm:
            tx.emit("site_attempts_alarm", None, failures=len(previous) + 1, window_s=policy.site_window_s, at=now)
            tx.audit("kioskd", "alarm_site_attempts", None, failures=len(previous) + 1)
    site.bus.publish(EventKind.VERIFICATION_FAILED, now, trade_number=trade if known else None)
    if alarm:
        site.bus.publish(EventKind.ALARM, now, alarm="site_attempts")
    return parcel
