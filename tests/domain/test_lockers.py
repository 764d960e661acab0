"""The locker state machine: commands and evidence are separate facts."""

import pytest

from kiosk.domain import lockers as L
from kiosk.domain.lockers import Locker, LockerState, Outcome, Phase, Timing
from kiosk.errors import InvalidTransition

T = Timing(open_timeout_s=15, left_open_alarm_s=120)


def free(n=1):
    return Locker(n, door=L.CLOSED)


def occupied(n=1, trade="1111-2222"):
    return Locker(n, LockerState.OCCUPIED, parcel=trade, door=L.CLOSED)


def test_deposit_completes_only_on_open_then_closed():
    lk = L.begin_deposit(free(), "1111-2222", "op1", now=100)
    assert (lk.state, lk.phase, lk.parcel) == (LockerState.LOADING, Phase.COMMANDED, "1111-2222")
    # A "closed" reading before any opening proves nothing.
    lk2, out = L.door_reading(lk, L.CLOSED, 101)
    assert out == Outcome.NOTHING and lk2.phase == Phase.COMMANDED
    lk, out = L.door_reading(lk, L.OPEN, 102)
    assert out == Outcome.EVIDENCE and lk.phase == Phase.OPENED and lk.opened_at == 102
    lk, out = L.door_reading(lk, L.CLOSED, 110)
    assert out == Outcome.DEPOSIT_DONE
    assert lk == Locker(1, LockerState.OCCUPIED, parcel="1111-2222", door=L.CLOSED)


def test_pickup_frees_the_locker_on_evidence():
    lk = L.begin_pickup(occupied(), "op2", now=0)
    lk, _ = L.door_reading(lk, L.OPEN, 1)
    lk, out = L.door_reading(lk, L.CLOSED, 2)
    assert out == Outcome.PICKUP_DONE and lk.state == LockerState.FREE and lk.parcel is None and not lk.busy


def test_unknown_reading_in_between_is_not_evidence():
    lk = L.begin_pickup(occupied(), "op", now=0)
    lk, out = L.door_reading(lk, L.UNKNOWN, 1)
    assert out == Outcome.NOTHING and lk.phase == Phase.COMMANDED
    lk, out = L.door_reading(lk, L.CLOSED, 2)
    assert out == Outcome.NOTHING and lk.phase == Phase.COMMANDED


def test_jam_faults_the_locker_and_keeps_the_parcel():
    lk = L.begin_pickup(occupied(), "op", now=0)
    same, out = L.check_timers(lk, 14.9, T)
    assert out == Outcome.NOTHING and same == lk
    lk, out = L.check_timers(lk, 15, T)
    assert out == Outcome.JAMMED
    assert lk.state == LockerState.FAULT and lk.parcel == "1111-2222" and not lk.busy and "jammed" in lk.fault


def test_jam_during_deposit_leaves_the_locker_empty():
    lk = L.begin_deposit(free(), "1111-2222", "op", now=0)
    lk, out = L.check_timers(lk, 20, T)
    assert out == Outcome.JAMMED and lk.parcel is None and lk.state == LockerState.FAULT


def test_left_open_alarm_is_raised_once():
    lk = L.begin_pickup(occupied(), "op", now=0)
    lk, _ = L.door_reading(lk, L.OPEN, 1)
    lk, out = L.check_timers(lk, 121, T)
    assert out == Outcome.LEFT_OPEN and lk.alarmed
    lk, out = L.check_timers(lk, 500, T)
    assert out == Outcome.NOTHING
    lk, out = L.door_reading(lk, L.CLOSED, 501)
    assert out == Outcome.PICKUP_DONE


def test_open_without_command_is_tamper():
    lk, out = L.door_reading(occupied(), L.OPEN, 5)
    assert out == Outcome.TAMPER and lk.state == LockerState.FAULT and lk.parcel == "1111-2222"
    # Closing it again does not make the locker usable: a person must inspect it.
    lk, out = L.door_reading(lk, L.CLOSED, 6)
    assert out == Outcome.NOTHING and lk.state == LockerState.FAULT


@pytest.mark.parametrize("make", [lambda: L.begin_pickup(occupied(), "x", 0), lambda: Locker(1, LockerState.FAULT, door=L.CLOSED)])
def test_cannot_begin_deposit_when_not_free(make):
    with pytest.raises(InvalidTransition):
        L.begin_deposit(make(), "1111-2222", "op", 0)


def test_cannot_begin_pickup_twice():
    lk = L.begin_pickup(occupied(), "a", 0)
    with pytest.raises(InvalidTransition):
        L.begin_pickup(lk, "b", 0)


def test_deposit_needs_a_closed_door():
    with pytest.raises(InvalidTransition):
        L.begin_deposit(Locker(1, door=L.UNKNOWN), "1111-2222", "op", 0)


