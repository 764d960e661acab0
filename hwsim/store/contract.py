"""The contract's HTTP face: routes, request authentication, faults, signed replies.

One request goes through, in order:
    route (404 / 405 + Allow) → faults before handling (rate_limit 429, http_500, slow)
    → who is asking (X-Site-Id 400/401, X-Site-Signature 401, path site 403,
      X-Site-Timestamp more than 60 s off 401 stale_request, X-Site-Nonce seen 401 replayed_request)
    → body or query (415, 400) → the operation (hwsim.store.operations)
    → faults after handling (timeout_after_processing, out_of_order, bad_signature,
      malformed_json; on 2xx replies only) → the reply, recorded in the history.

The site's signature covers ``METHOD SP TARGET LF SITE LF TIMESTAMP LF NONCE LF BODY``
(docs/api/PROTOCOL.md, v1.1); the store's documents are ``{"document", "signature"}`` over
their RFC 8785 canonical JSON, and every one of them answering a site's request (batch
acknowledgements too) names that request's nonce.
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.clock import Clock
from kiosk.security.keys import load_public_key, sign, unb64url
from hwsim.history import History
from hwsim.store import wire
from hwsim.store.faults import Faults
from hwsim.store.operations import Operations
from hwsim.store.server import Reply, Request, error_reply, json_reply

_SITE = r"/v1/sites/(?P<site_id>[^/]+)"
# (method, path pattern, operation name, signed reply)
ROUTES = (
    ("GET", re.compile(rf"^{_SITE}/manifest$"), "manifest", True),
    ("GET", re.compile(rf"^{_SITE}/setup$"), "setup", True),
    ("POST", re.compile(rf"^{_SITE}/events$"), "events", True),
    ("POST", re.compile(rf"^{_SITE}/verify$"), "verify", True),
    ("GET", re.compile(rf"^{_SITE}/biometric-references/(?P<trade_number>[^/]+)$"), "biometric_reference", True),
    ("POST", re.compile(rf"^{_SITE}/biometric-match$"), "biometric_match", True),
    ("POST", re.compile(rf"^{_SITE}/card-signatures$"), "card_signatures", True),
    ("GET", re.compile(rf"^{_SITE}/audit-anchors$"), "audit_anchors", True),
    ("GET", re.compile(r"^/v1/time$"), "time", True),
)
MAX_SKEW_S = 60            # a request whose X-Site-Timestamp is further off is refused
NONCE_MEMORY_S = 3 * MAX_SKEW_S   # a nonce can only be replayed within 2 × MAX_SKEW_S of first use
_BODIES = {"events": wire.event_batch, "verify": wire.verify_request, "biometric_match": wire.match_request,
           "card_signatures": wire.card_signature}
_QUERIES = {"manifest": "cursor", "time": "nonce"}


@dataclass(frozen=True)
class RequestRecord:
    """One request as the store saw it (``fault``: the faults applied, joined by "+")."""

    at: float
    method: str
    path: str
    query: str
    site_id: str | None             # as claimed in X-Site-Id (authenticated only when status < 400)
    status: int | None
    fault: str | None


def signing_input(method: str, target: str | bytes, site_id: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes a site signs for one request (docs/api/PROTOCOL.md, "Transport and identity",
    v1.1): ``METHOD SP TARGET LF SITE LF TIMESTAMP LF NONCE LF BODY``. ``target`` as sent on
    the request line (ASCII when a str)."""
    if isinstance(target, str):
        target = target.encode("ascii")
    head = f"\n{site_id}\n{timestamp}\n{nonce}\n".encode("ascii")
    return method.upper().encode("ascii") + b" " + target + head + body


