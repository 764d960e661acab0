"""Settings of the fleet link (``[fleet]``), as checked by ``kiosk.config``.

Plain values only; kiosk.fleet.client turns them into a connection. The broker is named by
URL:

    mqtts://HOST[:PORT]    TLS (default port 8883) with ``ca_file`` pinned: the only CA
                           trusted for the broker; the system trust store is not used
    mqtt://HOST[:PORT]     plain TCP (default 1883), allowed only for a loopback host

The link is off unless ``broker`` is set.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROTOCOLS = ("5", "3.1.1")


@dataclass(frozen=True)
class FleetSettings:
    broker: str | None = None              # None: no fleet link
    site: str = ""                         # this site's id in topics (the config's [site] id unless set)
    username: str | None = None            # None: the site id (the broker's ACL names sites by user)
    password_file: Path | None = None      # one line; owner-only (0600)
    ca_file: Path | None = None            # the broker's CA, pinned (mqtts only)
    operator_key_file: Path | None = None  # the operator's Ed25519 public key: commands must verify with it
    publish_interval_s: float = 60.0       # health, doors and counters at least this often
    keepalive_s: int = 30                  # the broker declares us offline after 1.5 x this without a packet
    reconnect_max_s: float = 60.0          # cap on the reconnect delay (paho doubles it from 1 s)
    command_max_validity_s: float = 3600.0  # a command valid for longer than this is refused
    protocol: str = "5"                    # MQTT "5" or "3.1.1"

    @property
    def enabled(self) -> bool:
        return self.broker is not None

    @property
    def user(self) -> str:
        return self.username or self.site


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_broker(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of a broker URL already accepted by ``url_problem``."""
    parts = urlsplit(url)
    tls = parts.scheme == "mqtts"
    return parts.hostname or "", parts.port or (8883 if tls else 1883), tls


def url_problem(url: str, ca_file: Path | None) -> str | None:
    """Why ``url`` cannot be the broker's address (None when it can)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as err:
        return f"not a URL: {err}"
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        return "must be an mqtts://HOST:PORT URL (or mqtt:// on loopback)"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return "must not carry a path, query, fragment or credentials (the password is in password_file)"
    if parts.scheme == "mqtt" and not is_loopback(parts.hostname):
        return f"plain mqtt:// is allowed only for a loopback host, not {parts.hostname!r}; use mqtts:// with ca_file"
    if parts.scheme == "mqtts" and ca_file is None:
        return "mqtts:// needs [fleet] ca_file: the broker's CA certificate, pinned"
    return None
