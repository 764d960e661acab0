"""The store emulator's reading of requests: exactly the shapes of docs/api/store-api.yaml.

Written by hand, independently of the OpenAPI document, so that the property-based contract
test (tests/test_store_api_contract.py) really compares two things: whatever the document
calls valid must be accepted here, and whatever it calls invalid must be refused here with
a 4xx naming the field. Every check raises ``ApiError`` (400); nothing here touches the database.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime

from kiosk.domain.parcels import METHODS

MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 500
MAX_PAYLOAD_FIELDS = 64
MAX_TEMPLATE_CHARS = 16 * 1024
MAX_SEQ = 2**63 - 1
MAX_DEPTH = 32

EVENT_KINDS = (
    "parcel_arrived", "parcel_collected", "verification_failed", "parcel_locked_out",
    "attempts_reset", "forgotten_pickup", "parcel_expired", "parcel_returned",
    "cash_collected", "card_collected", "door_fault", "door_left_open", "tamper",
    "site_attempts_alarm", "device_health",
    "event_rejected", "audit_anchor",                 # v1.1
    "hold_extended",                                  # v1.2
)
MAX_AUDIT_SEQ = 2**53 - 1

# Checked with fullmatch(): "$" alone would let a trailing newline through.
SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")          # cursors, nonces, card ids
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TRADE_NUMBER = re.compile(r"^[0-9A-Z][0-9A-Z-]{3,39}$")  # as kiosk.domain.parcels
EVENT_ID = re.compile(r"^[0-9a-f]{32}$")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")           # X-Site-Nonce
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")                # X-Site-Timestamp: whole Unix seconds
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# Unpadded base64url of whole bytes: a length of 4k+1 characters is impossible.
B64URL = re.compile(r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$")
# RFC 3339 date-time (what JSON Schema's "date-time" format means).
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII)


class ApiError(ValueError):
    """A request the store refuses: ``status``, ``code`` and the message become the error reply."""

    def __init__(self, code: str, message: str, status: int = 400, headers: dict[str, str] | None = None,
                 document: dict | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.headers = dict(headers or {})
        self.document = document    # signed and sent with the error (410 cursor_unknown)


class RateLimited(ApiError):
    """Too many requests: 429 with ``Retry-After: retry_after`` (whole seconds)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__("rate_limited", message, 429, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ApiError("malformed_json", f"field {key!r} appears twice")
        result[key] = value
    return result


def _no_constants(name: str):
    raise ApiError("malformed_json", f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ApiError("malformed_json", f"number {text[:20]} is too large")
    return value


def _depth(value) -> int:
    """How deeply ``value`` nests (iteratively: a hostile body must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_json(body: bytes):
    """The JSON value of a request body: UTF-8, no duplicate keys, no NaN or Infinity, no
    number too large for a double, at most MAX_DEPTH deep. Raises ApiError (malformed_json)."""
    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates,
                           parse_constant=_no_constants, parse_float=_finite)
    except UnicodeDecodeError:
        raise ApiError("malformed_json", "the body is not UTF-8") from None
    except RecursionError:
        raise ApiError("malformed_json", "the body is nested too deeply") from None
    except ValueError as err:
        if isinstance(err, ApiError):
            raise
        raise ApiError("malformed_json", f"the body is not JSON: {err}") from None
    if _depth(value) > MAX_DEPTH:
        raise ApiError("malformed_json", f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        # JSON escapes can spell a lone surrogate ("\ud800"): valid JSON syntax, not Unicode
        # text, so nothing can store, hash or sign it. Refused here rather than failing later.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError("malformed_json", "the body holds a string that is not Unicode text (a lone surrogate)") from None
    return value


# --- small checks ----------------------------------------------------------------------

def _object(value, where: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(value, dict):
        raise ApiError("invalid_body", f"{where or 'body'}: must be a JSON object")
    missing = required - set(value)
    if missing:
        raise ApiError("invalid_body", f"{where or 'body'}: missing field(s) {', '.join(sorted(missing))}")
    extra = set(value) - required - optional
    if extra:
        raise ApiError("invalid_body", f"{where or 'body'}: unknown field(s) {', '.join(sorted(extra))}")
    return value


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _text(value, where: str, pattern: re.Pattern | None = None, *, min_len: int = 0, max_len: int = 1 << 20) -> str:
    if not isinstance(value, str):
        raise ApiError("invalid_body", f"{where}: must be a string")
    if not min_len <= len(value) <= max_len:
        raise ApiError("invalid_body", f"{where}: must be {min_len}..{max_len} characters long")
    if pattern is not None and not pattern.fullmatch(value):
        raise ApiError("invalid_body", f"{where}: does not have the required form ({pattern.pattern})")
    return value


def _integer(value, where: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ApiError("invalid_body", f"{where}: must be a whole number")
    if not minimum <= value <= maximum:
        raise ApiError("invalid_body", f"{where}: must be in {minimum}..{maximum}")
    return int(value)


def _choice(value, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices or not isinstance(value, str):
        raise ApiError("invalid_body", f"{where}: must be one of {', '.join(choices)}")
    return value


def _date_time(value, where: str) -> str:
    _text(value, where, DATE_TIME)
    text = value.upper().replace("Z", "+00:00")
    if text[17:19] == "60":  # RFC 3339 allows a leap second; datetime does not
        text = text[:17] + "59" + text[19:]
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ApiError("invalid_body", f"{where}: not a real date and time") from None
    return value


def _b64url(value, where: str, *, min_len: int, max_len: int) -> str:
    return _text(value, where, B64URL, min_len=min_len, max_len=max_len)


# --- the request bodies ------------------------------------------------------------------

def event_batch(body) -> tuple[list[tuple[int, dict]], list[dict]]:
    """``{"events": [...]}``: the batch's shape is checked whole (ApiError 400), then each
    event on its own. Returns (the valid events with their index, the rejected ones as
    ``{"index", "event_id", "error", "message"}``): one bad event never refuses the rest."""
    _object(body, "", {"events"})
    events = body["events"]
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise ApiError("invalid_body", f"events: must be a list of 1..{MAX_EVENTS} events")
    if not all(isinstance(e, dict) for e in events):
        raise ApiError("invalid_body", "events: every item must be a JSON object")
    valid, rejected = [], []
    for i, event in enumerate(events):
        try:
            valid.append((i, check_event(event, f"events[{i}]")))
        except ApiError as err:
            event_id = event.get("event_id")
            rejected.append({"index": i, "event_id": event_id if isinstance(event_id, str)
                             and EVENT_ID.fullmatch(event_id) else None,
                             "error": "invalid_event", "message": str(err)[:300]})
    return valid, rejected


def check_event(event: dict, where: str) -> dict:
    """One Event, as store-api.yaml's Event schema says. Raises ApiError."""
    _object(event, where, {"event_id", "seq", "kind", "trade_number", "created_at", "payload"})
    _text(event["event_id"], f"{where}.event_id", EVENT_ID)
    _integer(event["seq"], f"{where}.seq", 0, MAX_SEQ)
    _choice(event["kind"], f"{where}.kind", EVENT_KINDS)
    if event["trade_number"] is not None:
        _text(event["trade_number"], f"{where}.trade_number", TRADE_NUMBER)
    _date_time(event["created_at"], f"{where}.created_at")
    payload = event["payload"]
    if not isinstance(payload, dict) or len(payload) > MAX_PAYLOAD_FIELDS:
        raise ApiError("invalid_body", f"{where}.payload: must be an object of at most {MAX_PAYLOAD_FIELDS} fields")
    if event["kind"] == "audit_anchor":
        _object(payload, f"{where}.payload", {"seq", "hash"})
        _integer(payload["seq"], f"{where}.payload.seq", 0, MAX_AUDIT_SEQ)
        _text(payload["hash"], f"{where}.payload.hash", SHA256_HEX)
    return event


def verify_request(body) -> dict:
    """``{"trade_number", "method", "secret", "request_id"}``. Raises ApiError."""
    _object(body, "", {"trade_number", "method", "secret", "request_id"})
    _text(body["trade_number"], "trade_number", TRADE_NUMBER)
    _choice(body["method"], "method", METHODS)
    _text(body["secret"], "secret", min_len=1, max_len=64)
    _text(body["request_id"], "request_id", REQUEST_ID)
    return body


def match_request(body) -> dict:
    """``{"trade_number", "template", "request_id"}``. Raises ApiError."""
    _object(body, "", {"trade_number", "template", "request_id"})
    _text(body["trade_number"], "trade_number", TRADE_NUMBER)
    _b64url(body["template"], "template", min_len=1, max_len=MAX_TEMPLATE_CHARS)
    _text(body["request_id"], "request_id", REQUEST_ID)
    return body


def card_signature(body) -> dict:
    """``{"trade_number", "card_id", "signature", "signed_data"}``. Raises ApiError."""
    _object(body, "", {"trade_number", "card_id", "signature", "signed_data"})
    _text(body["trade_number"], "trade_number", TRADE_NUMBER)
    _text(body["card_id"], "card_id", TOKEN)
    _b64url(body["signature"], "signature", min_len=1, max_len=1024)
    _b64url(body["signed_data"], "signed_data", min_len=1, max_len=4096)
    return body


def query_token(query: dict[str, list[str]], name: str, allowed: set[str]) -> str | None:
    """One optional token-shaped query parameter; any other parameter is refused. Raises ApiError."""
    extra = set(query) - allowed
    if extra:
        raise ApiError("invalid_query", f"unknown query parameter(s) {', '.join(sorted(extra))}")
    values = query.get(name)
    if values is None:
        return None
    if len(values) != 1 or not TOKEN.fullmatch(values[0]):
        raise ApiError("invalid_query", f"{name}: must be given once, 1..64 of A-Z a-z 0-9 _ -")
    return values[0]
