"""Door physics on gpiozero MockFactory pins, behind the real LockBankGpio driver.

URL grammar (scheme sim+gpio, see kiosk.devices.registry)::

    sim+gpio://?doors=4[&min_pulse_ms=50][&pulse_ms=500][&max_energised_ms=2000][&bounce_ms=20]
               [&relay_active_high=1][&door_closed=low][&pull_up=1][&occupancy_sensors=1]

    doors         number of doors, 1..12 (two header GPIOs each; UART pins 14/15 stay free),
                  1..8 with occupancy_sensors=1 (a third GPIO per door: an IR sensor that
                  reads high while a parcel is in the compartment)
    min_pulse_ms  how long a solenoid must be energised before its latch lets go (default 50)
    the rest      as for gpio:// (drivers/locks/gpio.py); they configure the real driver

The solenoid pins are a MockPin subclass that tells the simulator whenever its relay is
energised or released; each edge goes into the history at the moment the pin changes (its
``monotonic`` stamp is the benchmark's "pulse started"). Once a solenoid has been energised
for the door's min_pulse_ms the latch lets go (``Door.pulse``, whose "pulse" entry holds the
time that took) and the spring pushes the door ajar; the "relay_off" entry holds the full
pulse length. The sensor pins follow the doors as a reed switch would: a shut door closes the contact
and holds the line at the closed level; an open one leaves the line to the pull resistor.

Control API: ``sim.doors`` (a DoorBank: close, force_open, jam, leave_open, ...),
``sim.history``, ``sim.energised(door)``, ``sim.solenoid_pin(door)``, ``sim.sensor_pin(door)``,
``sim.wait_until(predicate, timeout)``.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from collections.abc import Callable, Sequence

from gpiozero.pins.mock import MockFactory, MockPin

from drivers.locks.gpio import LockBankGpio
from drivers.locks.gpio_url import MAX_ENERGISED_LIMIT_MS
from hwsim.doors import Door, DoorBank
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError

# Door n uses SOLENOID_PINS[n-1] and SENSOR_PINS[n-1]. GPIO2/3 have fixed pull-ups on a
# Pi, which suits outputs only, so they drive relays; 14/15 are left for a serial port.
SOLENOID_PINS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
SENSOR_PINS = (16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27)
MAX_DOORS = len(SOLENOID_PINS)
# With occupancy sensors: eight doors, three GPIOs each.
OCCUPANCY_LAYOUT = (SOLENOID_PINS[:8], SENSOR_PINS[:8], (10, 11, 12, 13, 24, 25, 26, 27))


class _SolenoidPin(MockPin):
    """A relay output that tells the simulator when its solenoid is energised or released."""

    def __init__(self, factory, info, sim: "GpioDoorSim | None" = None, door: int = 0):
        self._sim, self._door = sim, door
        self._energised = False
        self._quiet = False
        super().__init__(factory, info)

    @property
    def energised(self) -> bool:
        return self._energised

    def output_with_state(self, state):
        # Real backends (lgpio) claim an output and set its level in one call; MockPin sets the
        # function first, which would flash an active-low relay on for an instant.
        self._quiet = True
        try:
            super().output_with_state(state)
        finally:
            self._quiet = False
        self._update()

    def _set_function(self, value):
        super()._set_function(value)
        self._update()

    def _change_state(self, value):
        changed = super()._change_state(value)
        self._update()
        return changed

    def _update(self) -> None:
        # Only a driven output moves the relay. A pin released back to input keeps the relay
        # as it was: freeing a line on a Pi leaves it driving its last level, so a driver that
        # closes without switching off must show up here as a relay left energised.
        if self._quiet or self._sim is None or self._function != "output":
            return
        energised = bool(self._state) == self._sim.relay_active_high
        if energised != self._energised:
            self._energised = energised
            self._sim._relay_changed(self._door, energised, self.info.name)


class _SensorPin(MockPin):
    """A door sensor input: a reed switch whose contact is closed while the door is shut."""

    def __init__(self, factory, info, sim: "GpioDoorSim | None" = None, door: int = 0):
        self._sim, self._door = sim, door
        self._follow_lock = threading.RLock()
        super().__init__(factory, info)
        self.follow_door()

    def _set_pull(self, value):
        super()._set_pull(value)  # MockPin drives the line to the pull...
        self.follow_door()        # ...but a closed contact beats a pull resistor

    def follow_door(self) -> None:
        if self._sim is None or self._function != "input":
            return
        with self._follow_lock:
            closed_level = self._sim.door_closed == "high"
            if not self._sim.doors[self._door].is_open:
                level = closed_level
            elif self._pull in ("up", "down"):
                level = self._pull == "up"
            else:  # floating: model it as drifting away from the closed level
                level = not closed_level
            (self.drive_high if level else self.drive_low)()


class _OccupancyPin(MockPin):
    """An IR occupancy sensor's output: high while a parcel is in the compartment."""

    def __init__(self, factory, info, sim: "GpioDoorSim | None" = None, door: int = 0):
        self._sim, self._door = sim, door
        super().__init__(factory, info)
        self.follow_door()

    def follow_door(self) -> None:
        if self._sim is None:
            return
        (self.drive_high if self._sim.doors[self._door].occupied else self.drive_low)()


