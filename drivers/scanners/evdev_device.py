"""The thin evdev layer of the keyboard-wedge driver: open by path, check, grab, release.

Everything after that is reading ``struct input_event`` records from ``fd``, which the
driver does itself (``drivers.scanners.input_events``), so this is the only part that
needs python-evdev (PyPI: ``evdev-binary`` for wheels, or ``evdev``) and a real
/dev/input node. The emulator provides an object with the same four members instead.

Grabbing (EVIOCGRAB) is what keeps a scan from also being typed into the kiosk's screen or
a login prompt: while grabbed, the kernel gives this device's events to no one else.
"""

from __future__ import annotations

import errno
from typing import Protocol

from kiosk.errors import DeviceInitError, DeviceUnavailable


class InputDevice(Protocol):
    """What the driver needs from an opened input device."""

    fd: int
    name: str

    def grab(self) -> None: ...

    def close(self) -> None: ...


class EvdevDevice:
    """A /dev/input/event* node through python-evdev."""

    def __init__(self, dev) -> None:
        self._dev = dev
        self.fd: int = dev.fd
        self.name: str = dev.name
        self._grabbed = False

    @classmethod
    def open(cls, path: str) -> "EvdevDevice":
        """Open ``path`` and check it can type a code. Raises DeviceUnavailable (no node,
        no python-evdev), DeviceInitError (no permission: the kiosk user needs the
        ``input`` group; not an input device; a node that cannot type digits and Enter,
        e.g. the scanner's second, mouse-like interface)."""
        try:
            import evdev
        except ImportError as err:
            raise DeviceUnavailable("the hid scanner driver needs the Python package 'evdev-binary' "
                                    "(or 'evdev')") from err
        try:
            dev = evdev.InputDevice(path)
        except FileNotFoundError as err:
            raise DeviceUnavailable(f"hid scanner: no input device {path!r}") from err
        except PermissionError as err:
            raise DeviceInitError(f"hid scanner: no permission to read {path!r} "
                                  "(add the kiosk user to the 'input' group)") from err
        except OSError as err:  # ENOTTY: a file that is not an evdev node
            raise DeviceInitError(f"hid scanner: {path!r} is not an input device: {err}") from err
        keys = set(dev.capabilities().get(evdev.ecodes.EV_KEY, ()))
        needed = {evdev.ecodes.KEY_ENTER, evdev.ecodes.KEY_1, evdev.ecodes.KEY_0}
        if not needed <= keys:
            dev.close()
            raise DeviceInitError(f"hid scanner: {path!r} ({dev.name}) cannot type digits and Enter; "
                                  "a scanner may have several event nodes: use its -event-kbd one")
        return cls(dev)

    def grab(self) -> None:
        """Take the device's events for this process only. Raises DeviceInitError when
        another process holds the grab."""
        try:
            self._dev.grab()
        except OSError as err:
            if err.errno == errno.EBUSY:
                raise DeviceInitError(f"hid scanner {self.name!r} is grabbed by another process") from err
            raise DeviceInitError(f"hid scanner {self.name!r}: cannot grab: {err}") from err
        self._grabbed = True

    def close(self) -> None:
        """Release the grab and the node. Never raises (the device may be gone)."""
        try:
            if self._grabbed:
                self._dev.ungrab()
        except OSError:
            pass
        try:
            self._dev.close()
        except OSError:
            pass
