"""sd_notify: tell systemd we are ready, alive (watchdog) and stopping.

The protocol is one datagram to the socket named in $NOTIFY_SOCKET; without it (not run
by systemd, or in tests) every call does nothing. An abstract socket name starts with '@'.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, address: str | None = None):
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self._address = ("\0" + address[1:]) if address.startswith("@") else address
        self._sock: socket.socket | None = None

    def notify(self, *lines: str) -> bool:
        if not self._address:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode(), self._address)
            return True
        except OSError:
            return False
