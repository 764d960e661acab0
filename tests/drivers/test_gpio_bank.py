"""LockBankGpio, the real driver, on gpiozero MockFactory pins with door physics (hwsim.gpio_doors).

Nothing here sleeps to wait for something: every wait is on a queue or a condition with a
generous timeout, so a slow machine is slower, not flaky. Every MockFactory is closed and
reset after its test, and a test that leaves a driver or simulator thread running fails.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import gpiozero
import pytest
from gpiozero.pins.mock import MockFactory

from drivers.locks.gpio import WATCH_PERIOD_S, LockBankGpio
from hwsim.gpio_doors import GpioDoorSim
from kiosk.devices.registry import create
from kiosk.devices.roles import DoorState, LockBank
from kiosk.errors import DeviceClosed, DeviceInitError, DeviceUnavailable, DeviceURLError

pytestmark = pytest.mark.strict_leaks  # tests/support.py: no thread or descriptor may outlive a test

OPEN, CLOSED = DoorState.OPEN, DoorState.CLOSED
WAIT = 5.0  # seconds; only ever reached when something is broken
OUR_THREADS = ("LockBankGpio-", "hwsim-gpio-")


class Changes:
    """The door changes a bank reports, in order."""

    def __init__(self, bank):
        self._queue: queue.Queue = queue.Queue()
        self.last = None
        bank.subscribe(self._queue.put)

    def next(self, timeout: float = WAIT) -> tuple[int, DoorState]:
        try:
            self.last = self._queue.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no door change within {timeout} s")
        return self.last.door, self.last.state

    def take(self, count: int) -> list[tuple[int, DoorState]]:
        return [self.next() for _ in range(count)]

    def pending(self) -> list[tuple[int, DoorState]]:
        items = []
        while not self._queue.empty():
            change = self._queue.get_nowait()
            items.append((change.door, change.state))
        return items


@pytest.fixture
def factory():
    pin_factory = MockFactory()
    yield pin_factory
    pin_factory.close()
    pin_factory.reset()


@pytest.fixture
def make_bank():
    """Build banks through the registry; each is closed (and its factory checked reset) after."""
    banks = []

    def make(url: str = "sim+gpio://?doors=3&pulse_ms=60", **context):
        bank = create("locks", url, **context)
        banks.append(bank)
        changes = Changes(bank)
        bank.open()
        return bank, changes

    yield make
    for bank in banks:
        bank.close()
        assert not bank.sim.factory.pins, "the simulator's MockFactory was not reset"


def relay_entries(sim, door: int, kind: str):
    return sim.history.entries(f"relay {door}", kind)


# --- open ------------------------------------------------------------------------------------

def test_open_turns_every_relay_off_before_reading_and_reporting_every_door(factory):
    sim = GpioDoorSim(factory, [5, 6], [20, 21])
    sim.doors.force_open(2)           # left open before the controller started
    stuck = sim.solenoid_pin(1)       # left energised by a run that crashed
    stuck.function = "output"
    stuck.state = True
    assert sim.energised(1)
    bank = LockBankGpio([5, 6], [20, 21], pin_factory=factory, pulse_ms=60)
    seen = []
    bank.subscribe(lambda c: seen.append((c.door, c.state, sim.energised(1), sim.energised(2))))
    bank.open()
    try:
        # Both reports arrived before open() returned, and both relays were off by then.
        assert seen == [(1, CLOSED, False, False), (2, OPEN, False, False)]
        assert bank.door_states() == {1: CLOSED, 2: OPEN}
    finally:
        bank.close()


# --- unlock and the door physics --------------------------------------------------------------

def test_unlock_pulses_the_relay_and_the_door_opens_then_closes(make_bank):
    bank, changes = make_bank()
    sim = bank.sim
    assert changes.take(3) == [(1, CLOSED), (2, CLOSED), (3, CLOSED)]
    bank.unlock(2)
    assert changes.next() == (2, OPEN)
    assert sim.wait_until(lambda: relay_entries(sim, 2, "relay_off"), WAIT)
    (on,), (off,) = relay_entries(sim, 2, "relay_on"), relay_entries(sim, 2, "relay_off")
    assert 59 <= off.detail["ms"] < 1000          # pulse_ms=60, ended by the driver's timer
    assert off.monotonic > on.monotonic
    assert sim.history.count(kind="relay_on") == 1  # no other relay moved
    sim.doors.close(2)
    assert changes.next() == (2, CLOSED)
    assert bank.stats == {"pulses": 1, "forced_off_by_watchdog": 0}


def test_the_latch_lets_go_once_energised_for_min_pulse_ms_not_at_the_end(make_bank):
    bank, changes = make_bank("sim+gpio://?doors=1&pulse_ms=1500&max_energised_ms=2000&min_pulse_ms=50")
    changes.take(1)
    bank.unlock(1)
    assert changes.next() == (1, OPEN)
    assert bank.sim.energised(1)                    # the door is ajar while the pulse still runs
    (pulse,) = bank.sim.history.entries("door 1", "pulse")
    assert 50 <= pulse.detail["ms"] < 1500
    bank.make_safe()


def test_a_pulse_shorter_than_the_latch_needs_leaves_the_door_shut(make_bank):
    bank, changes = make_bank("sim+gpio://?doors=1&pulse_ms=20&min_pulse_ms=50")
    changes.take(1)
    bank.unlock(1)
    assert bank.sim.wait_until(lambda: bank.sim.history.count("door 1", "pulse_too_short") == 1, WAIT)
    assert not bank.sim.doors[1].is_open
    assert changes.pending() == []


def test_a_jammed_door_stays_shut_after_unlock(make_bank):
    bank, changes = make_bank()
    changes.take(3)
    bank.sim.doors.jam(1)
    bank.unlock(1)
    assert bank.sim.wait_until(lambda: bank.sim.history.count("door 1", "jammed_stays_shut") == 1, WAIT)
    assert bank.sim.wait_until(lambda: not bank.sim.energised(1), WAIT)
    assert changes.pending() == []
    assert bank.door_states()[1] is CLOSED


def test_a_forced_door_is_reported_open_with_no_unlock(make_bank):
    bank, changes = make_bank()
    changes.take(3)
    bank.sim.doors.force_open(3)
    assert changes.next() == (3, OPEN)
    assert bank.stats["pulses"] == 0
    assert bank.sim.history.count(kind="relay_on") == 0


def test_a_door_left_open_stays_open_until_somebody_shuts_it(make_bank):
    bank, changes = make_bank()
    sim = bank.sim
    changes.take(3)
    bank.unlock(1)
    assert changes.next() == (1, OPEN)
    sim.doors.leave_open(1)
    assert sim.doors.close(1) is False
    assert bank.door_states()[1] is OPEN
    sim.doors.leave_open(1, False)
    assert sim.doors.close(1) is True
    assert changes.next() == (1, CLOSED)   # the first change since it opened


@pytest.mark.parametrize("door_closed, relay_active_high", [("low", 1), ("high", 0)])
def test_both_sensor_and_relay_polarities(make_bank, door_closed, relay_active_high):
    bank, changes = make_bank(f"sim+gpio://?doors=1&pulse_ms=60&door_closed={door_closed}"
                              f"&relay_active_high={relay_active_high}")
    sim = bank.sim
    closed_level, relay_on_level = door_closed == "high", bool(relay_active_high)
    assert changes.next() == (1, CLOSED)
    assert sim.sensor_pin(1).state == closed_level
    assert sim.solenoid_pin(1).state == (not relay_on_level)
    bank.unlock(1)
    assert changes.next() == (1, OPEN)
    assert sim.sensor_pin(1).state == (not closed_level)
    assert sim.wait_until(lambda: not sim.energised(1), WAIT)
    levels = [s.state for s in sim.solenoid_pin(1).states]
    assert relay_on_level in levels and levels[-1] == (not relay_on_level)
    sim.doors.close(1)
    assert changes.next() == (1, CLOSED)


# --- the maximum energised time ---------------------------------------------------------------

def test_watchdog_forces_off_a_relay_energised_behind_the_drivers_back(make_bank):
    bank, _ = make_bank("sim+gpio://?doors=2&pulse_ms=60&max_energised_ms=200")
    sim = bank.sim
    sim.solenoid_pin(1).state = True      # not through unlock(): another process, a bug...
    assert sim.energised(1)
    assert sim.wait_until(lambda: not sim.energised(1), WAIT)
    (off,) = relay_entries(sim, 1, "relay_off")
    # Seen on at the latest one watch period after it went on; cut at 200 ms after the look before.
    assert 200 - WATCH_PERIOD_S * 1000 - 5 <= off.detail["ms"] < 1000
    assert bank.stats == {"pulses": 0, "forced_off_by_watchdog": 1}


def test_watchdog_enforces_the_maximum_when_the_pulse_timer_is_stuck(make_bank, monkeypatch):
    bank, _ = make_bank("sim+gpio://?doors=2&pulse_ms=60&max_energised_ms=200")
    sim = bank.sim
    monkeypatch.setattr(bank, "_end_pulses", lambda now: None)   # the first line of defence fails
    bank.unlock(2)
    assert sim.wait_until(lambda: relay_entries(sim, 2, "relay_off"), WAIT)
    (off,) = relay_entries(sim, 2, "relay_off")
    assert 199 <= off.detail["ms"] < 1000
    assert bank.stats == {"pulses": 1, "forced_off_by_watchdog": 1}


def test_unlocking_an_energised_relay_never_extends_it_past_the_maximum(make_bank):
    bank, _ = make_bank("sim+gpio://?doors=1&pulse_ms=150&max_energised_ms=150")
    sim = bank.sim
    bank.unlock(1)
    give_up = time.monotonic() + WAIT
    while sim.energised(1) and time.monotonic() < give_up:
        bank.unlock(1)   # somebody keeps pressing "open"; paced by the wait below
        sim.wait_until(lambda: not sim.energised(1), timeout=0.01)
    assert not sim.energised(1)
    assert sim.history.count("relay 1", "relay_on") == 1
    assert relay_entries(sim, 1, "relay_off")[0].detail["ms"] < 300
    assert bank.stats["forced_off_by_watchdog"] == 0   # the capped pulse timer ended it


def test_make_safe_turns_an_energised_relay_off_now(make_bank):
    bank, _ = make_bank("sim+gpio://?doors=1&pulse_ms=2000&max_energised_ms=2000")
    bank.unlock(1)
    assert bank.sim.energised(1)
    bank.make_safe()
    assert not bank.sim.energised(1)
    assert relay_entries(bank.sim, 1, "relay_off")[0].detail["ms"] < 1000


# --- debounce ---------------------------------------------------------------------------------

def test_contact_bounce_within_bounce_ms_gives_one_change(make_bank):
    bank, changes = make_bank("sim+gpio://?doors=1&bounce_ms=30")
    changes.take(1)
    pin = bank.sim.sensor_pin(1)   # closed = low; the contact chatters, then stays open
    for _ in range(5):
        pin.drive_high()
        pin.drive_low()
    pin.drive_high()
    last_edge = time.monotonic()
    assert changes.next() == (1, OPEN)
    assert changes.last.monotonic >= last_edge + 0.030 - 0.002   # reported once it held still
    assert changes.pending() == []


def test_a_glitch_within_bounce_ms_is_not_a_door_movement(make_bank):
    bank, changes = make_bank("sim+gpio://?doors=1&bounce_ms=30")
    changes.take(1)
    pin = bank.sim.sensor_pin(1)
    pin.drive_high()
    pin.drive_low()                 # a spike on the line; the door never moved
    opened = time.monotonic()       # before the edge: a pause of this thread cannot shrink the gap
    bank.sim.doors.force_open(1)    # then it really opens
    assert changes.next() == (1, OPEN)
    assert changes.pending() == []  # not OPEN, CLOSED, OPEN
    assert changes.last.monotonic >= opened + 0.030 - 0.002


# --- configuration and loading ----------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "gpio://?solenoids=17,27&doors=22",                           # one sensor short
    "gpio://?solenoids=17,27&doors=22,17",                        # a pin in both lists
    "gpio://?solenoids=17,17&doors=22,23",                        # a pin twice in one list
    "gpio://?solenoids=17&doors=22&pulse_ms=600&max_energised_ms=500",
    "gpio://?solenoids=17&doors=22&colour=red",                   # unknown parameter
    "gpio://?solenoids=17&doors=40",                              # not on the header
    "gpio://?solenoids=17",                                       # no sensors at all
    "gpio://?solenoids=17&doors=22&door_closed=sideways",
    "gpio://?solenoids=17&doors=22&factory=mock",                 # no mock through config
    "sim+gpio://?doors=13",                                       # more than the header holds
    "sim+gpio://?doors=2&pulse_ms=900&max_energised_ms=800",
    "sim+gpio://?doors=2&typo=1",
])
def test_bad_urls_are_rejected(url, factory):
    with pytest.raises(DeviceURLError):
        create("locks", url, pin_factory=factory)


def _on_a_raspberry_pi() -> bool:
    model = Path("/proc/device-tree/model")
    return model.exists() and "Raspberry Pi" in model.read_text(errors="replace")


@pytest.mark.skipif(_on_a_raspberry_pi(), reason="the backends may really load here")
@pytest.mark.parametrize("backend", ["lgpio", "rpigpio", "pigpio", "native"])
def test_a_backend_that_cannot_load_is_unavailable_never_a_mock(backend):
    default_before = gpiozero.Device.pin_factory
    with pytest.raises(DeviceUnavailable, match=f"factory={backend}"):
        bank = create("locks", f"gpio://?solenoids=17&doors=22&factory={backend}")
        try:
            bank.open()   # a backend that imports but finds no Pi fails here
        finally:
            bank.close()
    assert gpiozero.Device.pin_factory is default_before   # no default factory was set up


def test_pins_already_claimed_are_an_init_error(factory):
    first = LockBankGpio([5], [20], pin_factory=factory)
    second = LockBankGpio([6], [20], pin_factory=factory)   # its sensor is first's
    first.open()
    try:
        with pytest.raises(DeviceInitError, match="GPIO20") as failure:
            second.open()
        assert not second.is_open
        # Its relay pin was given back at once, not when the garbage collector gets to it
        # (``failure`` keeps the traceback, and so the half-built devices, alive meanwhile).
        gpiozero.OutputDevice(6, pin_factory=factory).close()
        del failure
    finally:
        first.close()


# --- lifecycle --------------------------------------------------------------------------------

def test_unlock_checks_the_door_number_and_that_the_bank_is_open(make_bank):
    bank, _ = make_bank()
    for door in (0, 4, True):
        with pytest.raises(ValueError):
            bank.unlock(door)
    bank.close()
    with pytest.raises(DeviceClosed):
        bank.unlock(1)


def test_close_is_idempotent_turns_relays_off_and_leaves_no_threads(make_bank):
    bank, changes = make_bank("sim+gpio://?doors=2&pulse_ms=1000&max_energised_ms=2000")
    sim, pin_factory = bank.sim, bank.sim.factory
    bank.unlock(1)
    assert sim.energised(1)
    bank.close()
    assert not sim.energised(1)
    assert relay_entries(sim, 1, "relay_off")[0].detail["ms"] < 1000   # cut by close, not the timer
    bank.close()
    assert not bank.is_open
    assert not [t.name for t in threading.enumerate() if t.name.startswith(OUR_THREADS)]
    assert not pin_factory.pins
    assert bank.door_states() == {1: DoorState.UNKNOWN, 2: DoorState.UNKNOWN}
    bank.open()   # and it comes back
    bank.unlock(2)
    while changes.next() != (2, OPEN):
        pass


def test_the_registry_builds_a_simulated_gpio_bank(make_bank):
    bank, changes = make_bank("sim+gpio://?doors=3&pulse_ms=60")
    assert isinstance(bank, LockBankGpio) and isinstance(bank, LockBank)
    assert bank.door_count == 3
    assert "sim+gpio://" in repr(bank) and "GPIO2,GPIO3,GPIO4" in repr(bank) and "open" in repr(bank)
    changes.take(3)
    bank.unlock(3)
    assert changes.next() == (3, OPEN)


def test_repr_says_what_and_where(factory):
    bank = LockBankGpio([17, 27], [22, 23], pin_factory=factory)
    text = repr(bank)
    assert "solenoids=GPIO17,GPIO27" in text and "sensors=GPIO22,GPIO23" in text
    assert "factory=MockFactory" in text and text.endswith("closed>")
