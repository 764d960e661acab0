"""Structured log lines for the journal (issue 14 §3): every audited action also goes to
the log as one line with fields a technician can filter on (``journalctl
KIOSK_EVENT=parcel_collected``, ``journalctl KIOSK_LOCKER=3``)::

    KIOSK_EVENT       the audited action (parcel_collected, door_fault, staff_signed_in, …)
    KIOSK_ACTOR       who: recipient, courier:ID, clerk:ID, technician:ID, kioskd
    KIOSK_TRADE_HASH  the parcel, as a keyed pseudonym (never the trade number itself)
    KIOSK_LOCKER      the locker number, when there is one
    KIOSK_DEVICE      the device or desk, when there is one
    KIOSK_OP          the operation's id (a door opening, a payment), when there is one

Nothing secret or personal: audit entries never hold a secret, and the trade number is
replaced by ``pseudonym()`` — a BLAKE2b MAC under a key derived from the site's private
key (``set_pseudonym_key``), so the same parcel has the same pseudonym in every line of a
site but nobody without the key can tell which parcel it is (a plain hash of an 8-digit
number would be reversed in seconds). Before a key is set, a random one for this process.

``handler()`` is systemd's own ``JournalHandler`` (the systemd-python package) when stderr
is the journal; elsewhere the same lines go to the usual log with the fields in the text.
No imports from the rest of kiosk: it sits beside kiosk.logs at the bottom.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

_key = secrets.token_bytes(32)
LOGGER = "kiosk.audit"
OP_KEYS = ("opening_id", "payment_id", "event_id")
DEVICE_KEYS = ("device", "desk", "role")


def set_pseudonym_key(key: bytes) -> None:
    global _key
    if len(key) < 16:
        raise ValueError("a pseudonym key needs at least 16 bytes")
    _key = bytes(key[:64])


def pseudonym(trade_number: str) -> str:
    return hashlib.blake2b(trade_number.encode(), key=_key, digest_size=8).hexdigest()


def fields(action: str, actor: str, subject: str | None, detail: dict[str, Any]) -> dict[str, str]:
    """The journal fields of one audited action (only the scalar, non-secret ones named above)."""
    out = {"KIOSK_EVENT": action, "KIOSK_ACTOR": actor}
    if subject:
        out["KIOSK_TRADE_HASH"] = pseudonym(subject)
    if isinstance(detail.get("locker"), int):
        out["KIOSK_LOCKER"] = str(detail["locker"])
    for key in DEVICE_KEYS:
        if isinstance(detail.get(key), str):
            out["KIOSK_DEVICE"] = detail[key]
            break
    for key in OP_KEYS:
        if isinstance(detail.get(key), (str, int)):
            out["KIOSK_OP"] = str(detail[key])
            break
    return out


def log_audited(action: str, actor: str, subject: str | None, detail: dict[str, Any]) -> None:
    """One line for one audited action, after its transaction committed."""
    got = fields(action, actor, subject, detail)
    where = " ".join(f"{k.removeprefix('KIOSK_').lower()}={v}" for k, v in got.items()
                     if k not in ("KIOSK_EVENT", "KIOSK_ACTOR"))
    logging.getLogger(LOGGER).info("%s by %s%s", action, actor, f" ({where})" if where else "", extra=got)


def handler(identifier: str) -> logging.Handler | None:
    """systemd's JournalHandler tagged ``identifier``, or None when systemd-python is missing."""
    try:
        from systemd.journal import JournalHandler
    except ImportError:
        return None
    return JournalHandler(SYSLOG_IDENTIFIER=identifier)
