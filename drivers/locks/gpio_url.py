"""The URL of a bank of solenoid locks on Raspberry Pi GPIO (``gpio://``), what it asks for,
and the checks a set of pins must pass before any is touched.

URL grammar::

    gpio://?solenoids=17,27&doors=22,23[&relay_active_high=1][&door_closed=low][&pull_up=1]
            [&bounce_ms=20][&pulse_ms=500][&max_energised_ms=2000][&factory=lgpio]
            [&occupancy=5,6][&occupied_level=high]

    solenoids          BCM numbers of the relay outputs, in door order (required)
    doors              BCM numbers of the door sensors, same length and order (required)
    relay_active_high  1: the relay energises on a high output (default); 0: on a low output,
                       as on the common opto-isolated relay boards
    door_closed        the level a shut door reads: low (reed switch to ground, default) or high
    pull_up            internal pull-up (1) or pull-down (0); default: up when door_closed=low
    bounce_ms          a sensor level must hold this long before it counts (default 20)
    pulse_ms           how long one unlock energises a solenoid (default 500)
    max_energised_ms   no output stays energised longer, whatever turned it on (default 2000)
    factory            gpiozero pin backend: lgpio (default), rpigpio, pigpio or native
    occupancy          optional: BCM numbers of one occupancy sensor (IR) input per door, same
                       order; lets a restart settle an opening it did not see finish
    occupied_level     the level an occupancy input reads with a parcel inside (default high)
"""

from __future__ import annotations

from typing import Any

from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError

# factory= name -> (gpiozero module, factory class, pip package that module imports)
BACKENDS = {
    "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory", "lgpio"),
    "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory", "RPi.GPIO"),
    "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory", "pigpio"),
    "native": ("gpiozero.pins.native", "NativeFactory", None),
}
HEADER_GPIOS = range(28)       # BCM GPIO0..27 are the ones on the 40-pin header
MAX_ENERGISED_LIMIT_MS = 10_000  # no locker solenoid needs longer; a bigger value is a typo


def parse(url: DeviceURL) -> tuple[list[int], list[int], str, dict[str, Any]]:
    solenoids = url.ints("solenoids")
    doors = url.ints("doors")
    settings = url_settings(url)
    backend = url.choice("factory", tuple(BACKENDS), "lgpio")
    if not solenoids or not doors:
        raise DeviceURLError(f"{url.raw!r}: solenoids= and doors= are both required")
    return solenoids, doors, backend, settings

def url_settings(url: DeviceURL) -> dict[str, Any]:
    """Read the polarity and timing parameters gpio:// shares with sim+gpio://.
    Raises DeviceURLError."""
    door_closed = url.choice("door_closed", ("low", "high"), "low")
    return {
        "relay_active_high": url.bool("relay_active_high", True),
        "door_closed": door_closed,
        "pull_up": url.bool("pull_up", door_closed == "low"),
        "bounce_ms": url.int("bounce_ms", 20, lo=0, hi=1000),
        "pulse_ms": url.int("pulse_ms", 500, lo=10, hi=MAX_ENERGISED_LIMIT_MS),
        "max_energised_ms": url.int("max_energised_ms", 2000, lo=10, hi=MAX_ENERGISED_LIMIT_MS),
        "occupancy": tuple(url.ints("occupancy", [])),
        "occupied_level": url.choice("occupied_level", ("high", "low"), "high"),
    }


def validate(url: str, solenoids: list[int], doors: list[int], factory: str, door_closed: str,
              bounce_ms: int, pulse_ms: int, max_energised_ms: int, occupancy: list[int] | None = None,
              occupied_level: str = "high") -> None:
    problems = []
    occupancy = occupancy or []
    if not solenoids or len(solenoids) != len(doors):
        problems.append(f"solenoids= and doors= need one pin per door each "
                        f"(got {len(solenoids)} and {len(doors)})")
    if occupancy and len(occupancy) != len(doors):
        problems.append(f"occupancy= needs one pin per door (got {len(occupancy)} for {len(doors)} doors)")
    if occupied_level not in ("high", "low"):
        problems.append(f"occupied_level={occupied_level!r} is not high or low")
    pins = solenoids + doors + occupancy
    repeated = sorted({p for p in pins if pins.count(p) > 1})
    if repeated:
        problems.append(f"pin(s) {', '.join(map(str, repeated))} used more than once")
    outside = sorted({p for p in pins if p not in HEADER_GPIOS})
    if outside:
        problems.append(f"pin(s) {', '.join(map(str, outside))} are not BCM GPIO 0..27")
    if factory not in BACKENDS:
        problems.append(f"factory={factory!r} is not one of {', '.join(BACKENDS)}")
    if door_closed not in ("low", "high"):
        problems.append(f"door_closed={door_closed!r} is not low or high")
    if bounce_ms < 0 or pulse_ms <= 0 or max_energised_ms <= 0:
        problems.append("bounce_ms must be >= 0, pulse_ms and max_energised_ms > 0")
    if pulse_ms > max_energised_ms:
        problems.append(f"pulse_ms={pulse_ms} is longer than max_energised_ms={max_energised_ms}")
    if problems:
        raise DeviceURLError(f"{url!r}: {'; '.join(problems)}")
