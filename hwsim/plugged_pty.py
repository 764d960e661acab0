"""A serial device behind a pty reached through a stable path, as udev gives one.

The real driver opens ``path``, a symlink to the pty as ``/dev/serial/by-id/...`` is a
symlink to ``/dev/ttyACM0``. That indirection is how an unplug is emulated:
``disconnect()`` closes the pty and removes the link (the driver's next read fails, its
reopen finds nothing), ``reconnect()`` makes a new pty and points the same path at it,
exactly what udev does when a device comes back. ``_write`` sends bytes (in pieces of
``chunk`` bytes, as a USB adapter delivers them) and records them in ``history``.
Subclasses (serial barcode scanners, 125 kHz RFID readers) add what their device sends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import tty

from hwsim.history import History


class PluggedPty:
    source = "serial"          # the History source name
    link_name = "usb-HWSIM_Serial-if00"

    def __init__(self, *, chunk: int = 0, history: History | None = None) -> None:
        self.chunk = chunk
        self.history = history or History()
        self._dir: str | None = None
        self.path: str | None = None   # the stable name the driver opens
        self._fds: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def start(self):
        """Create the path and plug the device in. Idempotent."""
        with self._lock:
            if self._dir is None:
                self._dir = tempfile.mkdtemp(prefix=f"hwsim-{self.source}-")
                self.path = os.path.join(self._dir, self.link_name)
            if self._fds is None:
                self._plug()
        return self

    def stop(self) -> None:
        """Unplug and remove the path. Idempotent."""
        with self._lock:
            self._unplug()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def plugged(self) -> bool:
        return self._fds is not None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path!r} {'plugged' if self.plugged else 'unplugged'}>"

    def send(self, data: bytes) -> None:
        """Raw bytes on the line. Raises RuntimeError when unplugged."""
        self._write(bytes(data), "raw", size=len(data))

    def disconnect(self) -> None:
        """Pull the cable: the pty and the path go away."""
        with self._lock:
            self._unplug()

    def reconnect(self) -> None:
        """Plug it back in: a new pty behind the same path. Raises RuntimeError if stopped."""
        with self._lock:
            if self._dir is None:
                raise RuntimeError(f"{self!r} is stopped")
            if self._fds is None:
                self._plug()

    def _plug(self) -> None:
        assert self.path is not None
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass as they are
        self._fds = (master, slave)
        tmp = self.path + ".new"
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)  # atomic: the driver never sees a half-made link
        self.history.record(self.source, "plugged", port=os.ttyname(slave), path=self.path)

    def _unplug(self) -> None:
        if self._fds is None:
            return
        try:
            os.unlink(self.path or "")
        except FileNotFoundError:
            pass
        for fd in self._fds:
            os.close(fd)
        self._fds = None
        self.history.record(self.source, "unplugged", path=self.path)

    def _write(self, data: bytes, kind: str, **detail) -> None:
        with self._lock:
            if self._fds is None:
                raise RuntimeError(f"{self!r}: cannot send, the device is unplugged")
            self.history.record(self.source, kind, frame=data[:64].hex(), **detail)
            step = self.chunk or len(data) or 1
            for i in range(0, len(data), step):
                os.write(self._fds[0], data[i:i + step])