class GpioDoorSim:
    """Locker doors wired to the solenoid and sensor pins of one MockFactory."""

    def __init__(self, factory: MockFactory, solenoids: Sequence[int], sensors: Sequence[int], *,
                 relay_active_high: bool = True, door_closed: str = "low", min_pulse_ms: int = 50,
                 doors: DoorBank | None = None, occupancy: Sequence[int] = ()):
        if len(solenoids) != len(sensors) or not solenoids or (doors is not None and len(doors) != len(solenoids)):
            raise ValueError("one solenoid pin and one sensor pin per door")
        self.factory = factory
        self.solenoids, self.sensors = list(solenoids), list(sensors)
        self.occupancy = list(occupancy)
        self._occupancy_pins: dict[int, _OccupancyPin] = {}
        self.relay_active_high = relay_active_high
        self.door_closed = door_closed
        self.doors = doors or DoorBank(len(self.solenoids))
        self.history = self.doors.history
        for door in self.doors.doors.values():
            door.min_pulse_ms = min_pulse_ms
            door.on_change(self._door_changed)
        self._cond = threading.Condition()
        self._on_at: dict[int, float] = {}        # door -> monotonic when energised
        self._release_at: dict[int, float] = {}   # door -> when the latch lets go if still energised
        self._ended: list[tuple[int, float]] = [] # (door, ms) pulses that ended before that
        self._solenoid_pins: dict[int, _SolenoidPin] = {}
        self._sensor_pins: dict[int, _SensorPin] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.attach()

    def attach(self) -> None:
        """Put the simulated pins into the factory (again, after a reset). Raises ValueError
        if the factory already holds one of those pins as something else."""
        for door, (solenoid, sensor) in enumerate(zip(self.solenoids, self.sensors, strict=True), 1):
            self._solenoid_pins[door] = self._claim(solenoid, _SolenoidPin, door)
            self._sensor_pins[door] = self._claim(sensor, _SensorPin, door)
        for door, pin in enumerate(self.occupancy, 1):
            self._occupancy_pins[door] = self._claim(pin, _OccupancyPin, door)

    def open(self) -> None:
        """Start the physics thread (and re-attach the pins). Idempotent."""
        self.attach()
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name=f"hwsim-gpio-doors-{id(self):x}", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the physics thread. Idempotent; the pins stay with the factory."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)

    def __enter__(self) -> "GpioDoorSim":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        return f"<GpioDoorSim doors={len(self.doors)} solenoids={self.solenoids} sensors={self.sensors} {state}>"

    # --- control API ---------------------------------------------------------------------

    def energised(self, door: int) -> bool:
        return self._solenoid_pins[self.doors[door].number].energised

    def solenoid_pin(self, door: int) -> _SolenoidPin:
        return self._solenoid_pins[self.doors[door].number]

    def sensor_pin(self, door: int) -> _SensorPin:
        return self._sensor_pins[self.doors[door].number]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds, re-checking on every relay edge and door change."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    # --- physics -------------------------------------------------------------------------

    def _claim(self, number: int, cls: type, door: int) -> Any:
        pin = self.factory.pin(number, pin_class=cls, sim=self, door=door)
        if not isinstance(pin, cls) or pin._sim is not self:
            raise ValueError(f"GPIO{number} is already in {self.factory!r} as {type(pin).__name__}")
        return pin

    def _relay_changed(self, door: int, energised: bool, pin: str) -> None:
        # Called in whatever thread drove the pin (the driver's): record and hand over only.
        with self._cond:
            if energised:
                entry = self.history.record(f"relay {door}", "relay_on", pin=pin)
                self._on_at[door] = entry.monotonic
                self._release_at[door] = entry.monotonic + self.doors[door].min_pulse_ms / 1000
            else:
                now = time.monotonic()
                ms = (now - self._on_at.pop(door, now)) * 1000
                self.history.record(f"relay {door}", "relay_off", pin=pin, ms=round(ms, 1))
                if self._release_at.pop(door, None) is not None:
                    self._ended.append((door, ms))  # Door.pulse decides: too short, or just enough
            self._cond.notify_all()

    def _door_changed(self, door: Door) -> None:
        self._sensor_pins[door.number].follow_door()
        if door.number in self._occupancy_pins:
            self._occupancy_pins[door.number].follow_door()
        with self._cond:
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    jobs, wake_at = self._due(time.monotonic())
                    if jobs:
                        break
                    self._cond.wait(None if wake_at is None else max(0.0, wake_at - time.monotonic()))
            # Outside the lock: opening a door drives a sensor pin, which calls into the driver.
            for door, ms in jobs:
                self.doors[door].pulse(ms)
            with self._cond:
                self._cond.notify_all()

    def _due(self, now: float) -> tuple[list[tuple[int, float]], float | None]:
        jobs, self._ended = self._ended, []
        for door, due in list(self._release_at.items()):
            if due <= now:
                del self._release_at[door]
                jobs.append((door, (now - self._on_at[door]) * 1000))
        return jobs, min(self._release_at.values(), default=None)


