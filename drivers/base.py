"""The lifecycle every device driver shares, whatever its role (gpiozero's GPIOBase idea).

``DeviceBase`` owns: the URL, idempotent and thread-safe ``open()``/``close()``, ``is_open``,
the context manager, the closed-state check and the repr. A role base
(``drivers.locks.base.LockBankBase``, ``drivers.scanners.base.ScannerBase``) fills two hooks::

    _open_device()   acquire the device; raise a DeviceError and leave nothing held on failure
    _close_device()  release it; called once per successful open, must not raise DeviceError

and may add to the repr with ``_repr_details()`` (what and where) and ``_repr_state()``.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Self

from kiosk.errors import DeviceClosed


class DeviceBase(ABC):
    def __init__(self, url: str):
        self.url = url
        self._is_open = False
        self._open_lock = threading.Lock()  # serialises open() and close()

    @property
    def is_open(self) -> bool:
        return self._is_open

    def open(self) -> None:
        """Acquire the device. Idempotent: opening an open device does nothing."""
        with self._open_lock:
            if self._is_open:
                return
            self._open_device()
            self._is_open = True

    def close(self) -> None:
        """Release the device. Idempotent: closing a closed device does nothing."""
        with self._open_lock:
            if not self._is_open:
                return
            self._is_open = False  # first: work racing the close sees a closed device
            self._close_device()

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        details = self._repr_details()
        return f"<{type(self).__name__} {self.url!r}{' ' + details if details else ''} {self._repr_state()}>"

    # --- for role bases and drivers --------------------------------------------------------

    def _check_open(self) -> None:
        """Raises DeviceClosed unless the device is open."""
        if not self._is_open:
            raise DeviceClosed(f"{self!r} is not open")

    def _repr_details(self) -> str:
        return ""

    def _repr_state(self) -> str:
        return "open" if self._is_open else "closed"

    @abstractmethod
    def _open_device(self) -> None:
        """Acquire the device (raises DeviceError)."""

    @abstractmethod
    def _close_device(self) -> None:
        """Release the device."""
