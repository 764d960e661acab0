"""The LockBank role's contract, written once and run against every implementation.

Each implementation is reached the way the controller reaches it: through the registry,
by URL; the simulated ones are the real drivers on their emulators.
"""

import pytest

from kiosk.devices import registry
from kiosk.devices.roles import DoorState, LockBank
from kiosk.errors import DeviceClosed, DeviceURLError
from tests.support import DoorRecorder

URLS = {
    "kerong": "sim+kerong://?boards=1&doors=5&poll_ms=20",
    "gpio": "sim+gpio://?doors=5&pulse_ms=60",
}


@pytest.fixture(params=sorted(URLS))
def bank(request):
    bank = registry.create("locks", URLS[request.param])
    yield bank
    bank.close()


def changes_of(bank) -> DoorRecorder:
    recorder = DoorRecorder()
    bank.subscribe(recorder)
    return recorder


def test_is_a_lockbank(bank):
    assert isinstance(bank, LockBank)
    assert bank.door_count == 5
    assert type(bank).__name__ in repr(bank)


def test_open_reads_every_door(bank):
    bank.open()
    assert bank.door_states() == {n: DoorState.CLOSED for n in range(1, 6)}


def test_open_and_close_are_idempotent(bank):
    bank.open()
    bank.open()
    bank.close()
    bank.close()
    assert set(bank.door_states().values()) == {DoorState.UNKNOWN}


def test_unlock_then_evidence(bank):
    changes = changes_of(bank)
    bank.open()
    bank.unlock(3)
    changes.wait_for(3, DoorState.OPEN)
    assert bank.door_states()[3] == DoorState.OPEN
    bank.sim.doors.close(3)
    changes.wait_for(3, DoorState.CLOSED)
    assert all(c.door == 3 for c in changes.changes if c.state != DoorState.CLOSED)


def test_the_unlock_itself_is_not_evidence(bank):
    """A jammed door: the pulse goes out, no OPEN is ever reported."""
    changes = changes_of(bank)
    bank.open()
    bank.sim.doors.jam(2)
    bank.unlock(2)
    bank.unlock(4)  # a working neighbour, to know the pulses have been processed
    changes.wait_for(4, DoorState.OPEN)
    assert bank.door_states()[2] == DoorState.CLOSED
    assert not [c for c in changes.changes if c.door == 2 and c.state != DoorState.CLOSED]


def test_forced_door_is_reported(bank):
    changes = changes_of(bank)
    bank.open()
    bank.sim.doors.force_open(5)
    changes.wait_for(5, DoorState.OPEN)


@pytest.mark.parametrize("door", [0, 6, -1, "1", True])
def test_door_numbers_are_checked(bank, door):
    bank.open()
    with pytest.raises(ValueError):
        bank.unlock(door)


def test_unlock_on_a_closed_bank(bank):
    with pytest.raises(DeviceClosed):
        bank.unlock(1)


def test_make_safe_is_callable_any_time(bank):
    bank.make_safe()
    bank.open()
    bank.make_safe()


@pytest.mark.parametrize("url", ["sim+kerong://?doors=5&colour=red", "sim+gpio://?doors=5&colour=red",
                                 "sim+kerong://?doors=zero", "sim+gpio://?doors=99"])
def test_bad_urls_are_refused_with_the_reason(url):
    with pytest.raises(DeviceURLError):
        registry.create("locks", url)