class GpioSimBank(LockBankGpio):
    """The real GPIO driver on a private MockFactory, with the door physics as ``.sim``."""

    def __init__(self, sim: GpioDoorSim, **settings: Any):
        super().__init__(sim.solenoids, sim.sensors, pin_factory=sim.factory, **settings)
        self.sim = sim

    def _open_hw(self) -> None:
        self.sim.open()
        try:
            super()._open_hw()
        except BaseException:
            self.sim.close()
            raise

    def _close_hw(self) -> None:
        try:
            super()._close_hw()
        finally:
            self.sim.close()
            # The factory is this bank's alone: release every pin so nothing outlives it.
            self.sim.factory.close()
            self.sim.factory.reset()


def _sim_settings(url: DeviceURL) -> tuple[int, int, dict[str, Any]]:
    count = url.int("doors", 4, lo=1)
    if url.bool("occupancy_sensors", False) and count > len(OCCUPANCY_LAYOUT[0]):
        raise DeviceURLError(f"{url.raw!r}: doors={count}: with occupancy sensors the header has room for at "
                             f"most {len(OCCUPANCY_LAYOUT[0])} doors (three GPIOs each)")
    if count > MAX_DOORS:
        raise DeviceURLError(f"{url.raw!r}: doors={count}: the 40-pin header has room for at most "
                             f"{MAX_DOORS} doors (two GPIOs each, UART pins kept free)")
    min_pulse_ms = url.int("min_pulse_ms", 50, lo=0, hi=MAX_ENERGISED_LIMIT_MS)
    return count, min_pulse_ms, LockBankGpio.url_settings(url)


def gpio_sim(url: DeviceURL, **context: Any) -> LockBankGpio:
    """Build (not open) a simulated GPIO lock bank for a sim+gpio:// URL. Raises DeviceURLError."""
    count, min_pulse_ms, settings = _sim_settings(url)
    solenoids, sensors, occupancy = SOLENOID_PINS, SENSOR_PINS, ()
    if url.bool("occupancy_sensors", False):
        solenoids, sensors, occupancy = OCCUPANCY_LAYOUT
    settings["occupancy"] = tuple(occupancy[:count])
    factory = MockFactory()  # never gpiozero's global default: this bank's pins are its own
    try:
        sim = GpioDoorSim(factory, solenoids[:count], sensors[:count],
                          relay_active_high=settings["relay_active_high"],
                          door_closed=settings["door_closed"], min_pulse_ms=min_pulse_ms,
                          occupancy=occupancy[:count])
        return GpioSimBank(sim, url=url.raw, **settings)
    except BaseException:
        factory.close()
        factory.reset()
        raise


def _check_gpio_sim(url: DeviceURL) -> None:
    _sim_settings(url)


gpio_sim.check_url = _check_gpio_sim  # check-config: parse only, no MockFactory made
