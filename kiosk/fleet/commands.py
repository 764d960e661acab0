"""Remote commands: signed by the operator's key, for one site, good once and for a while.

On the wire (topic ``kiosk/v1/<site>/cmd``), one JSON object:

    {"command": {"op": "open_door", "args": {"locker": 3, "clerk": "c-17", "reason": "..."},
                 "site": "s-0042", "nonce": "9f2c…", "issued_at": 1800000000, "expires_at": 1800000300},
     "signature": "<base64url Ed25519 signature over the RFC 8785 form of "command">"}

``open_command`` accepts one only when the signature verifies with the pinned operator key
(kiosk.security.keys: the same JCS bytes every other signature here covers), ``site`` is
this site, ``issued_at`` is not in the future (beyond ``SKEW_S``), ``expires_at`` has not
passed, the validity is no longer than the configured maximum, and ``op`` and ``args``
are one of ``OPS``. Whether the nonce was seen before needs the database: the service
checks it (kiosk.service.fleet_commands), remembering every accepted nonce until its
command expires. ``make_command`` and ``sign_command`` are the operator's side (tools,
hwsim, tests).

Every refusal raises CommandRefused with one of ``REASONS``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.errors import CommandRefused
from kiosk.security.keys import sign, verify

MAX_BYTES = 8192
SKEW_S = 60.0          # clocks (NTP-kept) may disagree this much about issued_at
REASONS = ("malformed", "unsigned", "bad_signature", "wrong_site", "expired", "not_yet_valid", "too_long",
           "unknown_op", "bad_args", "replayed")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_FIELDS = {"op", "args", "site", "nonce", "issued_at", "expires_at"}
TEXT_MAX = 300


def _locker(args: dict) -> str | None:
    n = args.get("locker")
    return None if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 512 else "locker must be 1..512"


def _text(args: dict, key: str, required: bool) -> str | None:
    value = args.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > TEXT_MAX:
        return f"{key} must be non-empty text of at most {TEXT_MAX} characters"
    return None


# op -> (argument names allowed, the check of its arguments)
OPS: dict[str, tuple[frozenset[str], Callable[[dict], str | None]]] = {
    "open_door": (frozenset({"locker", "clerk", "reason"}),
                  lambda a: _locker(a) or _text(a, "clerk", True) or _text(a, "reason", True)),
    "locker_out_of_service": (frozenset({"locker", "reason", "clerk"}),
                              lambda a: _locker(a) or _text(a, "reason", True) or _text(a, "clerk", False)),
    "locker_in_service": (frozenset({"locker", "reason", "clerk"}),
                          lambda a: _locker(a) or _text(a, "reason", True) or _text(a, "clerk", False)),
    "resync_manifest": (frozenset({"clerk", "reason"}),
                        lambda a: _text(a, "clerk", False) or _text(a, "reason", False)),
}


@dataclass(frozen=True)
class Command:
    op: str
    args: dict[str, Any]
    site: str
    nonce: str
    issued_at: float
    expires_at: float

    @property
    def clerk(self) -> str:
        """Who the operator acts for (the audit's actor): the command's ``clerk``, else "operator"."""
        return str(self.args.get("clerk") or "operator")


def make_command(op: str, site: str, *, now: float, valid_s: float = 300.0, nonce: str | None = None,
                 issued_at: float | None = None, **args: Any) -> dict[str, Any]:
    """The unsigned command document (the operator's side)."""
    issued = now if issued_at is None else issued_at
    return {"op": op, "args": args, "site": site, "nonce": nonce or uuid.uuid4().hex,
            "issued_at": issued, "expires_at": issued + valid_s}


def sign_command(key: Ed25519PrivateKey, command: dict[str, Any]) -> bytes:
    """The message to publish on the site's cmd topic."""
    return json.dumps({"command": command, "signature": sign(key, command)}, separators=(",", ":")).encode()


def peek(payload: bytes) -> dict[str, str]:
    """The nonce and op of a message, whatever else is wrong with it, for the audit and the
    answer (only when they look like a nonce and an op: nothing else of a refused message is kept)."""
    try:
        command = json.loads(payload)["command"]
        seen = {"nonce": command.get("nonce"), "op": command.get("op")}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {k: v for k, v in seen.items() if isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", v)}


def open_command(payload: bytes, key: Ed25519PublicKey, site: str, now: float, *,
                 max_validity_s: float) -> Command:
    """The command in ``payload`` if it may be carried out here now (its nonce aside).
    Raises CommandRefused."""
    if len(payload) > MAX_BYTES:
        raise CommandRefused("malformed", f"larger than {MAX_BYTES} bytes")
    try:
        message = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise CommandRefused("malformed", "not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("command"), dict):
        raise CommandRefused("malformed", "no command object")
    document = message["command"]
    signature = message.get("signature")
    if not isinstance(signature, str) or not signature:
        raise CommandRefused("unsigned", "the command carries no signature")
    if not verify(key, document, signature):
        raise CommandRefused("bad_signature", "the signature does not verify with the operator's key")
    command = _shape(document)
    if command.site != site:
        raise CommandRefused("wrong_site", f"the command is for site {command.site!r}")
    if command.issued_at > now + SKEW_S:
        raise CommandRefused("not_yet_valid", "issued in the future")
    if now >= command.expires_at:
        raise CommandRefused("expired", "its expiry has passed")
    if command.expires_at - command.issued_at > max_validity_s:
        raise CommandRefused("too_long", f"valid for more than {max_validity_s:g} s")
    spec = OPS.get(command.op)
    if spec is None:
        raise CommandRefused("unknown_op", f"no operation {command.op!r}")
    allowed, check = spec
    extra = set(command.args) - allowed
    problem = f"unknown argument(s) {sorted(extra)}" if extra else check(command.args)
    if problem:
        raise CommandRefused("bad_args", problem)
    return command


def _shape(document: dict) -> Command:
    """A signed document with the fields of a command, of the right types. Raises CommandRefused."""
    if set(document) != _FIELDS:
        raise CommandRefused("malformed", f"a command has exactly the fields {sorted(_FIELDS)}")
    op, args, site, nonce = document["op"], document["args"], document["site"], document["nonce"]
    times = document["issued_at"], document["expires_at"]
    if not (isinstance(op, str) and isinstance(args, dict) and isinstance(site, str) and isinstance(nonce, str)
            and all(isinstance(t, int | float) and not isinstance(t, bool) for t in times)):
        raise CommandRefused("malformed", "a field has the wrong type")
    if not _NONCE.fullmatch(nonce):
        raise CommandRefused("malformed", "the nonce must be 16-64 letters, digits, '-' or '_'")
    return Command(op, args, site, nonce, float(times[0]), float(times[1]))