class ContractApp:
    """The /v1 API as a callable for ``server.Listener``. Thread-safe."""

    def __init__(self, ops: Operations, faults: Faults, key: Ed25519PrivateKey, history: History, clock: Clock):
        self.ops = ops
        self.faults = faults
        self.key = key
        self.wrong_key = Ed25519PrivateKey.generate()   # for the bad_signature fault
        self.history = history
        self.clock = clock

    def __call__(self, request: Request) -> Reply:
        applied: list[str] = []
        claimed = request.headers.get("X-Site-Id")
        try:
            route, params = self._route(request)
            self._faults_before(request, applied)
            site_id, nonce = self._authenticate(request, params)
            reply = self._handle(request, route, params, site_id, nonce, applied)
        except wire.ApiError as err:
            reply = error_reply(err.status, err.code, str(err), err.headers)
            if err.document is not None:   # an error the store vouches for (410 cursor_unknown)
                reply = json_reply(err.status, {"error": err.code, "message": str(err), "document": err.document,
                                                "signature": sign(self.key, err.document)}, err.headers)
        except _Injected500:
            reply = error_reply(500, "internal", "injected fault: http_500")
        query = request.target.partition("?")[2]
        self.history.record("store", "request", record=RequestRecord(
            self.clock.now(), request.method, request.path, query, claimed[:64] if claimed else None,
            None if reply.drop else reply.status, "+".join(applied) or None))
        return reply

    # --- steps ---------------------------------------------------------------------------

    def _route(self, request: Request):
        allowed = []
        for method, pattern, name, signed in ROUTES:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if method == request.method:
                return (name, signed), {k: unquote(v) for k, v in match.groupdict().items()}
            allowed.append(method)
        if not allowed:
            raise wire.ApiError("not_found", f"no such operation: {request.path}", 404)
        raise wire.ApiError("method_not_allowed", f"{request.method} is not allowed here; use {', '.join(allowed)}",
                            405, {"Allow": ", ".join(allowed)})

    def _faults_before(self, request: Request, applied: list[str]) -> None:
        limited = self.faults.roll("rate_limit", request.path)
        if limited is not None:
            applied.append("rate_limit")
            raise wire.RateLimited("injected fault: rate_limit", limited["retry_after"])
        if self.faults.roll("http_500", request.path) is not None:
            applied.append("http_500")
            raise _Injected500()
        slow = self.faults.roll("slow", request.path)
        if slow is not None:
            applied.append("slow")
            request.cancelled.wait(slow["seconds"])

    def _authenticate(self, request: Request, params: dict) -> tuple[str, str]:
        """(site id, nonce) of a request signed by a registered site, fresh and never seen."""
        site_id = request.headers.get("X-Site-Id")
        if site_id is None or not wire.SITE_ID.fullmatch(site_id):
            raise wire.ApiError("bad_header", "X-Site-Id is required: 1..64 of A-Z a-z 0-9 _ -", 400)
        key_text = self.ops.db.site_key(site_id)
        if key_text is None:
            raise wire.ApiError("unknown_site", f"site {site_id} is not registered at this store", 401)
        signature = request.headers.get("X-Site-Signature")
        if not signature:
            raise wire.ApiError("missing_signature", "X-Site-Signature is required on every request", 401)
        timestamp = request.headers.get("X-Site-Timestamp") or ""
        nonce = request.headers.get("X-Site-Nonce") or ""
        if not wire.TIMESTAMP.fullmatch(timestamp) or not wire.NONCE.fullmatch(nonce):
            # Part of the v1.1 signature: without them a request is not authenticated (a v1.0 site).
            raise wire.ApiError("missing_signature", "X-Site-Timestamp (whole Unix seconds) and X-Site-Nonce "
                                                     "(16..64 of A-Z a-z 0-9 _ -) are required on every request "
                                                     "(protocol v1.1)", 401)
        try:
            # http.server decoded the request line as Latin-1: encoding back gives the bytes sent.
            signed = signing_input(request.method, request.target.encode("latin-1"), site_id, timestamp, nonce,
                                   request.body)
            load_public_key(key_text).verify(unb64url(signature), signed)
        except (InvalidSignature, ValueError, TypeError):  # not base64url, not 64 bytes, or not this key's
            raise wire.ApiError("bad_signature", "X-Site-Signature does not verify with this site's key", 401) from None
        if "site_id" in params and params["site_id"] != site_id:
            raise wire.ApiError("site_mismatch", "X-Site-Id differs from the site in the path", 403)
        now = self.clock.now()
        if abs(now - int(timestamp)) > MAX_SKEW_S:
            raise wire.ApiError("stale_request", f"X-Site-Timestamp is more than {MAX_SKEW_S} s from the store's "
                                                 "time: check the clock (or this is a replay)", 401)
        if not self.ops.db.first_use_of_nonce(site_id, nonce, now, now - NONCE_MEMORY_S):
            raise wire.ApiError("replayed_request", "this X-Site-Nonce was used before: a request is sent once", 401)
        return site_id, nonce

    def _handle(self, request: Request, route, params: dict, site_id: str, nonce: str, applied: list[str]) -> Reply:
        name, signed = route
        query_name = _QUERIES.get(name)
        query_value = wire.query_token(request.query, query_name, {query_name} if query_name else set())
        body = None
        if name in _BODIES:
            content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise wire.ApiError("unsupported_media_type", "send the body as application/json", 415)
            body = _BODIES[name](wire.parse_json(request.body))
        if "trade_number" in params and not wire.TRADE_NUMBER.fullmatch(params["trade_number"]):
            raise wire.ApiError("unknown_parcel", "not a trade number", 404)
        out_of_order = name in ("manifest", "events") and self._roll("out_of_order", request, applied)
        value = self._operate(name, site_id, params, body, query_value, out_of_order, nonce, request.body)
        return self._reply(request, name, value, signed, applied)

    def _operate(self, name: str, site_id: str, params: dict, body, query_value, out_of_order: bool, nonce: str,
                 raw: bytes):
        ops = self.ops
        if name == "manifest":
            return ops.manifest(site_id, query_value, nonce, stale=out_of_order)
        if name == "setup":
            return ops.setup(site_id)
        if name == "events":
            ack = ops.receive_events(site_id, body, nonce, raw)
            return _mangle_ack(ack) if out_of_order else ack
        if name == "audit_anchors":
            return ops.audit_anchors(site_id, nonce)
        if name == "verify":
            return ops.verify(site_id, body)
        if name == "biometric_reference":
            return ops.biometric_reference(site_id, params["trade_number"])
        if name == "biometric_match":
            return ops.biometric_match(site_id, body)
        if name == "card_signatures":
            return ops.card_signature(site_id, body, nonce, raw)
        return ops.time(query_value)

    def _reply(self, request: Request, name: str, value: dict, signed: bool, applied: list[str]) -> Reply:
        if signed:
            bad = self.faults.roll("bad_signature", request.path)
            if bad is not None:
                applied.append("bad_signature")
            value = self._envelope(name, value, bad["variant"] if bad else None)
        reply = json_reply(200, value)
        broken = self.faults.roll("malformed_json", request.path)
        if broken is not None:
            applied.append("malformed_json")
            _break(reply, broken["variant"])
        late = self.faults.roll("timeout_after_processing", request.path)
        if late is not None:
            applied.append("timeout_after_processing")
            if late["mode"] == "drop":
                reply.drop = True
            else:
                reply.hold_s = late["seconds"]
        return reply

    def _envelope(self, name: str, document: dict, bad: str | None) -> dict:
        if bad == "wrong_key":
            return {"document": document, "signature": sign(self.wrong_key, document)}
        signature = sign(self.key, document)
        if bad == "tampered":
            document = _tamper(name, copy.deepcopy(document))
        return {"document": document, "signature": signature}

    def _roll(self, fault: str, request: Request, applied: list[str]) -> bool:
        if self.faults.roll(fault, request.path) is None:
            return False
        applied.append(fault)
        return True


