"""An emulated USB keyboard-wedge scanner: the kernel's input-event stream, without a kernel.

Containers and CI have no /dev/uinput, so this emulator plays the part of the evdev node
itself: ``open_device(path)`` returns an object with the members the driver's thin evdev
layer has (``fd``, ``name``, ``grab()``, ``close()``), whose ``fd`` is a pipe carrying packed
``struct input_event`` records, the bytes the kernel would hand over. The driver decodes
them exactly as it decodes a real scanner's.

It also plays the kernel's grab rule: while a reader holds the grab, keystrokes go to that
reader alone; while nobody does, they also reach "the console" (``leaked``, and a
"leaked" history entry): a scan typed into the kiosk's screen or a shell prompt.

Control API: ``scan(data)`` types a code the way a scanner does (Shift for capitals,
AltGr on a German layout, Ctrl+] for GS, Alt + keypad digits for bytes the layout cannot
type, then Enter), ``key_delay_s`` sets the typing speed. Faults: ``partial()`` (no Enter),
``garbage()`` (random bytes in the stream), ``drop()`` (SYN_DROPPED: the kernel lost events),
``disconnect()``/``reconnect()`` (unplug: the stream ends, the node disappears).

``hid_sim`` builds the ``sim+hid://`` device: this emulator plus the real driver::

    sim+hid://?layout=us&key_delay_ms=0 (and every hid:// parameter)
"""

from __future__ import annotations

import os
import random
import select
import threading
import time

from drivers.scanners import aim as aim_ids
from drivers.scanners.base import base_options
from drivers.scanners.hid import ScannerHid
from drivers.scanners.input_events import EV_KEY, EV_MSC, EV_SYN, SYN_DROPPED, SYN_REPORT, pack
from drivers.scanners.keymap import CTRLS, KEY_ENTER, KEY_LEFTALT, KEY_RIGHTALT, KEYPAD_DIGITS, LAYOUTS
from hwsim.history import History
from kiosk.devices.url import DeviceURL
from kiosk.errors import DeviceInitError, DeviceUnavailable

SOURCE = "hid-scanner"
KEY_LEFTSHIFT, KEY_LEFTCTRL = 42, min(CTRLS)
MSC_SCAN = 4
_DIGIT_KEYS = {d: code for code, d in KEYPAD_DIGITS.items()}


class _SimNode:
    """One open of the emulated node (what ``evdev.InputDevice`` is for a real one)."""

    def __init__(self, sim: "KeyboardWedgeSim", read_fd: int, write_fd: int):
        self.fd, self._write_fd, self._sim = read_fd, write_fd, sim
        self.name = sim.name
        self.closed = False

    def grab(self) -> None:
        self._sim._grab(self)

    def close(self) -> None:
        self._sim._release(self)


