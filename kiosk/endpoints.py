"""Where a site talks to another machine (the store's HTTPS API, the fleet's MQTT broker):
the one rule for their addresses. A secure scheme needs a pinned CA file; the plain one is
allowed only on loopback (an emulator, a test); no credentials, query or fragment in the
URL (secrets live in files). Below everything but kiosk.errors: both the store link and the fleet
link use it.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.errors import ConfigError


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def endpoint_problem(url: str, ca_file: Path | None, *, secure: str, plain: str, ca_key: str,
                     path_allowed: bool, what: str) -> str | None:
    """Why ``url`` cannot be this endpoint's address (None when it can). ``secure``/``plain``
    are the schemes ("https"/"http", "mqtts"/"mqtt"); ``ca_key`` names the config key of the
    pinned CA; ``what`` is said in the reasons ("an https:// URL", "an mqtts://HOST:PORT URL")."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as err:
        return f"not a URL: {err}"
    if parts.scheme not in (secure, plain) or not parts.hostname:
        return f"must be {what} (or {plain}:// on loopback)"
    if (not path_allowed and parts.path not in ("", "/")) or parts.query or parts.fragment \
            or parts.username or parts.password:
        return ("must not carry " + ("" if path_allowed else "a path, ") + "a query, fragment or credentials")
    if parts.scheme == plain and not is_loopback(parts.hostname):
        return (f"plain {plain}:// is allowed only for a loopback host, not {parts.hostname!r}; "
                f"use {secure}:// with ca_file")
    if parts.scheme == secure and ca_file is None:
        return f"{secure}:// needs {ca_key}: the CA certificate, pinned"
    return None


def pinned_tls_context(ca_file, key: str) -> ssl.SSLContext:
    """A client context trusting ``ca_file`` alone, TLS 1.2 or later, host name checked.
    Raises ConfigError (for config key ``key``) when the file is not a CA certificate."""
    try:
        context = ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as err:
        raise ConfigError([(key, f"cannot load the CA certificate {ca_file}: {err}")]) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
