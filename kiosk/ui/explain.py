"""Domain errors turned into words for the person at the screen.

The service raises the errors of ``kiosk.errors``; the same error means different things
in different flows (an unknown trade number is a typo for a recipient, a wrong label for a
courier), so there is one function per flow. Each returns a ``Say``: the words are chosen
when the screen draws them, in whatever language is showing then.

``NotCollectable`` covers several situations. It is read from ``err.reason`` when the
service supplies one, else from the service's message; anything not recognised falls
back to a safe "please see staff". Every phrase that sends a person to staff ends with
where and how to reach them (``kiosk.ui.texts.with_staff``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from kiosk.errors import (CardProblem, CodeInvalid, FingerProblem, DoorFault, KioskError, LockedOut, NoLockerFree, NotCollectable, PaymentDue,
                          SeeStaff, SlowDown, UnknownParcel)
from kiosk.service.api import ScanRejected
from kiosk.ui.texts import Say, join, with_staff

# NotCollectable reason -> phrase. The keys are the reasons the service reports
# (``err.reason``); the phrases after them are how its messages say the same thing.
_NOT_COLLECTABLE: dict[str, tuple[tuple[str, ...], Say]] = {
    "not_arrived": (("not arrived",), lambda t: t.not_arrived),
    "collected": (("already been collected", "already collected"), lambda t: t.already_collected),
    "expired": (("holding period", "expired", "returned"), with_staff(lambda t: t.expired)),
    "at_counter": (("counter",), with_staff(lambda t: t.at_counter)),
    "door_busy": (("already open",), lambda t: t.door_busy),
    "card_required": (("opens with its card",), lambda t: t.card_required),
    "not_extendable": (("cannot be extended",), lambda t: t.not_extendable),
}


UNEXPECTED: Say = with_staff(lambda t: t.unexpected)


def money(amount: int) -> str:
    """An amount due, in minor units (yen until the manifest names its currency)."""
    return f"¥{amount:,}"


def _not_collectable(err: NotCollectable) -> Say:
    if isinstance(err, PaymentDue):
        amount = money(err.amount_due)
        return lambda t: t.payment_due.format(amount=amount)
    reason = getattr(err, "reason", None)
    if reason in _NOT_COLLECTABLE:
        return _NOT_COLLECTABLE[reason][1]
    message = str(err).lower()
    for phrases, say in _NOT_COLLECTABLE.values():
        if any(p in message for p in phrases):
            return say
    return with_staff(lambda t: t.not_collectable)


def wrong_secret(attempts_left: int | None) -> Say:
    if attempts_left is None:
        return lambda t: t.wrong_code
    if attempts_left == 1:
        return lambda t: t.wrong_secret_last
    return lambda t: t.wrong_secret.format(n=attempts_left)


def card_problem(err: KioskError, trade_number: str) -> Say:
    """What to tell a recipient whose ``submit_card`` raised ``err``."""
    match err:
        case CodeInvalid():
            n = err.attempts_left
            if n is None:
                return lambda t: t.wrong_code
            return (lambda t: t.wrong_pin_last) if n == 1 else (lambda t: t.wrong_pin.format(n=n))
        case CardProblem() if err.reason == "removed":
            return lambda t: t.card_removed
        case CardProblem() if err.reason == "blocked":
            return with_staff(lambda t: t.card_blocked)
        case CardProblem():
            return with_staff(lambda t: t.card_unusable)
    return pickup_problem(err, trade_number)


def finger_problem(err: KioskError, trade_number: str) -> Say:
    """What to tell a recipient whose ``submit_finger`` raised ``err``."""
    match err:
        case CodeInvalid():
            n = err.attempts_left
            if n is None:
                return lambda t: t.wrong_code
            return (lambda t: t.finger_wrong_last) if n == 1 else (lambda t: t.finger_wrong.format(n=n))
        case FingerProblem() if err.reason == "no_finger":
            return lambda t: t.finger_none
        case FingerProblem() if err.reason == "poor_image":
            return lambda t: t.finger_poor
        case FingerProblem():
            return with_staff(lambda t: t.finger_unavailable)
    return pickup_problem(err, trade_number)


def slow_down(err: SlowDown) -> Say:
    return slow_down_left(max(1, math.ceil(err.retry_after)))


def slow_down_left(seconds: int) -> Say:
    """The site's slow-down with ``seconds`` still to wait (counted down on the screen)."""
    if seconds == 1:
        return lambda t: t.slow_down_one
    return lambda t: t.slow_down.format(s=seconds)