class _Injected500(Exception):
    pass


def _mangle_ack(ack: dict) -> dict:
    """An acknowledgement that leaves out one id of the batch and names one never sent."""
    accepted, duplicates = list(ack["accepted"]), list(ack["duplicates"])
    if accepted or duplicates:
        (accepted if accepted else duplicates).pop()
    accepted.append(secrets.token_hex(16))
    return ack | {"accepted": accepted, "duplicates": duplicates}


def _tamper(name: str, doc: dict) -> dict:
    """Change a signed document after signing, the way an attacker in the middle would."""
    if "result" in doc:
        doc["result"] = "mismatch" if doc["result"] == "match" else "match"
    elif name == "manifest":
        if doc["parcels"]:
            doc["parcels"][0]["amount_due"] += 1
        else:
            doc["cancelled"].append("0000-0000")
    elif name == "setup":
        doc["hold_days"] += 1
    elif name in ("events", "card_signatures"):
        doc["body_sha256"] = "0" * 64
    elif name == "audit_anchors":
        doc["anchors"] = []
    elif name == "biometric_reference":
        doc["template"] = doc["template"][::-1]
    else:
        doc["now"] = "2000-01-01T00:00:00.000Z"
    return doc


def _break(reply: Reply, variant: str) -> None:
    if variant == "truncated":
        reply.body = reply.body[:max(1, len(reply.body) // 2)]
    elif variant == "not_json":
        reply.body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        reply.content_type = "text/html"
    else:
        reply.body = b'{"status": "ok"}'
