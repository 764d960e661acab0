"""Cash payments at pickup (issue 13): what the books say about one payment, as a state machine.

::

    collecting ──credited ≥ due──► changing ──change paid (or owed)──► paid
    collecting ──cancel / timeout──► refunding ──paid back──► refunded
                                               └──hopper short──► refund_owed

Every amount is an integer in the currency's minor units. Money is conserved: at every
step ``credited == kept + paid_back + owed`` where ``kept`` is the amount due once paid
(0 otherwise), ``paid_back`` the change or refund the hoppers paid, and ``owed`` what the
machine could not pay back and a clerk must (recorded, never silently kept). A credit
that arrives after a payment ended (a coin already in the chute) is owed back too.

Every function is pure: it takes a payment and facts and returns the new payment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from kiosk.errors import InvalidTransition


class PaymentState(enum.StrEnum):
    COLLECTING = "collecting"
    CHANGING = "changing"        # fully paid; change being paid out
    PAID = "paid"
    REFUNDING = "refunding"      # cancelled or timed out; money being paid back
    REFUNDED = "refunded"
    REFUND_OWED = "refund_owed"  # the hoppers could not pay it all back: ``owed`` is due


FINAL = frozenset({PaymentState.PAID, PaymentState.REFUNDED, PaymentState.REFUND_OWED})


@dataclass(frozen=True)
class Payment:
    payment_id: str
    trade_number: str
    amount_due: int
    state: PaymentState = PaymentState.COLLECTING
    credited: int = 0
    denominations: dict[str, int] = field(default_factory=dict)  # "JP100A" -> how many taken
    paid_back: int = 0    # change (when paid) or refund (when cancelled) that left the hoppers
    owed: int = 0         # taken but neither kept nor paid back: a clerk owes it
    payout_marks: dict[str, int] = field(default_factory=dict)  # hopper -> dispense counter before paying
    started_at: float = 0.0
    last_activity: float = 0.0

    @property
    def kept(self) -> int:
        return self.amount_due if self.state in (PaymentState.CHANGING, PaymentState.PAID) else 0

    @property
    def remaining(self) -> int:
        """What is still to pay while collecting."""
        return max(0, self.amount_due - self.credited)

    @property
    def to_pay_back(self) -> int:
        """What the hoppers should pay now: change when paying, everything when refunding."""
        if self.state is PaymentState.CHANGING:
            return self.credited - self.amount_due
        if self.state is PaymentState.REFUNDING:
            return self.credited
        return 0


def start(payment_id: str, trade_number: str, amount_due: int, now: float) -> Payment:
    """A new payment. Raises ValueError for an amount that is not a positive integer."""
    if not isinstance(amount_due, int) or isinstance(amount_due, bool) or amount_due <= 0:
        raise ValueError(f"amount due {amount_due!r} is not a positive whole number of minor units")
    return Payment(payment_id, trade_number, amount_due, started_at=now, last_activity=now)


def credit(payment: Payment, amount: int, denomination: str, now: float) -> Payment:
    """Money taken (a coin accepted, a note stacked). Counted in any state: after the
    payment ended, it is owed back."""
    if amount < 0:
        raise ValueError("a credit is never negative")
    counts = dict(payment.denominations)
    counts[denomination] = counts.get(denomination, 0) + 1
    changed = replace(payment, credited=payment.credited + amount, denominations=counts, last_activity=now)
    if payment.state in FINAL:
        changed = replace(changed, owed=payment.owed + amount)
    return changed


def touch(payment: Payment, now: float) -> Payment:
    """The customer did something (a note in escrow): the timeout starts again."""
    return replace(payment, last_activity=now)


def fully_paid(payment: Payment) -> Payment:
    """Enough money is in: pay the change. Raises InvalidTransition."""
    if payment.state is not PaymentState.COLLECTING or payment.credited < payment.amount_due:
        raise InvalidTransition(f"payment {payment.payment_id}: {payment.state.value}, "
                                f"{payment.credited} of {payment.amount_due} in")
    return replace(payment, state=PaymentState.CHANGING)


def cancel(payment: Payment) -> Payment:
    """The customer cancelled, or the time ran out: pay everything back. Raises InvalidTransition."""
    if payment.state is not PaymentState.COLLECTING:
        raise InvalidTransition(f"payment {payment.payment_id} is {payment.state.value}: it cannot be cancelled")
    return replace(payment, state=PaymentState.REFUNDING)


def paid_back(payment: Payment, amount: int) -> Payment:
    """The hoppers paid ``amount`` of what was to pay back; the rest is owed. Ends the payment.
    Raises InvalidTransition, ValueError."""
    if payment.state not in (PaymentState.CHANGING, PaymentState.REFUNDING):
        raise InvalidTransition(f"payment {payment.payment_id} is {payment.state.value}: nothing to pay back")
    due = payment.to_pay_back
    if not 0 <= amount <= due:
        raise ValueError(f"paid back {amount} of {due}")
    if payment.state is PaymentState.CHANGING:
        final = PaymentState.PAID
    else:
        final = PaymentState.REFUNDED if amount == due else PaymentState.REFUND_OWED
    return replace(payment, state=final, paid_back=amount, owed=payment.owed + due - amount)


def mark_hoppers(payment: Payment, counters: dict[str, int]) -> Payment:
    """The hoppers' dispense counters just before paying back: after a crash they say what
    the dispense under way paid. Raises InvalidTransition when nothing is being paid back."""
    if payment.state not in (PaymentState.CHANGING, PaymentState.REFUNDING):
        raise InvalidTransition(f"payment {payment.payment_id} is {payment.state.value}: nothing to pay back")
    return replace(payment, payout_marks=dict(counters))


def balanced(payment: Payment) -> bool:
    """The money rule: everything taken is kept, paid back or owed (checked in tests and scenarios)."""
    if payment.state in (PaymentState.COLLECTING, PaymentState.CHANGING, PaymentState.REFUNDING):
        return True  # money still moving
    return payment.credited == payment.kept + payment.paid_back + payment.owed
