import pytest

from kiosk.domain import holding as H

P = H.HoldPolicy(hold_s=3 * 86400, reminders_before_s=(24 * 3600, 6 * 3600))
DEADLINE = 1_000_000.0


def test_deadline_is_the_stores_else_arrival_plus_hold():
    assert H.deadline(123.0, 0.0, P) == 123.0
    assert H.deadline(None, 10.0, P) == 10.0 + 3 * 86400


@pytest.mark.parametrize("hours_before, sent, want", [
    (30, 0, 0),      # too early
    (24, 0, 1),      # the first warning falls due
    (20, 1, 1),      # already sent: nothing new
    (6, 1, 2),       # the second
    (5, 0, 2),       # after an outage: one warning, counted as both
    (0, 2, 2),       # at the deadline it is expiry, not a warning
])
def test_reminders_due(hours_before, sent, want):
    assert H.reminders_due(DEADLINE, sent, DEADLINE - hours_before * 3600, P) == want


def test_policy_is_checked():
    with pytest.raises(ValueError):
        H.HoldPolicy(hold_s=0)
    with pytest.raises(ValueError):
        H.HoldPolicy(reminders_before_s=(3600, 7200))
