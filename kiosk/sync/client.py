"""StoreClient: one method per message of the protocol, each one exchange, nothing kept.

Every request carries ``X-Site-Id``, ``X-Site-Timestamp`` (whole Unix seconds on the
injected clock), ``X-Site-Nonce`` (fresh) and ``X-Site-Signature``: the site key's Ed25519
signature over ``METHOD SP TARGET LF SITE LF TIMESTAMP LF NONCE LF BODY`` (protocol v1.1;
the target exactly as sent, query and percent-encoding included; the body's exact bytes),
so a signed request cannot be replayed — not at another operation, not later, not twice —
and a manifest is given only to its site. Every signed answer names the nonce it answers.
Every reply is read with a size cap and parsed strictly (kiosk.sync.wire). Failures are
raised as the SyncError family, never retried here:

    StoreUnreachable   no answer (refused, reset, timed out, TLS)
    StoreRejected      an error status (StoreBusy for 429, with retry_after)
    BadStoreReply      not what the protocol allows (BadStoreSignature: forged or corrupt)

Secrets travel only in the body of ``verify_secret`` and never appear in an error,
a log line or a repr.
"""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.clock import Clock, SystemClock
from kiosk.errors import BadStoreReply, ConfigError, StoreRejected, StoreUnreachable
from kiosk.security.keys import b64url, canonical_bytes, load_public_key
from kiosk.sync import wire
from kiosk.sync.http import make_client
from kiosk.sync.settings import StoreSettings
from kiosk.sync.wire import Ack, Anchor, EventBatch, ManifestPage

PREFIX = "/v1"


