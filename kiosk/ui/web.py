"""Staff screens in a browser: the counter terminal and the technician panel served by
textual-serve (``kiosk serve counter|technician``).

textual-serve starts one screen process per browser connection (``kiosk screen ROLE`` on
kioskd's socket, the same program as on a terminal), so the devices and the database stay
in kioskd and a closed tab or a crashed page ends only its own process. Every connection
signs in on the screen; kioskd signs it out after inactivity. The server listens on
loopback unless told otherwise: put it behind a TLS reverse proxy before any other machine
is let in (docs/service-socket.md).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

ROLES = ("counter", "technician")
TITLES = {"counter": "Pickup counter", "technician": "Pickup site · technician"}
PORTS = {"counter": 8080, "technician": 8081}     # each role its own port, so both can run


def screen_command(role: str, socket: Path) -> str:
    """The shell command textual-serve runs for each browser connection."""
    if role not in ROLES:
        raise ValueError(f"a browser serves only {', '.join(ROLES)}, not {role!r}")
    return shlex.join([sys.executable, "-m", "kiosk.cli", "screen", role, "--socket", str(socket)])


def serve(role: str, socket: Path, host: str = "127.0.0.1", port: int | None = None) -> None:
    """Serve ``role``'s screen on http://host:port (default ``PORTS[role]``) until SIGINT or SIGTERM."""
    from textual_serve.server import Server

    command = screen_command(role, socket)
    Server(command, host=host, port=port or PORTS[role], title=TITLES[role]).serve()
