"""Faults the store emulator can be told to show, and the seeded dice that decide when.

    down                      stop listening: connections are refused, open ones are cut;
                              the port is kept and listened on again when the fault is cleared
    slow        seconds=S     wait S seconds before handling a request
    http_500                  answer 500 without handling the request
    timeout_after_processing  handle and commit, then mode="drop" (close without a reply,
                seconds=S     the default) or mode="hold" (reply only after S seconds, longer
                              than the client waits): the pickup point retries what the store has
    malformed_json            a 2xx reply whose body is broken: variant="truncated" (default),
                              "not_json" (an HTML page, as from a proxy) or "wrong_shape"
    bad_signature             signed documents fail to verify: variant="wrong_key" (default)
                              or "tampered" (changed after signing)
    out_of_order              manifest: a validly signed page that answers another cursor
                              than the one asked (its ``since`` differs); events: an ack
                              that leaves out one id of the batch and names one never sent
    rate_limit  retry_after=N 429 with Retry-After: N (default 1)

Every fault but ``down`` also takes ``p`` (probability per request, default 1), ``times``
(apply at most N times, then disarm) and ``path`` (apply only to request paths containing
it, e.g. "/events"). The dice are one ``random.Random`` seeded by the emulator's seed (or by
``seed=`` here), so a scenario run with the same seed sees the same faults. Faults apply
to the contract's paths only, never to the admin API.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

NAMES = ("down", "slow", "http_500", "timeout_after_processing", "malformed_json", "bad_signature",
         "out_of_order", "rate_limit")

_COMMON = {"p", "times", "path"}
_OWN: dict[str, dict[str, tuple]] = {     # parameter -> (type, allowed values or (min, max), default)
    "down": {},
    "slow": {"seconds": (float, (0.0, 600.0), 1.0)},
    "http_500": {},
    "timeout_after_processing": {"mode": (str, ("drop", "hold"), "drop"),
                                 "seconds": (float, (0.0, 600.0), 30.0)},
    "malformed_json": {"variant": (str, ("truncated", "not_json", "wrong_shape"), "truncated")},
    "bad_signature": {"variant": (str, ("wrong_key", "tampered"), "wrong_key")},
    "out_of_order": {},
    "rate_limit": {"retry_after": (int, (0, 86400), 1)},
}


@dataclass
class Fault:
    name: str
    params: dict
    p: float = 1.0
    times: int | None = None
    path: str | None = None


def _coerce(name: str, key: str, value, spec: tuple):
    kind, allowed, _default = spec
    try:
        if kind is str:
            if not isinstance(value, str):
                raise ValueError
            result = value
        elif isinstance(value, bool):
            raise ValueError
        else:
            result = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"fault {name}: {key} must be a {kind.__name__}") from None
    if kind is str and result not in allowed:
        raise ValueError(f"fault {name}: {key} must be one of {', '.join(allowed)}")
    if kind is not str and not allowed[0] <= result <= allowed[1]:
        raise ValueError(f"fault {name}: {key} must be in {allowed[0]}..{allowed[1]}")
    return result


def make_fault(name: str, params: dict) -> Fault:
    """A checked Fault. Raises ValueError for an unknown name or parameter, or a bad value."""
    if name not in _OWN:
        raise ValueError(f"unknown fault {name!r}; faults: {', '.join(NAMES)}")
    own = _OWN[name]
    if name == "down" and params:
        raise ValueError("fault down takes no parameters: the port is closed until the fault is cleared")
    unknown = set(params) - set(own) - _COMMON - {"seed"}
    if unknown:
        allowed = sorted(set(own) | _COMMON | {"seed"})
        raise ValueError(f"fault {name}: unknown parameter(s) {', '.join(sorted(unknown))}; "
                         f"allowed: {', '.join(allowed)}")
    values = {key: _coerce(name, key, params[key], spec) if key in params else spec[2] for key, spec in own.items()}
    p = _coerce(name, "p", params.get("p", 1.0), (float, (0.0, 1.0), 1.0))
    times = params.get("times")
    if times is not None:
        times = _coerce(name, "times", times, (int, (1, 10**9), None))
    path = params.get("path")
    if path is not None and (not isinstance(path, str) or not path):
        raise ValueError(f"fault {name}: path must be a non-empty string")
    return Fault(name, values, p, times, path)


class Faults:
    """The faults in force. Thread-safe; ``roll`` decides (and counts) one application."""

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._active: dict[str, Fault] = {}
        self._rng = random.Random(seed)

    def set(self, name: str, **params) -> Fault:
        """Put ``name`` in force (replacing its earlier parameters). Raises ValueError."""
        fault = make_fault(name, params)
        with self._lock:
            if "seed" in params:
                self._rng.seed(params["seed"])
            self._active[name] = fault
        return fault

    def clear(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._active.clear()
            else:
                self._active.pop(name, None)

    def active(self) -> dict[str, dict]:
        with self._lock:
            return {f.name: {**f.params, "p": f.p, "times": f.times, "path": f.path} for f in self._active.values()}

    def is_set(self, name: str) -> bool:
        with self._lock:
            return name in self._active

    def roll(self, name: str, path: str) -> dict | None:
        """The fault's parameters when it applies to this request (counted), else None."""
        with self._lock:
            fault = self._active.get(name)
            if fault is None or (fault.path is not None and fault.path not in path):
                return None
            if fault.p < 1.0 and self._rng.random() >= fault.p:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._active[name]
            return dict(fault.params)
