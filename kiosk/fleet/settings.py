"""Settings of the fleet link (``[fleet]``), as checked by ``kiosk.config``.

Plain values only; kiosk.fleet.client turns them into a connection. The broker is named by
URL:

    mqtts://HOST[:PORT]    TLS (default port 8883) with ``ca_file`` pinned: the only CA
                           trusted for the broker; the system trust store is not used
    mqtt://HOST[:PORT]     plain TCP (default 1883), allowed only for a loopback host

The link is off unless ``broker`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.endpoints import endpoint_problem

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


def parse_broker(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of a broker URL already accepted by ``url_problem``."""
    parts = urlsplit(url)
    tls = parts.scheme == "mqtts"
    return parts.hostname or "", parts.port or (8883 if tls else 1883), tls


def url_problem(url: str, ca_file: Path | None) -> str | None:
    """Why ``url`` cannot be the broker's address (None when it can)."""
    return endpoint_problem(url, ca_file, secure="mqtts", plain="mqtt", ca_key="[fleet] ca_file", path_allowed=False,
                            what="an mqtts://HOST:PORT URL")
