"""Why not: the counter's refusals turned into words for the clerk.

Two sources, one vocabulary. A command the screen sent (``counter_present`` of a typed
code, ``counter_verify``, ``counter_confirm``) raises a ``kiosk.errors`` error; a code
read by the desk's scanner is refused inside the controller, and the screen only hears
the ``counter_rejected`` event with its ``reason``. Both map here to a ``Say`` and to
whether the parcel must be kept back (``grave``: forged, swapped, another site's, locked
out), which the screen shows in red with "Do not hand over."
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kiosk.errors import (CardProblem, CodeInvalid, FingerProblem, CounterIncomplete, KioskError, LockedOut, NotCollectable, PaymentDue, SeeStaff,
                          SlowDown, TagForged, TagMalformed, TagNotForThisSite, TagSwapped, TokenMismatch,
                          UnknownParcel)
from kiosk.ui.counter.texts import Say
from kiosk.ui.explain import money


@dataclass(frozen=True)
class Refusal:
    say: Say
    grave: bool = False          # the parcel must not be handed over: keep it back, report it


FORGED = Refusal(lambda t: t.forged, grave=True)
SWAPPED = Refusal(lambda t: t.swapped, grave=True)
TOKEN_MISMATCH = Refusal(lambda t: t.token_mismatch, grave=True)
OTHER_SITE = Refusal(lambda t: t.other_site, grave=True)
UNREADABLE = Refusal(lambda t: t.unreadable)
MISMATCH = Refusal(lambda t: t.mismatch, grave=True)
NEED_SECRET = Refusal(lambda t: t.need_secret)
UNEXPECTED = Refusal(lambda t: t.unexpected)

# counter_rejected {reason} -> words (kiosk.service.counter._rejected)
_REASONS = {"forged": FORGED, "swapped": SWAPPED, "token_mismatch": TOKEN_MISMATCH, "other_site": OTHER_SITE, "unreadable": UNREADABLE}

# NotCollectable: the service's message -> words (its messages are fixed in kiosk.service.counter)
_NOT_COLLECTABLE: tuple[tuple[str, Say], ...] = (
    ("not arrived", lambda t: t.not_arrived),
    ("already been collected", lambda t: t.already_collected),
    ("holding period", lambda t: t.expired),
    ("in locker", lambda t: t.in_locker),
)

_MISSING: dict[str, Say] = {
    "label": lambda t: t.need_label,
    "tag": lambda t: t.need_tag,
    "token": lambda t: t.need_token,
    "secret": lambda t: t.need_secret,
    "verification": lambda t: t.need_verification,
}


def rejected(reason: str) -> Refusal:
    """Words for a ``counter_rejected`` event's reason."""
    return _REASONS.get(reason, UNREADABLE)


def wrong_secret(attempts_left: int | None) -> Say:
    if attempts_left is None:
        return lambda t: t.wrong_secret_plain
    if attempts_left == 1:
        return lambda t: t.wrong_secret_last
    return lambda t: t.wrong_secret.format(n=attempts_left)


def counter_problem(err: KioskError, trade_number: str | None = None) -> Refusal:
    """Words for an error raised by one of the counter's commands."""
    match err:
        case TagForged():
            return FORGED
        case TokenMismatch():
            return TOKEN_MISMATCH
        case TagSwapped():
            return SWAPPED
        case TagNotForThisSite():
            return OTHER_SITE
        case TagMalformed():
            return UNREADABLE
        case CodeInvalid():
            if "finger" in str(err) and err.attempts_left not in (None, 1):   # kiosk.service.finger_pickup
                n = err.attempts_left
                return Refusal(lambda t: t.finger_wrong.format(n=n))
            return Refusal(wrong_secret(err.attempts_left))
        case LockedOut():
            return Refusal(lambda t: t.locked_out, grave=True)
        case SlowDown():
            seconds = max(1, math.ceil(err.retry_after))
            return Refusal(lambda t: t.slow_down.format(s=seconds))
        case UnknownParcel():
            trade = trade_number or "?"
            return Refusal(lambda t: t.unknown_parcel.format(trade=trade), grave=True)
        case PaymentDue():
            amount = money(err.amount_due)
            return Refusal(lambda t: t.payment_due.format(amount=amount), grave=True)
        case NotCollectable():
            message = str(err).lower()
            for phrase, say in _NOT_COLLECTABLE:
                if phrase in message:
                    return Refusal(say, grave=True)
            return Refusal(lambda t: t.unexpected, grave=True)
        case CounterIncomplete():
            return Refusal(_MISSING.get(err.missing, lambda t: t.unexpected))
        case CardProblem() if err.reason == "removed":
            return Refusal(lambda t: t.card_removed)
        case CardProblem() if err.reason == "blocked":
            return Refusal(lambda t: t.card_blocked, grave=True)
        case CardProblem():
            return Refusal(lambda t: t.card_unusable, grave=True)
        case FingerProblem() if err.reason == "no_finger":
            return Refusal(lambda t: t.finger_none)
        case FingerProblem() if err.reason == "poor_image":
            return Refusal(lambda t: t.finger_poor)
        case FingerProblem():
            return Refusal(lambda t: t.finger_unavailable, grave=True)
        case SeeStaff():
            if "not set up" in str(err):
                return Refusal(lambda t: t.tags_not_set_up, grave=True)
            return Refusal(lambda t: t.wrong_method, grave=True)
    return UNEXPECTED