class KeyboardWedgeSim:
    """A scanner that types codes into an input-event stream."""

    name = "HWSIM Barcode Scanner Keyboard"

    def __init__(self, layout: str = "us", *, key_delay_s: float = 0.0, history: History | None = None,
                 path: str = "/dev/input/by-id/usb-HWSIM_Barcode_Scanner-event-kbd", seed: int = 0):
        """Raises ValueError for an unknown layout."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")
        self.layout, self.key_delay_s, self.path = layout, key_delay_s, path
        self.history = history or History()
        self.rng = random.Random(seed)
        self.plugged = True
        self.leaked: list[bytes] = []      # what reached the console while nobody held the grab
        self._nodes: list[_SimNode] = []
        self._grabber: _SimNode | None = None
        self._lock = threading.RLock()
        self._reverse = self._reverse_map(LAYOUTS[layout])

    def __repr__(self) -> str:
        return f"<KeyboardWedgeSim {self.layout} {'plugged' if self.plugged else 'unplugged'} open={len(self._nodes)}>"

    # --- the node -----------------------------------------------------------------------------

    def open_device(self, path: str) -> _SimNode:
        """Open the emulated node. Raises DeviceUnavailable while unplugged or for another path."""
        with self._lock:
            if not self.plugged or path != self.path:
                raise DeviceUnavailable(f"hid scanner: no input device {path!r}")
            read_fd, write_fd = os.pipe()
            os.set_blocking(write_fd, False)
            node = _SimNode(self, read_fd, write_fd)
            self._nodes.append(node)
            self.history.record(SOURCE, "opened", open=len(self._nodes))
            return node

    @property
    def grabbed(self) -> bool:
        return self._grabber is not None

    def _grab(self, node: _SimNode) -> None:
        with self._lock:
            if self._grabber not in (None, node):
                raise DeviceInitError(f"hid scanner {self.name!r} is grabbed by another process")
            self._grabber = node
            self.history.record(SOURCE, "grabbed")

    def _release(self, node: _SimNode) -> None:
        with self._lock:
            if node.closed:
                return
            node.closed = True
            if self._grabber is node:
                self._grabber = None
                self.history.record(SOURCE, "ungrabbed")
            if node in self._nodes:
                self._nodes.remove(node)
                os.close(node._write_fd)
            os.close(node.fd)
            self.history.record(SOURCE, "closed", open=len(self._nodes))

    # --- typing ---------------------------------------------------------------------------------

    def scan(self, data: str | bytes, symbology: str | None = None) -> None:
        """Type ``data`` and Enter, as a scanner does after a good read. With ``symbology``,
        its AIM identifier is typed first. Raises ValueError for a character the scanner
        cannot type on this layout; RuntimeError when unplugged."""
        prefix = aim_ids.identifier_for(symbology) if symbology else ""
        self._type(self._strokes(prefix, data) + [((), KEY_ENTER)], "scan", size=len(data))

    def partial(self, data: str | bytes) -> None:
        """Type ``data`` without the Enter (the scanner was unplugged mid-code)."""
        self._type(self._strokes("", data), "partial", size=len(data))

    def garbage(self, n: int = 100) -> bytes:
        """Random bytes into the stream: not something a kernel does; the driver must survive it."""
        noise = bytes(self.rng.randrange(256) for _ in range(n))
        self._send(noise, "garbage", size=n)
        return noise

    def drop(self) -> None:
        """The kernel's SYN_DROPPED: the reader was too slow and events were lost."""
        self._send(pack(EV_SYN, SYN_DROPPED, 0, time.time()), "dropped")

    def disconnect(self) -> None:
        """Unplug: every open stream ends (the driver reads end-of-stream) and opens fail."""
        with self._lock:
            self.plugged = False
            for node in self._nodes:
                os.close(node._write_fd)
            self._nodes.clear()
            self._grabber = None
            self.history.record(SOURCE, "unplugged")

    def reconnect(self) -> None:
        with self._lock:
            self.plugged = True
            self.history.record(SOURCE, "plugged")

    # --- encoding ---------------------------------------------------------------------------------

    @staticmethod
    def _reverse_map(table: dict[int, tuple]) -> dict[str, tuple[tuple[int, ...], int]]:
        reverse: dict[str, tuple[tuple[int, ...], int]] = {}
        for modifiers, level in (((), 0), ((KEY_LEFTSHIFT,), 1), ((KEY_RIGHTALT,), 2)):
            for code, chars in sorted(table.items()):
                if level < len(chars) and chars[level] is not None:
                    reverse.setdefault(chars[level], (modifiers, code))
        return reverse

    def _strokes(self, prefix: str, data: str | bytes) -> list[tuple[tuple[int, ...], int | tuple]]:
        """(modifiers held, key) pairs; a key that is a tuple is an Alt + keypad code."""
        chars = list(prefix) + (list(data) if isinstance(data, str) else [chr(b) for b in data])
        strokes = []
        for ch in chars:
            if ch in self._reverse and (isinstance(data, str) or ord(ch) < 0x80):
                strokes.append(self._reverse[ch])
            elif ch == "\x1d":  # GS, GS1's separator: Ctrl + ]
                strokes.append(((KEY_LEFTCTRL,), 27))
            elif ord(ch) < 256:  # the scanner's Alt mode: Alt + 0nnn on the keypad
                strokes.append(((KEY_LEFTALT,), tuple(_DIGIT_KEYS[int(d)] for d in f"0{ord(ch):03d}")))
            else:
                raise ValueError(f"a scanner on a {self.layout} layout cannot type {ch!r}")
        return strokes

    def _type(self, strokes: list, kind: str, **detail) -> None:
        self.history.record(SOURCE, kind, keys=len(strokes), **detail)
        for modifiers, key in strokes:
            records = [pack(EV_KEY, m, 1) + pack(EV_SYN, SYN_REPORT, 0) for m in modifiers]
            for code in (key if isinstance(key, tuple) else (key,)):
                records += [pack(EV_MSC, MSC_SCAN, 0x70000 + code) + pack(EV_KEY, code, 1) + pack(EV_SYN, SYN_REPORT, 0),
                            pack(EV_KEY, code, 0) + pack(EV_SYN, SYN_REPORT, 0)]
            records += [pack(EV_KEY, m, 0) + pack(EV_SYN, SYN_REPORT, 0) for m in reversed(modifiers)]
            self._send(b"".join(records), None)
            if self.key_delay_s:
                time.sleep(self.key_delay_s)  # the scanner's typing speed, not a test waiting

    def _send(self, data: bytes, kind: str | None, **detail) -> None:
        with self._lock:
            if not self.plugged:
                raise RuntimeError(f"{self!r}: cannot type, the scanner is unplugged")
            if kind:
                self.history.record(SOURCE, kind, **detail)
            targets = [self._grabber] if self._grabber else list(self._nodes)
            if self._grabber is None:
                self.leaked.append(data)
                self.history.record(SOURCE, "leaked", size=len(data))
            for node in targets:
                self._write(node, data)

    def _write(self, node: _SimNode, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + 2.0
        while view:
            try:
                view = view[os.write(node._write_fd, view):]
            except BlockingIOError:  # the reader is behind; a kernel would drop events here
                if time.monotonic() > deadline:
                    self.history.record(SOURCE, "overflow", lost=len(view))
                    return
                select.select([], [node._write_fd], [], 0.1)


def hid_sim(url: DeviceURL, **context) -> ScannerHid:
    """The ``sim+hid://`` device: an emulated wedge scanner with the real driver reading it.
    The emulator is on ``scanner.sim``. Raises DeviceURLError."""
    options = ScannerHid.options_from_url(url)
    delay = url.int("key_delay_ms", 0, lo=0, hi=1000)
    url.reject_unknown()
    sim = KeyboardWedgeSim(options["layout"], key_delay_s=delay / 1000)
    scanner = ScannerHid(sim.path, url=url.raw, opener=sim.open_device, **options, **base_options(context))
    scanner.sim = sim
    return scanner


def _check_hid_sim(url: DeviceURL) -> None:
    ScannerHid.options_from_url(url)
    url.int("key_delay_ms", 0, lo=0, hi=1000)


hid_sim.check_url = _check_hid_sim
