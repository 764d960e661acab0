"""Shared behaviour of every Scanner driver; drivers fill narrow hooks.

The base class owns (with ``drivers.base.DeviceBase``: idempotent open/close, the context
manager, the closed-state check, the repr) the driver thread and its reconnect loop
(backoff between attempts, close() interrupting any wait), duplicate suppression,
subscriber fan-out, counters and ``health()``. A driver implements::

    _connect()     open the device; raise DeviceUnavailable (absent) or DeviceInitError
    _disconnect()  release it (must not raise)
    _pump()        one bounded piece of work: wait at most ~READ_SLICE_S for input, handle
                   it, return; raise DeviceLost when the device went away
    _reset()       forget a half-read code (after a reconnect)

``open()`` connects once in the caller's thread, so a wrong path or a missing permission
is an error at start-up, then starts the thread. After that, a device that goes away
(USB unplugged, a pty closed) is retried every RETRY_S[i] seconds, and ``health()`` says
so; subscribers hear nothing until it is back.
"""

from __future__ import annotations

import collections
import logging
from abc import abstractmethod
import threading
import time
from collections.abc import Callable

from drivers.base import DeviceBase
from kiosk.devices.wire import WireLog
from kiosk.devices.roles import Scan
from kiosk.errors import DeviceError

log = logging.getLogger(__name__)

READ_SLICE_S = 0.05                     # the longest a pump may block: close() latency
RETRY_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)  # reconnect backoff, the last value repeating


def base_options(context: dict) -> dict:
    """The part of a registry ``context`` a scanner takes (``monotonic``, for tests)."""
    return {key: context[key] for key in ("monotonic",) if key in context}


class DeviceLost(Exception):
    """Raised by ``_pump`` when the device went away (unplugged, port closed)."""


class DuplicateFilter:
    """Drops a payload seen again within ``window`` seconds of its last sighting.

    "Last sighting", not "last delivery": a code held in front of a camera, or a scanner
    in continuous mode repeating it, stays suppressed for as long as it keeps coming,
    and is delivered again once it was away for a whole window."""

    def __init__(self, window: float):
        self.window = window
        self._last: dict[bytes, float] = {}

    def is_duplicate(self, data: bytes, now: float) -> bool:
        if self.window <= 0:
            return False
        last = self._last.get(data)
        self._last[data] = now
        if len(self._last) > 256:  # forget codes not seen for a window
            self._last = {k: t for k, t in self._last.items() if now - t <= self.window}
        return last is not None and now - last <= self.window


class ScannerBase(DeviceBase):
    """Base of the scanner drivers. ``stats`` names what each driver counts.

    ``open()`` connects and starts reading; it raises DeviceUnavailable (no such device,
    missing package) or DeviceInitError (cannot open it). ``close()`` stops reading and
    releases the device; it never raises DeviceError. Both are idempotent."""

    kind = "scanner"

    def __init__(self, url: str, *, dedupe_ms: int = 1500, monotonic: Callable[[], float] = time.monotonic):
        super().__init__(url)
        self._monotonic = monotonic
        self._dedupe = DuplicateFilter(dedupe_ms / 1000)
        self._subscribers: list[Callable[[Scan], None]] = []
        # every key present from the start: health() reads zeros, not absences
        self._counts = collections.Counter(dict.fromkeys(("scans", "duplicates", "disconnects", "reconnects",
                                                           "errors"), 0))
        self._lock = threading.Lock()          # counters, health
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._state, self._detail, self._since = "closed", "", monotonic()
        # Every code read, for the technician: when, what kind, how long — never the bytes
        # (a recipient's phone code carries their secret; a token's id is a credential).
        self.wire = WireLog()

    # --- the Scanner role ------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Scan], None]) -> None:
        """Call ``callback(scan)`` from the driver's thread for every new code."""
        self._subscribers.append(callback)

    def health(self) -> dict:
        """``state`` (connected, reconnecting, closed), ``ok``, ``detail`` (why not ok),
        ``since`` (monotonic time of the last change), ``reconnects`` and the counters."""
        with self._lock:
            return {"state": self._state, "ok": self._state == "connected", "detail": self._detail,
                    "since": self._since, **self._stats_locked()}

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            return self._stats_locked()

    # --- DeviceBase hooks -----------------------------------------------------------------

    def _open_device(self) -> None:
        self._stop.clear()
        self._connect()
        self._set_state("connected")
        # Started before open() marks the device open; _run checks _stop, not is_open.
        self._threads = [threading.Thread(target=target, name=f"{name} {self.url}", daemon=True)
                         for name, target in self._thread_targets()]
        for thread in self._threads:
            thread.start()

    def _close_device(self) -> None:
        self._stop.set()
        self._wake()
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._disconnect()
        self._set_state("closed")

    def _repr_state(self) -> str:
        return self._state

    # --- for drivers ---------------------------------------------------------------------

    def _thread_targets(self) -> list[tuple[str, Callable[[], None]]]:
        """The threads ``open()`` starts; by default one running the reconnect loop."""
        return [(self.kind, self._run)]

    def _wake(self) -> None:
        """Make a blocked ``_pump`` return soon (close() calls it). Optional."""

    def _run(self) -> None:
        """Pump while connected; reconnect with backoff when the device is lost."""
        attempt = 0
        connected = True
        while not self._stop.is_set():
            try:
                if not connected:
                    self._connect()
                    connected, attempt = True, 0
                    self._count("reconnects")
                    self._set_state("connected")
                    log.info("%s: device back", self.url)
                self._pump()
            except (DeviceLost, DeviceError, OSError) as err:
                if connected:
                    log.warning("%s: device lost: %s", self.url, err)
                    self._disconnect()
                    self._reset()
                    self._count("disconnects")
                    connected = False
                self._set_state("reconnecting", f"{type(err).__name__}: {err}")
                self._stop.wait(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1
            except Exception:  # a bug: keep the kiosk alive, say so in health()
                log.exception("%s: scanner thread failed", self.url)
                self._count("errors")
                self._set_state("reconnecting", "driver error (see log)")
                self._disconnect()
                connected = False
                self._stop.wait(RETRY_S[-1])

    def _deliver(self, data: bytes, symbology: str) -> bool:
        """Hand a complete code to every subscriber unless it is a duplicate. True if delivered."""
        now = self._monotonic()
        if self._dedupe.is_duplicate(data, now):
            self._count("duplicates")
            self.wire.received(data, f"{symbology}, {len(data)} bytes: the same code again (dropped)", hidden=True)
            return False
        self.wire.received(data, f"{symbology}, {len(data)} bytes", hidden=True)
        self._count("scans")
        scan = Scan(data, symbology, self.url, now)
        for callback in list(self._subscribers):
            try:
                callback(scan)
            except Exception:  # a subscriber's bug must not kill the driver's thread
                log.exception("scan subscriber failed on a %s code", symbology)
        return True

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def _stats_locked(self) -> dict[str, int]:
        return dict(self._counts)

    def _set_state(self, state: str, detail: str = "") -> None:
        with self._lock:
            if state != self._state:
                self._state, self._since = state, self._monotonic()
            self._detail = detail

    @abstractmethod
    def _connect(self) -> None:
        """Open the device (raises DeviceLost while it is away)."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Release the device."""

    @abstractmethod
    def _pump(self) -> None:
        """Read what is there and deliver complete codes (raises DeviceLost)."""

    def _reset(self) -> None:
        pass