class TestReconcile:
    def test_commanded_and_now_open_counts_as_evidence(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        lk, out = L.reconcile(lk, L.OPEN, 3)
        assert out == Outcome.EVIDENCE and lk.phase == Phase.OPENED

    def test_commanded_and_now_closed_is_interrupted_not_collected(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        lk, out = L.reconcile(lk, L.CLOSED, 3)
        assert out == Outcome.INTERRUPTED and lk.state == LockerState.FAULT and lk.parcel == "1111-2222"

    def test_opened_and_now_closed_completes(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        lk, _ = L.door_reading(lk, L.OPEN, 1)
        lk, out = L.reconcile(lk, L.CLOSED, 3)
        assert out == Outcome.PICKUP_DONE and lk.state == LockerState.FREE

    def test_opened_and_still_open_waits(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        lk, _ = L.door_reading(lk, L.OPEN, 1)
        same, out = L.reconcile(lk, L.OPEN, 3)
        assert out == Outcome.NOTHING and same == lk

    def test_idle_door_found_open_is_tamper(self):
        lk, out = L.reconcile(occupied(), L.OPEN, 3)
        assert out == Outcome.TAMPER

    def test_already_reported_open_door_is_not_reported_again(self):
        lk, _ = L.door_reading(occupied(), L.OPEN, 1)
        _, out = L.reconcile(lk, L.OPEN, 3)
        assert out == Outcome.NOTHING

    def test_unknown_reading_changes_nothing_but_the_door(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        new, out = L.reconcile(lk, L.UNKNOWN, 3)
        assert out == Outcome.NOTHING and new.phase == Phase.COMMANDED and new.door == L.UNKNOWN


def test_service_opening_keeps_state():
    lk = L.begin_service(occupied(), "op", 0)
    lk, _ = L.door_reading(lk, L.OPEN, 1)
    lk, out = L.door_reading(lk, L.CLOSED, 2)
    assert out == Outcome.SERVICE_DONE and lk.state == LockerState.OCCUPIED and lk.parcel == "1111-2222"


def test_return_to_service_and_remove_parcel():
    lk = Locker(1, LockerState.FAULT, parcel="1111-2222", door=L.CLOSED, fault="jammed")
    assert L.return_to_service(lk).state == LockerState.OCCUPIED
    emptied = L.remove_parcel(lk)
    assert emptied.parcel is None and emptied.state == LockerState.FAULT
    assert L.remove_parcel(occupied()).state == LockerState.FREE


def test_command_failed_needs_an_opening():
    with pytest.raises(InvalidTransition):
        L.command_failed(occupied(), "x")
    lk, out = L.command_failed(L.begin_pickup(occupied(), "op", 0), "board 0 not answering")
    assert out == Outcome.UNLOCK_FAILED and lk.state == LockerState.FAULT and "board 0" in lk.fault


class TestReconcileWithOccupancy:
    """Issue 9 §1: where the compartment's occupancy sensor tells, a restart settles an
    opening it did not see finish; only where no sensor tells does a person inspect."""

    def test_pickup_and_now_empty_is_collected(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        lk, out = L.reconcile(lk, L.CLOSED, 3, occupied=False)
        assert out == Outcome.PICKUP_DONE and lk.state == LockerState.FREE and lk.parcel is None and not lk.busy

    def test_pickup_with_the_parcel_still_inside_is_back_in_service(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        lk, out = L.reconcile(lk, L.CLOSED, 3, occupied=True)
        assert out == Outcome.NOT_OPENED and lk.state == LockerState.OCCUPIED and lk.parcel == "1111-2222"
        assert not lk.busy

    def test_deposit_with_a_parcel_inside_has_arrived(self):
        lk = L.begin_deposit(Locker(1, door=L.CLOSED), "1111-2222", "op", 0)
        lk, out = L.reconcile(lk, L.CLOSED, 3, occupied=True)
        assert out == Outcome.DEPOSIT_DONE and lk.state == LockerState.OCCUPIED and lk.parcel == "1111-2222"

    def test_deposit_and_still_empty_frees_the_locker(self):
        lk = L.begin_deposit(Locker(1, door=L.CLOSED), "1111-2222", "op", 0)
        lk, out = L.reconcile(lk, L.CLOSED, 3, occupied=False)
        assert out == Outcome.NOT_OPENED and lk.state == LockerState.FREE and lk.parcel is None

    def test_no_sensor_still_needs_a_person(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        _, out = L.reconcile(lk, L.CLOSED, 3, occupied=None)
        assert out == Outcome.INTERRUPTED


class TestDoorShutWithOccupancy:
    """A door shut live, where the compartment's occupancy sensor tells what is inside."""

    def test_a_pickup_door_shut_on_the_parcel_is_not_a_collection(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        lk, _ = L.door_reading(lk, L.OPEN, 1)
        lk, out = L.door_reading(lk, L.CLOSED, 2, occupied=True)
        assert out == Outcome.STILL_INSIDE and lk.state == LockerState.OCCUPIED and lk.parcel == "1111-2222"

    def test_a_deposit_door_shut_on_nothing_is_not_an_arrival(self):
        lk = L.begin_deposit(Locker(1, door=L.CLOSED), "1111-2222", "op", 0)
        lk, _ = L.door_reading(lk, L.OPEN, 1)
        lk, out = L.door_reading(lk, L.CLOSED, 2, occupied=False)
        assert out == Outcome.NOT_LOADED and lk.state == LockerState.FREE and lk.parcel is None

    def test_without_a_sensor_the_door_is_the_evidence(self):
        lk = L.begin_pickup(occupied(), "op", 0)
        lk, _ = L.door_reading(lk, L.OPEN, 1)
        _, out = L.door_reading(lk, L.CLOSED, 2, occupied=None)
        assert out == Outcome.PICKUP_DONE
