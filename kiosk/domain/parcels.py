"""Parcels: what is held here, under which trade number, and in which state.

    expected ──► arrived ──► collected
        │           │   └──────────────┐
        └──────► expired ──► returned ◄┘  (a parcel someone sends: dropped off, then
                                          taken by the courier's round — kiosk.service.dropoff)

A parcel is known by its trade number only: no name, address or phone number is ever
part of it. Its secret is held only as a slow salted hash (``secret_hash``), which is
dropped once the parcel has left (collected or returned): nothing to keep, nothing to leak.
Pure: no I/O, no clock (times are passed in).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

from kiosk.errors import InvalidTransition, LockedOut, NotCollectable, PaymentDue


class ParcelState(enum.StrEnum):
    EXPECTED = "expected"
    ARRIVED = "arrived"
    COLLECTED = "collected"
    EXPIRED = "expired"
    RETURNED = "returned"


ALLOWED: dict[ParcelState, frozenset[ParcelState]] = {
    ParcelState.EXPECTED: frozenset({ParcelState.ARRIVED, ParcelState.EXPIRED}),
    ParcelState.ARRIVED: frozenset({ParcelState.COLLECTED, ParcelState.EXPIRED, ParcelState.RETURNED}),
    ParcelState.EXPIRED: frozenset({ParcelState.RETURNED}),
    ParcelState.COLLECTED: frozenset(),
    ParcelState.RETURNED: frozenset(),
}

FINAL = frozenset({ParcelState.COLLECTED, ParcelState.RETURNED})

# Trade numbers are printed on labels and typed on keypads: keep them plain.
TRADE_NUMBER = re.compile(r"^[0-9A-Z][0-9A-Z-]{3,39}$")

METHODS = ("secret", "locker", "f1_tag", "f2_tag", "ic_card", "token", "biometric")


def normalise_trade_number(text: str) -> str:
    """Upper-case, no blanks: '1234 5678' and '1234-5678' stay distinct, but case does not matter."""
    return "".join(text.split()).upper()


def valid_trade_number(text: str) -> bool:
    return bool(TRADE_NUMBER.fullmatch(text or ""))


@dataclass(frozen=True)
class Parcel:
    trade_number: str
    method: str
    state: ParcelState = ParcelState.EXPECTED
    secret_hash: str | None = None
    amount_due: int = 0               # minor currency units (yen); 0 = prepaid
    hold_deadline: float | None = None
    locker_hint: int | None = None
    locker: int | None = None         # where it is now, when it is in a locker
    failed_attempts: int = 0
    locked_out: bool = False
    reminders_sent: int = 0           # forgotten-pickup warnings raised so far
    amount_paid: int = 0              # paid here in cash (kiosk.domain.payments), minor units
    token_hash: str | None = None     # a token parcel (F4): its token's id, as a slow salted hash
    extensions: int = 0               # times its hold deadline was extended (kiosk.service.extension)
    size: str | None = None           # the smallest door size it fits (kiosk.domain.compartments)
    low_door: bool = False            # its recipient asked for a door they can reach
    visit_group: str | None = None    # parcels the store grouped under one pickup code (one visit)
    dropoff: bool = False             # a parcel someone sends: dropped here with its code, taken by the courier

    def to(self, state: ParcelState, **changes) -> "Parcel":
        """The same parcel in ``state``. Raises InvalidTransition when the move is not allowed."""
        if state not in ALLOWED[self.state]:
            raise InvalidTransition(f"parcel {self.trade_number}: {self.state.value} → {state.value} is not allowed")
        if state in FINAL:
            changes.setdefault("secret_hash", None)  # purge: the secret is no longer needed
            changes.setdefault("token_hash", None)
            changes.setdefault("locker", None)
        return replace(self, state=state, **changes)


def leaves_by_round(parcel: Parcel) -> bool:
    """Taken out by the courier's round (then returned), not by a recipient (collected): a
    parcel dropped off to be sent, or one whose holding period ended."""
    return parcel.dropoff or parcel.state == ParcelState.EXPIRED


LOCKED_OUT_MESSAGE = "too many wrong attempts: this parcel is locked; please see staff"


def check_state_for_handover(parcel: Parcel, *, pay_here: bool = False) -> None:
    """Refuse a parcel that cannot be handed over whatever the place (locker or counter):
    locked out, not arrived, already collected, past its holding period, money due —
    unless ``pay_here``: the money is taken at this hand-over (the counter's clerk), which
    then checks it (kiosk.service.clerk.check_cash).
    Raises LockedOut, NotCollectable (with its ``reason``), PaymentDue."""
    if parcel.locked_out:
        raise LockedOut(LOCKED_OUT_MESSAGE)
    if parcel.dropoff:
        raise NotCollectable("this parcel is being sent: only the courier's round takes it out", "dropoff")
    if parcel.state == ParcelState.EXPECTED:
        raise NotCollectable("this parcel has not arrived yet", "not_arrived")
    if parcel.state == ParcelState.COLLECTED:
        raise NotCollectable("this parcel has already been collected", "collected")
    if parcel.state in (ParcelState.EXPIRED, ParcelState.RETURNED):
        raise NotCollectable("the holding period for this parcel has ended; please see staff", "expired")
    if not pay_here:
        check_paid(parcel)


def check_paid(parcel: Parcel) -> None:
    """Money due means no release: a parcel with an ``amount_due`` not yet paid here
    (``amount_paid``, set only by a completed cash payment) is handed over only by a clerk
    who confirms the payment was taken. Raises PaymentDue."""
    due = parcel.amount_due - parcel.amount_paid
    if due > 0:
        raise PaymentDue(f"{due} (minor units) is due for this parcel: please pay at the counter", due)
