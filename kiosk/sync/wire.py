"""Strict reading of the store's replies (docs/api/PROTOCOL.md, v1.1).

Every reply is checked in full before anything is believed: it is JSON (no NaN, not
too deep, not too large), it has exactly the shape the protocol gives it, its ids are
the ones asked about, and a signed document verifies under the store's pinned key. A
reply that fails any check raises BadStoreReply (or BadStoreSignature) and so is a
failed exchange: retried later, reported, never applied.

Also the other direction: ``EventBatch`` is a batch of events as the request body that
carries them, built from outbox rows without re-encoding their payloads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.clock import iso
from kiosk.errors import BadStoreReply, BadStoreSignature, StoreBusy, StoreRejected
from kiosk.security.keys import canonical_bytes, unb64url, verify

MAX_REPLY_BYTES = 8 * 1024 * 1024
MAX_ENTRIES = 20_000            # parcels or cancellations in one manifest page
MAX_CURSOR = 64
VERDICTS = ("match", "mismatch", "locked", "unknown")
TEMPLATE_FORMAT = "opaque-v1"   # biometric references (docs/api/PROTOCOL.md)
MAX_TEMPLATE_BYTES = 12 * 1024
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_SEQUENCE = 2**53 - 1        # what RFC 8785 JSON carries exactly
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CODE = re.compile(r"^[a-z0-9_.-]{1,40}$")
_CURSOR = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Rejection:
    """One event of a batch the store refused on its own: kept here, never sent again."""

    event_id: str
    error: str
    message: str


@dataclass(frozen=True)
class Ack:
    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    rejected: tuple[Rejection, ...] = ()


@dataclass(frozen=True)
class ManifestPage:
    cursor: str
    complete: bool
    parcels: list            # raw entries: the service layer checks them (kiosk.service.manifest)
    cancelled: list[str]
    sequence: int = 0        # the store's change counter when it made the page (never goes down)


@dataclass(frozen=True)
class Anchor:
    """An audit-chain head the store holds: entry ``seq`` had hash ``hash``."""

    seq: int
    hash: str


MAX_BATCH = 500
_json_str = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True)
class EventBatch:
    """Events ready for the wire: their ids, in order, and the exact request body."""

    ids: tuple[str, ...]
    body: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not 1 <= len(self.ids) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1..{MAX_BATCH} events")

    @classmethod
    def of(cls, events: list[dict]) -> "EventBatch":
        """From protocol Event objects."""
        return cls(tuple(e["event_id"] for e in events), canonical_bytes({"events": events}))

    @classmethod
    def from_outbox(cls, rows: list) -> "EventBatch":
        """From outbox rows whose ``payload`` is the JSON text stored when the event was
        made: it goes out byte for byte as stored, never decoded and encoded again."""
        events = ",".join(
            f'{{"event_id":{_json_str(r["event_id"])},"seq":{int(r["seq"])},"kind":{_json_str(r["kind"])},'
            f'"trade_number":{"null" if r["trade_number"] is None else _json_str(r["trade_number"])},'
            f'"created_at":"{iso(r["created_at"])}","payload":{r["payload"]}}}' for r in rows)
        return cls(tuple(r["event_id"] for r in rows), ('{"events":[' + events + "]}").encode("utf-8"))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def decode(body: bytes, what: str):
    """The JSON value of a reply body. Raises BadStoreReply."""
    if len(body) > MAX_REPLY_BYTES:
        raise BadStoreReply(f"{what}: reply larger than {MAX_REPLY_BYTES} bytes")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise BadStoreReply(f"{what}: reply is not valid JSON ({type(err).__name__})") from None


def _printable(text, limit: int = 200) -> str:
    text = text if isinstance(text, str) else ""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def error_for(status: int, body: bytes, retry_after: str | None, what: str) -> StoreRejected:
    """The error an HTTP error status stands for (StoreBusy for 429)."""
    code, message = "", ""
    try:
        doc = json.loads(body[:65536].decode("utf-8"))
        if isinstance(doc, dict):
            error = doc.get("error")
            code = error if isinstance(error, str) and _CODE.match(error) else ""
            message = _printable(doc.get("message"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        pass
    words = f"{what}: the store answered {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if status == 429:
        return StoreBusy(words, retry_after=parse_retry_after(retry_after), code=code or "rate_limited")
    return StoreRejected(words, status=status, code=code)


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds from a Retry-After header (delta-seconds), clamped to 0..3600."""
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        return default
    if seconds != seconds:  # NaN
        return default
    return min(3600.0, max(0.0, seconds))


