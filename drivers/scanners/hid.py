"""Scanner driver for USB keyboard-wedge (HID keyboard mode) barcode scanners, via evdev.

URL grammar (every parameter optional)::

    hid:///dev/input/by-id/usb-Datalogic_Scanner-event-kbd?layout=us&grab=1&end=enter
        &aim=0&dedupe_ms=1500&max_len=2048&gap_ms=250

    layout     the keyboard layout the SCANNER is set to type in: us (default), de
    grab       1 (default): take the device for the kiosk alone (EVIOCGRAB), so a scan is
               never also typed into the screen or a console; 0 only for debugging
    end        the key the scanner ends a code with: enter (default), tab
    aim        1: the scanner types an AIM identifier (]Q1 ...) first; it fills
               Scan.symbology and is stripped, and a code without one is dropped
    dedupe_ms  a code read again within this long after its last read is dropped; 0: never
    max_len    longest code accepted, bytes
    gap_ms     keys stopping this long without the end key drop the code (partial)

Use the ``/dev/input/by-id/...-event-kbd`` name: it is stable across reboots and
re-plugging, and after an unplug the driver reopens it until the scanner is back.

How it reads: python-evdev opens and grabs the node (``evdev_device``); the driver then
reads the kernel's ``struct input_event`` records from the descriptor itself and decodes
them through the layout's key map (``keymap``). The emulator (``hwsim.scanners.keyboard``)
hands the driver a pipe carrying the same records in place of the node.
"""

from __future__ import annotations

import errno
import os
import select
from collections.abc import Callable

from drivers.scanners import aim as aim_ids
from drivers.scanners.base import READ_SLICE_S, DeviceLost, ScannerBase, base_options
from drivers.scanners.evdev_device import EvdevDevice, InputDevice
from drivers.scanners.input_events import SIZE, EventStream
from drivers.scanners.keymap import ENDS, LAYOUTS, KeyDecoder
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceURLError

READ_RECORDS = 256  # records per read: a 300-character code with Shift is ~2,000 records


class ScannerHid(ScannerBase):
    """A keyboard-wedge barcode scanner. See the module docstring for the URL.

    ``open()`` raises DeviceUnavailable (no such node, python-evdev missing),
    DeviceInitError (no permission, not a keyboard, grabbed by another process).
    ``stats``: scans, duplicates, keys, frames, empty, partial, overlong, unmapped,
    garbage (no AIM identifier when one was required), dropped_events, disconnects,
    reconnects."""

    kind = "hid-scanner"

    def __init__(self, path: str, *, layout: str = "us", grab: bool = True, end: str = "enter",
                 aim: bool = False, dedupe_ms: int = 1500, max_len: int = 2048, gap_ms: int = 250,
                 url: str | None = None, opener: Callable[[str], InputDevice] | None = None, **base):
        """``opener(path)`` opens the device (default: python-evdev). Raises ValueError for
        an unknown layout or end key."""
        super().__init__(url or f"hid://{path}", dedupe_ms=dedupe_ms, **base)
        self.path, self.grab, self.aim = path, grab, aim
        self._decoder = KeyDecoder(layout, end=end, max_len=max_len, gap_s=gap_ms / 1000)
        self._stream = EventStream()
        self._opener = opener or EvdevDevice.open
        self._dev: InputDevice | None = None
        self._counts["garbage"] = 0   # health() reads zeros, not absences

    # --- URL ---------------------------------------------------------------------------------

    @classmethod
    def options_from_url(cls, url: DeviceURL) -> dict:
        """The keyword arguments the URL's query asks for. Raises DeviceURLError."""
        return dict(
            layout=url.choice("layout", tuple(LAYOUTS), "us"),
            grab=url.bool("grab", True),
            end=url.choice("end", tuple(ENDS), "enter"),
            aim=url.bool("aim", False),
            dedupe_ms=url.int("dedupe_ms", 1500, lo=0, hi=600_000),
            max_len=url.int("max_len", 2048, lo=1, hi=65536),
            gap_ms=url.int("gap_ms", 250, lo=10, hi=60_000),
        )

    @classmethod
    def from_url(cls, url: DeviceURL, **context) -> "ScannerHid":
        """Build (not open) the scanner a ``hid://`` URL describes. Raises DeviceURLError."""
        cls.check_url(url)
        return cls(url.path, url=url.raw, **cls.options_from_url(url), **base_options(context))

    @classmethod
    def check_url(cls, url: DeviceURL) -> None:
        """Check a hid:// URL without opening anything. Raises DeviceURLError."""
        if url.host or not url.path:
            raise DeviceURLError(f"{url.raw!r}: give the device as a path, "
                                 "e.g. hid:///dev/input/by-id/usb-...-event-kbd")
        cls.options_from_url(url)

    # --- ScannerBase hooks ---------------------------------------------------------------------

    def _connect(self) -> None:
        dev = self._opener(self.path)
        try:
            if self.grab:
                dev.grab()
        except BaseException:
            dev.close()
            raise
        self._dev = dev
        self._stream.reset()

    def _disconnect(self) -> None:
        if self._dev is not None:
            self._dev.close()
            self._dev = None

    def _pump(self) -> None:
        if self._dev is None:  # not connected: the reconnect loop calls _connect first
            raise DeviceLost("the device is not open")
        fd = self._dev.fd
        now = self._monotonic()
        try:
            ready, _, _ = select.select([fd], [], [], READ_SLICE_S)
            data = os.read(fd, SIZE * READ_RECORDS) if ready else None
        except OSError as err:  # ENODEV: the scanner was unplugged
            raise DeviceLost(errno.errorcode.get(err.errno or 0, str(err))) from err
        if data == b"":
            raise DeviceLost("end of the event stream")
        events = self._stream.feed(data) if data else []
        for code in self._decoder.feed(events, now):
            symbology = "unknown"
            if self.aim:
                parts = aim_ids.split(code)
                if parts is None:
                    self._count("garbage")
                    continue
                _, symbology, code = parts
                if not code:
                    self._count("empty")
                    continue
            self._deliver(code, symbology)

    def _reset(self) -> None:
        self._decoder.reset()
        self._stream.reset()

    def _stats_locked(self) -> dict[str, int]:
        # "empty" is counted on both sides (no keys; only an AIM identifier): add, not replace
        stats = dict(self._decoder.counts)
        for key, n in self._counts.items():
            stats[key] = stats.get(key, 0) + n
        return stats

    def __repr__(self) -> str:
        grab = "grabbed" if self.grab else "NOT grabbed"
        return f"<{type(self).__name__} {self.path!r} {self._decoder.layout} {grab} {self._state}>"
