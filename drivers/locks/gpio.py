"""LockBankGpio: solenoid locks on relays and reed-switch door sensors on Raspberry Pi GPIO.

The URL and what each of its parameters means: drivers/locks/gpio_url.py.

Unlike a lock board, nothing on the GPIO header ends a pulse by itself, and a solenoid left
energised overheats. So the driver's own thread ends every pulse, and a watchdog in that
thread reads every output back and forces off any that has been on longer than
max_energised_ms, however it got there (for protection that survives a dead process, use a
relay board with hardware-timed pulses).

Debounce is done here, not with gpiozero's bounce_time, whose meaning differs by backend:
MockPin ignores it, RPi.GPIO and native drop edges for a while after one (and may drop the
last, leaving a wrong level), lgpio filters. Here every edge re-arms a settle deadline and the
level read when it expires is reported, so the last word is always the real level.

Pins come from an explicit factory: ``pin_factory=`` in the context (tests and hwsim pass a
MockFactory, which stays theirs) or the backend named by ``factory=``, which the driver builds
at open() and closes at close(). gpiozero's global default is never used, so a missing
backend is an error (DeviceUnavailable), never a silent mock.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from functools import partial
from typing import Any
from collections.abc import Sequence

from gpiozero import DigitalInputDevice, OutputDevice

from drivers.locks import gpio_url
from drivers.locks.base import LockBankBase
from drivers.locks.gpio_url import BACKENDS
from kiosk.devices.roles import DoorState
from kiosk.devices.url import DeviceURL
from kiosk.errors import (DeviceClosed, DeviceInitError, DeviceOperationError, DeviceUnavailable)

log = logging.getLogger(__name__)

WATCH_PERIOD_S = 0.05          # how often the watchdog reads the outputs back when idle
STOP_TIMEOUT_S = 5.0


def _load_backend(name: str) -> type:
    """Import the gpiozero backend ``name``. Raises DeviceUnavailable naming the missing package."""
    module_name, class_name, package = BACKENDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        missing = package or getattr(err, "name", None) or str(err)
        how = "pip install 'pickup-kiosk[pi]'" if name == "lgpio" else "install it"
        raise DeviceUnavailable(
            f"gpio factory={name} cannot load: the Python package {missing!r} is missing "
            f"({how}, or pick another factory=)") from err
    return getattr(module, class_name)


class LockBankGpio(LockBankBase):
    """A bank of doors wired straight to GPIO: one relay output and one sensor input per door.

    ``open()`` raises DeviceUnavailable (the backend cannot start: not a Pi, no access) and
    DeviceInitError (pins cannot be claimed); ``unlock()`` raises ValueError (no such door),
    DeviceClosed and DeviceOperationError. Door changes arrive through ``subscribe``.
    """

    def __init__(self, solenoids: Sequence[int], doors: Sequence[int], *, pin_factory: Any = None,
                 factory: str = "lgpio", relay_active_high: bool = True, door_closed: str = "low",
                 pull_up: bool | None = None, bounce_ms: int = 20, pulse_ms: int = 500,
                 max_energised_ms: int = 2000, occupancy: Sequence[int] = (), occupied_level: str = "high",
                 url: str | None = None):
        """Raises DeviceURLError for inconsistent settings, DeviceUnavailable when no
        ``pin_factory`` is given and the ``factory`` backend cannot be imported."""
        solenoids, doors = list(solenoids), list(doors)
        url = url or (f"gpio://?solenoids={','.join(map(str, solenoids))}&doors={','.join(map(str, doors))}"
                      f"&pulse_ms={pulse_ms}&max_energised_ms={max_energised_ms}")
        gpio_url.validate(url, solenoids, doors, factory, door_closed, bounce_ms, pulse_ms, max_energised_ms,
                  list(occupancy), occupied_level)
        super().__init__(url, len(solenoids))
        self._occupancy_pins = list(occupancy)
        self._occupied_high = occupied_level == "high"
        self._occupancy_inputs: list[DigitalInputDevice] = []
        self._solenoid_pins = solenoids
        self._sensor_pins = doors
        self._relay_active_high = relay_active_high
        self._closed_level = door_closed == "high"
        self._pull_up = (door_closed == "low") if pull_up is None else pull_up
        self._bounce_s = bounce_ms / 1000
        self._pulse_s = pulse_ms / 1000
        self._max_s = max_energised_ms / 1000
        self._backend_name = factory
        self._given_factory = pin_factory
        # Import now, so a missing package shows up when the config is loaded; build at open().
        self._backend = None if pin_factory is not None else _load_backend(factory)
        self._factory: Any = None
        self._relays: list[OutputDevice] = []
        self._sensors: list[DigitalInputDevice] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._on_since: list[float | None] = []   # when each output went on (None: off)
        self._off_at: list[float | None] = []     # when the current pulse ends
        self._settle_at: dict[int, float] = {}    # door -> when its sensor level counts
        self._last_watch = 0.0
        self._stats = {"pulses": 0, "forced_off_by_watchdog": 0}

    @classmethod
    def from_url(cls, url: DeviceURL, **context: Any) -> "LockBankGpio":
        """Build (not open) a bank from a gpio:// URL; ``context["pin_factory"]`` overrides factory=.
        Raises DeviceURLError, DeviceUnavailable (backend package missing)."""
        solenoids, doors, backend, settings = gpio_url.parse(url)
        return cls(solenoids, doors, pin_factory=context.get("pin_factory"), factory=backend,
                   url=url.raw, **settings)

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        """Check a gpio:// URL without touching any pin or backend (for check-config).
        Raises DeviceURLError."""
        solenoids, doors, backend, settings = gpio_url.parse(url)
        gpio_url.validate(url.raw, solenoids, doors, backend, settings["door_closed"], settings["bounce_ms"],
                  settings["pulse_ms"], settings["max_energised_ms"], list(settings["occupancy"]),
                  settings["occupied_level"])

    @staticmethod
    def url_settings(url: DeviceURL) -> dict[str, Any]:
        """The polarity and timing parameters gpio:// shares with sim+gpio://. Raises DeviceURLError."""
        return gpio_url.url_settings(url)

    # --- public extras -----------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """Counters: ``pulses`` (unlocks fired), ``forced_off_by_watchdog``."""
        with self._cond:
            return dict(self._stats)

    def occupancy(self) -> dict[int, bool | None]:
        """Each compartment's occupancy input now (True: a parcel inside); None for every
        door when no ``occupancy=`` pins are wired, or the bank is closed."""
        with self._cond:
            inputs = list(self._occupancy_inputs)
        if not inputs:
            return dict.fromkeys(range(1, self.door_count + 1))
        result: dict[int, bool | None] = {}
        for door, device in enumerate(inputs, 1):
            try:
                result[door] = bool(device.is_active)
            except Exception:   # noqa: BLE001 — a pin that cannot be read says nothing
                result[door] = None
        return result

    def _repr_details(self) -> str:
        factory = type(self._given_factory).__name__ if self._given_factory is not None else self._backend_name
        return (f"doors={self.door_count} solenoids={','.join(f'GPIO{p}' for p in self._solenoid_pins)}"
                f" sensors={','.join(f'GPIO{p}' for p in self._sensor_pins)} factory={factory}")

    # --- LockBankBase hooks ------------------------------------------------------------------

    def _open_hw(self) -> None:
        """Raises DeviceUnavailable (backend cannot start: not a Pi, no permission),
        DeviceInitError (pins cannot be claimed)."""
        factory = self._given_factory if self._given_factory is not None else self._build_factory()
        relays: list[OutputDevice] = []
        sensors: list[DigitalInputDevice] = []
        try:
            # Relays first, each created "off": after a crash or a power cut one may have been
            # left on, and nothing else should happen while a solenoid cooks.
            for pin in self._solenoid_pins:
                relays.append(OutputDevice(pin, active_high=self._relay_active_high,
                                           initial_value=False, pin_factory=factory))
            for door, pin in enumerate(self._sensor_pins, 1):
                sensor = DigitalInputDevice(pin, pull_up=self._pull_up, pin_factory=factory)
                sensors.append(sensor)
                sensor.when_activated = sensor.when_deactivated = partial(self._on_edge, door)
            occupancy = [DigitalInputDevice(pin, pull_up=None, active_state=self._occupied_high, pin_factory=factory)
                         for pin in self._occupancy_pins]
            sensors += occupancy
        except Exception as err:  # gpiozero raises a zoo (PinInvalidPin, GPIOPinInUse, OSError...)
            for device in relays + sensors:
                device.close()
            if factory is not self._given_factory:
                factory.close()
            raise DeviceInitError(f"{self.url!r}: cannot claim the GPIO pins: {err}") from err
        now = time.monotonic()
        with self._cond:
            self._factory, self._relays = factory, relays
            self._sensors = sensors[:len(self._sensor_pins)]
            self._occupancy_inputs = sensors[len(self._sensor_pins):]
            self._on_since = [None] * len(relays)
            self._off_at = [None] * len(relays)
            self._settle_at.clear()
            self._last_watch = now
            self._stopping = False
        for door in range(1, self.door_count + 1):
            self._report_door(door)
        # daemon: a bank somebody forgot to close must not hang the interpreter's exit
        self._thread = threading.Thread(target=self._run, name=f"LockBankGpio-watch-{id(self):x}", daemon=True)
        self._thread.start()

    def _close_hw(self) -> None:
        with self._cond:
            self._stopping = True
            self._all_off()
            devices = self._sensors + self._occupancy_inputs + self._relays
            self._relays, self._sensors, self._occupancy_inputs = [], [], []
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_TIMEOUT_S)
            if thread.is_alive():
                log.error("%r: watch thread did not stop within %.0f s", self, STOP_TIMEOUT_S)
        for device in devices:
            try:
                device.close()
            except Exception:
                log.exception("%r: closing %r failed", self, device)
        if self._factory is not None and self._factory is not self._given_factory:
            self._factory.close()
        self._factory = None

    def _unlock_hw(self, door: int) -> None:
        """Raises DeviceClosed (closing meanwhile), DeviceOperationError (the pin refused)."""
        i = door - 1
        with self._cond:
            if self._stopping or not self._relays:
                raise DeviceClosed(f"{self!r} is not open")
            relay = self._relays[i]
            now = time.monotonic()
            try:
                if relay.is_active:
                    # A pulse is in progress (or something else turned it on): extend it, but
                    # never past max_energised_ms from when it went on.
                    on_since = self._on_since[i]
                    since = on_since if on_since is not None else self._last_watch
                else:
                    relay.on()
                    since = now
            except Exception as err:
                raise DeviceOperationError(f"{self!r}: cannot drive GPIO{self._solenoid_pins[i]}: {err}") from err
            self._on_since[i] = since
            self._off_at[i] = min(now + self._pulse_s, since + self._max_s)
            self._stats["pulses"] += 1
            self._cond.notify_all()

    def _make_safe_hw(self) -> None:
        with self._cond:
            self._all_off()
            self._cond.notify_all()

    # --- the watch thread --------------------------------------------------------------------

    def _on_edge(self, door: int) -> None:
        # Called from gpiozero's (or the pin backend's) thread on every level change.
        with self._cond:
            self._settle_at[door] = time.monotonic() + self._bounce_s
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                settled = self._service()
                while not settled and not self._stopping:
                    self._cond.wait(self._next_wake())
                    settled = self._service()
                if self._stopping:
                    return
            for door in settled:  # outside the lock: subscribers may call back into us
                self._report_door(door)

    def _service(self) -> list[int]:
        """End due pulses, enforce the maximum, return the doors whose level has settled.
        Called with the lock held."""
        now = time.monotonic()
        self._end_pulses(now)
        self._enforce_max(now)
        settled = [door for door, due in self._settle_at.items() if due <= now]
        for door in settled:
            del self._settle_at[door]
        return settled

    def _end_pulses(self, now: float) -> None:
        for i, off_at in enumerate(self._off_at):
            if off_at is not None and now >= off_at:
                self._off(i)

    def _enforce_max(self, now: float) -> None:
        # The second line of defence: trust the outputs, not our bookkeeping.
        for i, relay in enumerate(self._relays):
            try:
                on = relay.is_active
            except Exception:
                log.exception("%r: cannot read back GPIO%d", self, self._solenoid_pins[i])
                continue
            if not on:
                self._on_since[i] = self._off_at[i] = None
                continue
            on_since = self._on_since[i]
            if on_since is None:
                # Energised behind our back: all we know is it was off at the last look.
                on_since = self._on_since[i] = self._last_watch
            if now - on_since >= self._max_s:
                log.warning("%r: door %d energised %.0f ms, over max_energised_ms: forcing it off",
                            self, i + 1, (now - on_since) * 1000)
                self._off(i)
                self._stats["forced_off_by_watchdog"] += 1
        self._last_watch = now

    def _next_wake(self) -> float:
        now = time.monotonic()
        deadlines = [now + WATCH_PERIOD_S, *self._settle_at.values()]
        deadlines += [t for t in self._off_at if t is not None]
        deadlines += [t + self._max_s for t in self._on_since if t is not None]
        return max(0.0, min(deadlines) - now)

    # --- helpers (lock held unless said otherwise) -------------------------------------------

    def _off(self, i: int) -> None:
        self._on_since[i] = self._off_at[i] = None
        try:
            self._relays[i].off()
        except Exception:  # keep going: the other outputs still need turning off
            log.exception("%r: cannot turn off GPIO%d", self, self._solenoid_pins[i])

    def _all_off(self) -> None:
        for i in range(len(self._relays)):
            self._off(i)

    def _report_door(self, door: int) -> None:
        """Read one sensor and report it. Called without the lock."""
        with self._cond:
            if not self._sensors:
                return  # closed meanwhile
            try:
                level = bool(self._sensors[door - 1].pin.state)
            except Exception as err:  # noqa: BLE001 — any backend's failure to read is an UNKNOWN door
                state, detail = DoorState.UNKNOWN, f"cannot read GPIO{self._sensor_pins[door - 1]}: {err}"
            else:
                state = DoorState.CLOSED if level == self._closed_level else DoorState.OPEN
                detail = ""
        self._report(door, state, detail)

    def _build_factory(self) -> Any:
        if self._backend is None:  # only when a pin_factory was given, which is used instead
            raise DeviceUnavailable(f"{self.url!r}: no gpio factory to build")
        try:
            return self._backend()
        except Exception as err:  # lgpio.error, RuntimeError, OSError, PinUnknownPi...
            raise DeviceUnavailable(
                f"{self.url!r}: gpio factory={self._backend_name} cannot start "
                f"(not a Raspberry Pi, or no access to its GPIO?): {err}") from err