def _exact_keys(doc, keys: set[str], what: str) -> dict:
    if not isinstance(doc, dict):
        raise BadStoreReply(f"{what}: expected a JSON object")
    if set(doc) != keys:
        missing, extra = sorted(keys - set(doc)), sorted(set(doc) - keys)
        raise BadStoreReply(f"{what}: wrong fields (missing {missing or 'none'}, unexpected {extra or 'none'})")
    return doc


def _id_list(value, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadStoreReply(f"{what}: expected a list of ids")
    return value


def _sequence(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQUENCE:
        raise BadStoreReply(f"{what}: sequence must be a whole number in 0..2**53-1")
    return value


def _answers(doc: dict, site_id: str, nonce: str, what: str) -> None:
    """A signed document is the answer to this site's request with ``nonce``, or a replay."""
    if doc["site_id"] != site_id:
        raise BadStoreReply(f"{what}: addressed to site {_printable(doc['site_id'], 64)!r}, not {site_id!r}")
    if doc["nonce"] != nonce:
        raise BadStoreReply(f"{what}: it answers another request (replayed or stale); not believed")


def parse_ack(doc, site_id: str, nonce: str, body_sha256: str, batch_ids: list[str]) -> Ack:
    """The store's signed answer to a batch: for this site, this request and this exact
    body, and accepted ∪ duplicates ∪ rejected exactly the batch. Raises BadStoreReply."""
    doc = _exact_keys(doc, {"site_id", "nonce", "body_sha256", "accepted", "duplicates", "rejected"}, "events reply")
    _answers(doc, site_id, nonce, "events reply")
    if doc["body_sha256"] != body_sha256:
        raise BadStoreReply("events reply: it acknowledges another body than the one sent; nothing is marked sent")
    accepted = _id_list(doc["accepted"], "events reply: accepted")
    duplicates = _id_list(doc["duplicates"], "events reply: duplicates")
    if not isinstance(doc["rejected"], list):
        raise BadStoreReply("events reply: rejected must be a list")
    rejected = []
    for item in doc["rejected"]:
        item = _exact_keys(item, {"index", "event_id", "error", "message"}, "events reply: rejected")
        index = item["index"]
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(batch_ids):
            raise BadStoreReply("events reply: a rejection names no event of the batch")
        if item["event_id"] not in (None, batch_ids[index]):
            raise BadStoreReply("events reply: a rejection's event_id is not the one at its index")
        code = item["error"] if isinstance(item["error"], str) and _CODE.match(item["error"]) else "invalid_event"
        rejected.append(Rejection(batch_ids[index], code, _printable(item["message"])))
    together = accepted + duplicates + [r.event_id for r in rejected]
    if len(together) != len(batch_ids) or set(together) != set(batch_ids):
        raise BadStoreReply(f"events reply: acknowledged {len(set(together))} id(s) for a batch of {len(batch_ids)}"
                            " that do not match it; nothing is marked sent")
    return Ack(tuple(accepted), tuple(duplicates), tuple(rejected))


def parse_card_stored(doc, site_id: str, nonce: str, body_sha256: str) -> None:
    """The store's signed word that it keeps this card signature: for this site, this
    request and this exact body. Raises BadStoreReply."""
    doc = _exact_keys(doc, {"site_id", "nonce", "body_sha256", "stored"}, "card signature reply")
    _answers(doc, site_id, nonce, "card signature reply")
    if doc["body_sha256"] != body_sha256:
        raise BadStoreReply("card signature reply: it confirms another body than the one sent; not marked sent")
    if doc["stored"] is not True:
        raise BadStoreReply("card signature reply: the store did not say it stored it")


def signed_error_envelope(doc, what: str) -> dict:
    """The ``{document, signature}`` part of an error reply the store must sign. Raises BadStoreReply."""
    if not isinstance(doc, dict) or "document" not in doc or "signature" not in doc:
        raise BadStoreReply(f"{what}: an unsigned error where the store must sign it; not acted on")
    return {"document": doc["document"], "signature": doc["signature"]}


def parse_cursor_unknown(document: dict, site_id: str, nonce: str, asked: str | None) -> int:
    """A signed 410 for this request and the cursor asked with. Returns the store's sequence.
    Raises BadStoreReply."""
    doc = _exact_keys(document, {"site_id", "nonce", "cursor", "error", "sequence"}, "manifest 410")
    _answers(doc, site_id, nonce, "manifest 410")
    if doc["error"] != "cursor_unknown" or doc["cursor"] != asked:
        raise BadStoreReply("manifest 410: it is about another cursor; not acted on")
    return _sequence(doc["sequence"], "manifest 410")


def parse_anchors(document: dict, site_id: str, nonce: str) -> list[Anchor]:
    """The audit anchors the store holds for this site. Raises BadStoreReply."""
    doc = _exact_keys(document, {"site_id", "nonce", "anchors"}, "audit anchors")
    _answers(doc, site_id, nonce, "audit anchors")
    if not isinstance(doc["anchors"], list) or len(doc["anchors"]) > MAX_ENTRIES:
        raise BadStoreReply("audit anchors: anchors must be a list")
    anchors = []
    for item in doc["anchors"]:
        item = _exact_keys(item, {"seq", "hash", "created_at"}, "audit anchor")
        if not isinstance(item["hash"], str) or not _HEX64.match(item["hash"]):
            raise BadStoreReply("audit anchor: hash must be 64 lower-case hex digits")
        anchors.append(Anchor(_sequence(item["seq"], "audit anchor"), item["hash"]))
    return anchors


def open_signed(doc, store_key: Ed25519PublicKey, what: str) -> dict:
    """The document inside a signed envelope. Raises BadStoreReply, BadStoreSignature."""
    doc = _exact_keys(doc, {"document", "signature"}, what)
    if not isinstance(doc["document"], dict) or not isinstance(doc["signature"], str) or len(doc["signature"]) > 200:
        raise BadStoreReply(f"{what}: expected {{'document': {{...}}, 'signature': '...'}}")
    if not verify(store_key, doc["document"], doc["signature"]):
        raise BadStoreSignature(f"{what}: the signature does not verify with the store's pinned key; rejected")
    return doc["document"]


def parse_manifest(document: dict, site_id: str, asked: str | None, nonce: str) -> ManifestPage:
    """A manifest page's envelope (entries are checked by the caller). ``asked`` is the
    cursor the page was asked for and ``nonce`` the request's: a page answering another
    cursor or another request is stale or replayed, and refused. Raises BadStoreReply."""
    doc = _exact_keys(document, {"site_id", "nonce", "sequence", "since", "cursor", "complete", "parcels",
                                 "cancelled"}, "manifest")
    _answers(doc, site_id, nonce, "manifest")
    if doc["since"] != asked:
        raise BadStoreReply("manifest: the page answers another cursor than the one asked for (stale or replayed)")
    sequence = _sequence(doc["sequence"], "manifest")
    cursor = doc["cursor"]
    if not isinstance(cursor, str) or not 1 <= len(cursor) <= MAX_CURSOR or not _CURSOR.match(cursor):
        raise BadStoreReply(f"manifest: cursor must be 1..{MAX_CURSOR} of A-Z a-z 0-9 _ -")
    if not isinstance(doc["complete"], bool):
        raise BadStoreReply("manifest: complete must be true or false")
    if not isinstance(doc["parcels"], list) or len(doc["parcels"]) > MAX_ENTRIES:
        raise BadStoreReply(f"manifest: parcels must be a list of at most {MAX_ENTRIES}")
    cancelled = doc["cancelled"]
    if (not isinstance(cancelled, list) or len(cancelled) > MAX_ENTRIES
            or not all(isinstance(t, str) and 0 < len(t) <= 64 for t in cancelled)):
        raise BadStoreReply(f"manifest: cancelled must be a list of at most {MAX_ENTRIES} trade numbers")
    return ManifestPage(cursor, doc["complete"], doc["parcels"], cancelled, sequence)


def parse_verdict(document: dict, trade_number: str, request_id: str) -> str:
    """The result of an online check, for exactly the request made. Raises BadStoreReply."""
    doc = _exact_keys(document, {"trade_number", "request_id", "result"}, "verification answer")
    if doc["request_id"] != request_id or doc["trade_number"] != trade_number:
        raise BadStoreReply("verification answer: it answers another request")
    if doc["result"] not in VERDICTS:
        raise BadStoreReply(f"verification answer: result must be one of {', '.join(VERDICTS)}")
    return doc["result"]


def parse_biometric_reference(document: dict, site_id: str, trade_number: str) -> bytes:
    """The store's reference template for one parcel of this site. Raises BadStoreReply."""
    what = "biometric reference"
    doc = _exact_keys(document, {"site_id", "trade_number", "format", "template"}, what)
    if doc["site_id"] != site_id or doc["trade_number"] != trade_number:
        raise BadStoreReply(f"{what}: it is for another site or parcel")
    if doc["format"] != TEMPLATE_FORMAT:
        raise BadStoreReply(f"{what}: format must be {TEMPLATE_FORMAT!r}")
    text = doc["template"]
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) > MAX_TEMPLATE_BYTES * 4 // 3 + 4:
        raise BadStoreReply(f"{what}: template must be base64url text of at most {MAX_TEMPLATE_BYTES} bytes")
    try:
        template = unb64url(text)
    except ValueError:
        raise BadStoreReply(f"{what}: template is not base64url") from None
    if not 1 <= len(template) <= MAX_TEMPLATE_BYTES:
        raise BadStoreReply(f"{what}: template must be 1..{MAX_TEMPLATE_BYTES} bytes")
    return template