def pickup_problem(err: KioskError, trade_number: str) -> Say:
    """What to tell a recipient whose ``submit_code`` raised ``err``."""
    match err:
        case CodeInvalid():
            return wrong_secret(err.attempts_left)
        case LockedOut():
            return with_staff(lambda t: t.locked_out)
        case SlowDown():
            return slow_down(err)
        case UnknownParcel():
            return lambda t: t.unknown_parcel.format(trade=trade_number)
        case NotCollectable():
            return _not_collectable(err)
        case DoorFault():
            return with_staff(lambda t: join(t.door_did_not_open, t.parcel_is_safe))
        case SeeStaff():
            return with_staff(lambda t: t.see_staff)
    return UNEXPECTED


_SCAN_REJECTED: dict[str, Callable[[ScanRejected], KioskError]] = {
    "wrong_secret": lambda e: CodeInvalid("", e.attempts_left),
    "locked_out": lambda e: LockedOut(""),
    "slow_down": lambda e: SlowDown(float(e.retry_after or 1)),
    "unknown_parcel": lambda e: UnknownParcel(""),
    "not_collectable": lambda e: (PaymentDue(e.message or "", e.amount_due or 0) if e.detail == "payment_due"
                                  else NotCollectable(e.message or "", e.detail)),
    "door_fault": lambda e: DoorFault(""),
    "see_staff": lambda e: SeeStaff(""),
}


def scan_problem(event: ScanRejected) -> Say:
    """What to tell a recipient whose phone code was refused (a ``scan_rejected`` event):
    the same words as for the typed code (``pickup_problem``)."""
    rebuild = _SCAN_REJECTED.get(event.reason)
    if rebuild is None:
        return UNEXPECTED
    return pickup_problem(rebuild(event), event.trade_number)


def courier_login_problem(err: KioskError) -> Say:
    """What to tell a courier whose ``courier_login`` raised ``err``."""
    match err:
        case CodeInvalid():
            return lambda t: t.courier_code_wrong
        case SlowDown():
            return slow_down(err)
    return UNEXPECTED


def send_problem(err: KioskError, trade_number: str) -> Say:
    """What to tell someone whose ``drop_off`` raised ``err``."""
    match err:
        case NotCollectable(reason="dropped_off"):
            return lambda t: t.already_dropped_off
        case NotCollectable(reason="not_dropoff"):
            return lambda t: t.not_a_parcel_to_send
        case NoLockerFree():
            return deposit_problem(err, trade_number)
        case UnknownParcel():
            return lambda t: t.unknown_parcel_to_send.format(trade=trade_number)
    return pickup_problem(err, trade_number)


def deposit_problem(err: KioskError, trade_number: str) -> Say:
    """What to tell a courier whose ``deposit`` raised ``err``."""
    match err:
        case CodeInvalid():
            return lambda t: t.courier_session_over
        case UnknownParcel():
            return lambda t: t.deposit_unknown.format(trade=trade_number)
        case NotCollectable():
            return lambda t: t.deposit_not_expected.format(trade=trade_number)
        case SeeStaff():
            return lambda t: t.deposit_see_staff.format(trade=trade_number)
        case NoLockerFree(reason="no_fitting_door"):
            return lambda t: t.no_fitting_door
        case NoLockerFree(reason="no_low_door"):
            return lambda t: t.no_low_door
        case NoLockerFree():
            return lambda t: t.no_locker_free
        case DoorFault():
            return lambda t: t.door_did_not_open
    return UNEXPECTED

