"""``kiosk check-config --probe``: talk to every configured device, read-only, and say
what answered.

A probe opens the device as the controller would, reads it, and closes it: a lock bank's
``open()`` de-energises every lock (its safe state) and reads every door — no door is
pulsed; a scanner is opened and its health read. Each result is one line a technician can
act on: what answered, or why not and what to do. Run it with the controller stopped:
serial ports are opened exclusively (a busy port is reported as such).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.devices import registry
from kiosk.errors import DeviceError


@dataclass(frozen=True)
class Probe:
    key: str        # the config key that names the device, e.g. "devices.locks"
    url: str
    ok: bool
    detail: str     # what it said, or why it did not answer


def probe_devices(devices: dict[str, str], desk_scanners: tuple[str, ...] = (), *,
                  while_open: Callable[[str, Any], None] | None = None, **context: Any) -> list[Probe]:
    """Probe every device of ``devices`` (role -> URL) and the desk's scanners;
    ``while_open(role, device)`` may read more from each device that opened."""
    targets = [(f"devices.{role}", role, url) for role, url in devices.items()]
    targets += [(f"counter.scanners[{i}]", "scanner", url) for i, url in enumerate(desk_scanners)
                if url != devices.get("scanner")]
    return [probe_one(key, role, url, while_open=while_open, **context) for key, role, url in targets]


def probe_one(key: str, role: str, url: str, *, while_open: Callable[[str, Any], None] | None = None,
              **context: Any) -> Probe:
    reader = _READERS.get(role)
    if reader is None:
        return Probe(key, url, True, f"no probe for the {role} role yet (URL checked only)")
    try:
        device = registry.create(role, url, **context)
    except (DeviceError, ValueError, OSError) as err:
        return Probe(key, url, False, str(err))
    try:
        device.open()
        result = Probe(key, url, True, reader(device))
        if while_open is not None:
            while_open(role, device)
        return result
    except (DeviceError, OSError) as err:
        return Probe(key, url, False, str(err))
    finally:
        try:
            device.close()
        except (DeviceError, OSError):
            pass


def _locks(bank: Any) -> str:
    states = bank.door_states()
    counts = Counter(state.value for state in states.values())
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    warning = ""
    if states and counts.get("open", 0) == len(states):
        warning = " — every door reads open: check the bank's polarity= setting"
    return f"{bank.door_count} doors answered ({summary}){warning}"


def _scanner(scanner: Any) -> str:
    health = scanner.health()
    problem = health.get("problem") or health.get("error")
    return f"opened; {problem}" if problem else "opened and reading"


_READERS = {"locks": _locks, "scanner": _scanner}