class StoreClient:
    def __init__(self, settings: StoreSettings, site_id: str, site_key: Ed25519PrivateKey, *,
                 transport: httpx.AsyncBaseTransport | None = None, clock: Clock | None = None):
        """``clock`` dates each request (X-Site-Timestamp). Raises ConfigError (bad URL,
        unreadable CA, bad pinned key)."""
        try:
            self._store_key = load_public_key(settings.public_key or "")
        except ValueError as err:
            raise ConfigError([("store.public_key", f"not an Ed25519 public key: {err}")]) from None
        self.settings = settings
        self.site_id = site_id
        self._site_key = site_key
        self._clock = clock or SystemClock()
        self._http = make_client(settings, site_id, transport=transport)
        self._site_path = f"{PREFIX}/sites/{site_id}"

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"<StoreClient {self.settings.url} site={self.site_id}>"

    # --- the messages ------------------------------------------------------------------

    async def post_events(self, events: list[dict]) -> Ack:
        """Send protocol Events (1..500, in order); see ``post_batch``."""
        return await self.post_batch(EventBatch.of(events))

    async def post_batch(self, batch: EventBatch) -> Ack:
        """Send a batch of events. Returns the store's acknowledgement — signed by the
        store, for this request and this exact body, covering exactly the batch.

        Raises StoreUnreachable, StoreRejected, StoreBusy, BadStoreReply, BadStoreSignature."""
        reply, nonce = await self._exchange("POST", "/events", "events", content=batch.body)
        document = wire.open_signed(reply, self._store_key, "events reply")
        return wire.parse_ack(document, self.site_id, nonce, hashlib.sha256(batch.body).hexdigest(), list(batch.ids))

    async def post_card_signature(self, upload: dict) -> None:
        """Send one IC card receipt signature (a CardSignature object: trade_number, card_id,
        signature, signed_data). Repeating it is harmless: the store keeps it once.

        The answer is signed by the store for this request and this exact body.

        Raises StoreUnreachable, StoreRejected, StoreBusy, BadStoreReply, BadStoreSignature."""
        body = canonical_bytes(upload)
        reply, nonce = await self._exchange("POST", "/card-signatures", "card signature", content=body)
        document = wire.open_signed(reply, self._store_key, "card signature reply")
        wire.parse_card_stored(document, self.site_id, nonce, hashlib.sha256(body).hexdigest())

    async def fetch_manifest(self, cursor: str | None) -> ManifestPage:
        """One page of the manifest since ``cursor`` (everything when None), signed by the
        store for this request. A ``410 cursor_unknown`` is believed only when the store
        signed it for this request (``StoreRejected`` with ``sequence``); any other 410 is
        a BadStoreReply.

        Raises StoreUnreachable, StoreRejected, StoreBusy, BadStoreReply, BadStoreSignature."""
        params = {"cursor": cursor} if cursor else None
        try:
            reply, nonce = await self._exchange("GET", "/manifest", "manifest", params=params, signed_errors=(410,))
        except _SignedError as err:
            document = wire.open_signed(err.envelope, self._store_key, "manifest 410")
            sequence = wire.parse_cursor_unknown(document, self.site_id, err.nonce, cursor)
            raise StoreRejected("manifest: the store does not know the cursor (signed 410 cursor_unknown)",
                                status=410, code="cursor_unknown", sequence=sequence) from None
        document = wire.open_signed(reply, self._store_key, "manifest")
        return wire.parse_manifest(document, self.site_id, cursor, nonce)

    async def fetch_audit_anchors(self) -> list[Anchor]:
        """The audit-chain heads the store holds for this site (oldest first), signed for this request.

        Raises StoreUnreachable, StoreRejected, StoreBusy, BadStoreReply, BadStoreSignature."""
        reply, nonce = await self._exchange("GET", "/audit-anchors", "audit anchors")
        document = wire.open_signed(reply, self._store_key, "audit anchors")
        return wire.parse_anchors(document, self.site_id, nonce)

    async def verify_secret(self, trade_number: str, method: str, secret: str, *,
                            timeout_s: float | None = None) -> str:
        """Ask the store whether ``secret`` is right for the parcel: "match", "mismatch",
        "locked" or "unknown" — from a signed answer to exactly this request.

        Raises StoreUnreachable, StoreRejected, StoreBusy, BadStoreReply, BadStoreSignature."""
        request_id = uuid.uuid4().hex
        body = {"trade_number": trade_number, "method": method, "secret": secret, "request_id": request_id}
        reply, _ = await self._exchange("POST", "/verify", "verification", content=canonical_bytes(body),
                                        timeout_s=timeout_s)
        document = wire.open_signed(reply, self._store_key, "verification answer")
        return wire.parse_verdict(document, trade_number, request_id)

    async def fetch_biometric_reference(self, trade_number: str, *, timeout_s: float | None = None) -> bytes:
        """The store's reference template for a biometric parcel, to match on this site's
        module (F5 local). Held by the caller only for the check: never stored, never logged.

        Raises StoreUnreachable, StoreRejected (404 unknown_parcel), StoreBusy, BadStoreReply,
        BadStoreSignature."""
        reply, _ = await self._exchange("GET", f"/biometric-references/{quote(trade_number, safe='')}",
                                        "biometric reference", timeout_s=timeout_s)
        document = wire.open_signed(reply, self._store_key, "biometric reference")
        return wire.parse_biometric_reference(document, self.site_id, trade_number)

    async def match_biometric(self, trade_number: str, template: bytes, *, timeout_s: float | None = None) -> str:
        """Central matching (F5 remote): the store compares ``template`` (captured here) with
        its reference and answers "match", "mismatch", "locked" or "unknown", signed for
        exactly this request. The template travels only in this body.

        Raises StoreUnreachable, StoreRejected, StoreBusy, BadStoreReply, BadStoreSignature."""
        request_id = uuid.uuid4().hex
        body = {"trade_number": trade_number, "template": b64url(template), "request_id": request_id}
        reply, _ = await self._exchange("POST", "/biometric-match", "biometric match", content=canonical_bytes(body),
                                        timeout_s=timeout_s)
        document = wire.open_signed(reply, self._store_key, "biometric match answer")
        return wire.parse_verdict(document, trade_number, request_id)

    # --- one exchange ------------------------------------------------------------------

    async def _exchange(self, method: str, path: str, what: str, *, content: bytes = b"",
                        params: dict | None = None, timeout_s: float | None = None,
                        signed_errors: tuple[int, ...] = ()) -> tuple[object, str]:
        """One signed request; returns (the reply's JSON value, the request's nonce).
        An error status in ``signed_errors`` is raised as _SignedError with its body."""
        headers = {"Content-Type": "application/json"} if content else {}
        timeout = httpx.Timeout(timeout_s) if timeout_s is not None else httpx.USE_CLIENT_DEFAULT
        request = self._http.build_request(method, self._site_path + path, content=content or None, params=params,
                                           headers=headers, timeout=timeout)
        timestamp, nonce = str(int(self._clock.now())), uuid.uuid4().hex
        request.headers["X-Site-Timestamp"] = timestamp
        request.headers["X-Site-Nonce"] = nonce
        request.headers["X-Site-Signature"] = b64url(self._site_key.sign(
            signing_input(method, request.url.raw_path, self.site_id, timestamp, nonce, content)))
        try:
            response = await self._http.send(request, stream=True)
            try:
                raw = await _read_capped(response, what)
            finally:
                await response.aclose()
        except httpx.TimeoutException as err:
            raise StoreUnreachable(f"{what}: no answer from the store in time ({type(err).__name__})") from err
        except httpx.TransportError as err:
            raise StoreUnreachable(f"{what}: cannot reach the store ({type(err).__name__}: {_reason(err)})") from err
        if response.status_code in signed_errors:
            raise _SignedError(wire.signed_error_envelope(wire.decode(raw, what), what), nonce)
        if response.status_code >= 400:
            raise wire.error_for(response.status_code, raw, response.headers.get("Retry-After"), what)
        if response.status_code != 200:
            raise BadStoreReply(f"{what}: unexpected HTTP {response.status_code} from the store")
        return wire.decode(raw, what), nonce


class _SignedError(Exception):
    """An error status whose body the store must have signed (checked by the caller)."""

    def __init__(self, envelope: dict, nonce: str):
        super().__init__("signed error reply")
        self.envelope = envelope
        self.nonce = nonce


def signing_input(method: str, target: bytes, site_id: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What the site signs for one request (docs/api/PROTOCOL.md, "Transport and identity", v1.1):
    ``METHOD SP TARGET LF SITE LF TIMESTAMP LF NONCE LF BODY``."""
    return (method.upper().encode("ascii") + b" " + target + f"\n{site_id}\n{timestamp}\n{nonce}\n".encode("ascii")
            + body)


async def _read_capped(response: httpx.Response, what: str) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > wire.MAX_REPLY_BYTES:
        raise BadStoreReply(f"{what}: reply of {declared} bytes is larger than allowed")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > wire.MAX_REPLY_BYTES:
            raise BadStoreReply(f"{what}: reply larger than {wire.MAX_REPLY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text[:200]
