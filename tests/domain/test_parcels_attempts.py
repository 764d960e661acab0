import pytest

from kiosk.domain import attempts as A
from kiosk.domain.parcels import Parcel, ParcelState, normalise_trade_number, valid_trade_number
from kiosk.errors import InvalidTransition, SlowDown

P = A.AttemptPolicy(per_parcel_max=5, site_window_s=300, site_threshold=4, site_slowdown_s=10)


def test_parcel_lifecycle_and_purge_of_the_secret():
    p = Parcel("1234-5678", "locker", secret_hash="h")
    p = p.to(ParcelState.ARRIVED, locker=3)
    assert p.secret_hash == "h" and p.locker == 3
    done = p.to(ParcelState.COLLECTED)
    assert done.secret_hash is None and done.locker is None


@pytest.mark.parametrize("start,to", [
    (ParcelState.EXPECTED, ParcelState.COLLECTED),
    (ParcelState.COLLECTED, ParcelState.COLLECTED),
    (ParcelState.COLLECTED, ParcelState.ARRIVED),
    (ParcelState.RETURNED, ParcelState.ARRIVED),
    (ParcelState.EXPIRED, ParcelState.COLLECTED),
])
def test_forbidden_transitions(start, to):
    with pytest.raises(InvalidTransition):
        Parcel("1234-5678", "locker", state=start).to(to)


def test_trade_numbers():
    assert normalise_trade_number(" 1234-5678 ") == "1234-5678"
    assert normalise_trade_number("ab12 34") == "AB1234"
    assert valid_trade_number("1234-5678")
    assert not valid_trade_number("12")
    assert not valid_trade_number("1234;DROP")
    assert not valid_trade_number("1234-5678\n")


def test_parcel_locks_after_max_failures():
    p = Parcel("1234-5678", "locker")
    for i in range(4):
        p = A.register_failure(p, P)
        assert not p.locked_out and A.attempts_left(p, P) == 5 - (i + 1)
    p = A.register_failure(p, P)
    assert p.locked_out and A.attempts_left(p, P) == 0
    assert not A.reset_attempts(p).locked_out


def test_site_slows_down_after_a_burst():
    fails = [100.0, 101.0, 102.0]
    A.check_site(fails, 103, P)  # 3 < threshold 4: no slow-down
    fails.append(103.0)
    with pytest.raises(SlowDown) as err:
        A.check_site(fails, 104, P)
    assert err.value.retry_after == pytest.approx(9)
    A.check_site(fails, 113.5, P)  # waited long enough
    # Old failures leave the window.
    A.check_site(fails, 500, P)


def test_alarm_crossing_is_reported_once():
    assert not A.crosses_alarm([1, 2], 3, P)
    assert A.crosses_alarm([1, 2, 3], 4, P)
    assert not A.crosses_alarm([1, 2, 3, 4], 5, P)
