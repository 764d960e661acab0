"""The payment state machine: money is conserved at every end (kiosk.domain.payments)."""

import pytest
from hypothesis import given, strategies as st

from kiosk.domain import payments as P
from kiosk.domain.payments import PaymentState
from kiosk.errors import InvalidTransition


def test_paid_with_change():
    p = P.start("p1", "1234-5678", 1300, 0.0)
    p = P.credit(p, 2000, "JP0200A", 1.0)
    p = P.fully_paid(p)
    assert p.to_pay_back == 700
    p = P.paid_back(p, 700)
    assert (p.state, p.kept, p.owed) == (PaymentState.PAID, 1300, 0) and P.balanced(p)


def test_short_change_is_owed():
    p = P.paid_back(P.fully_paid(P.credit(P.start("p", "t", 100, 0), 1000, "x", 0)), 500)
    assert (p.state, p.owed) == (PaymentState.PAID, 400) and P.balanced(p)


def test_cancel_then_partial_refund():
    p = P.cancel(P.credit(P.start("p", "t", 1500, 0), 1000, "JP0100A", 0))
    p = P.paid_back(p, 300)
    assert (p.state, p.paid_back, p.owed) == (PaymentState.REFUND_OWED, 300, 700) and P.balanced(p)


def test_a_late_credit_after_the_end_is_owed_back():
    p = P.paid_back(P.cancel(P.start("p", "t", 500, 0)), 0)
    assert p.state is PaymentState.REFUNDED
    p = P.credit(p, 100, "JP100A", 5)
    assert p.owed == 100 and P.balanced(p)


def test_transitions_that_are_not_allowed():
    p = P.start("p", "t", 500, 0)
    with pytest.raises(InvalidTransition):
        P.fully_paid(p)                      # not enough in
    with pytest.raises(InvalidTransition):
        P.paid_back(p, 0)                    # nothing to pay back while collecting
    with pytest.raises(ValueError):
        P.paid_back(P.cancel(p), 1)          # more than was taken
    with pytest.raises(ValueError):
        P.start("p", "t", 0, 0)


@given(st.integers(1, 50_000), st.lists(st.integers(1, 10_000), max_size=6), st.booleans(), st.integers(0, 100))
def test_money_is_conserved(due, credits, cancel, percent_paid_back):
    p = P.start("p", "t", due, 0)
    for amount in credits:
        p = P.credit(p, amount, "x", 0)
    if p.credited >= due and not cancel:
        p = P.fully_paid(p)
    else:
        p = P.cancel(p)
    p = P.paid_back(p, p.to_pay_back * percent_paid_back // 100)
    assert P.balanced(p) and p.state in P.FINAL


def test_hopper_marks_only_while_paying_back():
    p = P.start("p", "t", 500, 0)
    with pytest.raises(InvalidTransition):
        P.mark_hoppers(p, {"3": 7})
    p = P.mark_hoppers(P.cancel(p), {"3": 7})
    assert p.payout_marks == {"3": 7}


@pytest.mark.parametrize("mark, counter, expected", [(7, 7, 0), (7, 8, 5), (255, 1, 5), (7, 9, None), (7, 0, None)])
def test_what_a_hopper_paid_since_its_mark(mark, counter, expected):
    from kiosk.devices.roles import HopperState
    assert HopperState(3, 100, counter, 0, 5, 0).paid_since(mark) == expected
