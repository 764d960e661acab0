"""docs/api/store-api.yaml against the store emulator: a property-based API test.

The OpenAPI document is first checked as a document (openapi-spec-validator), then
schemathesis generates requests for every operation in it — valid ones and, for each
constraint, invalid ones — and checks every reply of the emulator (started in-process on
port 0) against the document: status codes, headers, bodies, 5xx never, invalid input
refused with a 4xx, undeclared methods 405 with Allow, and requests stripped of their
signature refused with 401. Requests are dated, given a fresh nonce and signed as
PROTOCOL.md (v1.1) says, over the exact bytes sent, by a requests auth hook;
schemathesis's own auth probes drop it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from hwsim.store import StoreEmulator, signing_input
from kiosk.clock import ManualClock
from kiosk.security.keys import b64url, load_public_key, public_key_text, verify
from kiosk.security.secrets import HashParams

SPEC = Path(__file__).resolve().parents[1] / "docs" / "api" / "store-api.yaml"
SITE = "sim-0001"
SITE_KEY = Ed25519PrivateKey.generate()
PARCELS = {"1000-0001": "biometric", "1000-0002": "locker", "1000-0003": "secret", "1000-0004": "ic_card"}

CONFIG = schemathesis.Config.from_dict({
    "seed": 20261121,                      # repeatable on CI; change it locally to explore
    "parameters": {
        "path.site_id": SITE, "header.X-Site-Id": SITE,
        # Half the trade numbers drawn are parcels the store holds, so that answers other than
        # "unknown" / 404 are exercised too.
        "path.trade_number": {"dictionary": "parcels", "probability": 0.5},
        "body.trade_number": {"dictionary": "parcels", "probability": 0.5},
    },
    "dictionaries": {"parcels": {"values": list(PARCELS)}},
    "generation": {"max-examples": 25},
    "checks": {
        # A cursor the store never issued is answered 410 (documented): valid in shape, not known.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "410", "429"]},
    },
    "phases": {"stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)


class SiteSignature(requests.auth.AuthBase):
    """Dates (on the store's clock), gives a fresh nonce and signs METHOD SP TARGET LF SITE
    LF TIMESTAMP LF NONCE LF BODY over what requests is about to send — when the case
    carries a signature at all: a case made without one (to test that the store refuses it)
    is sent without one, and one made without a timestamp or a nonce is sent without it."""

    def __init__(self, clock):
        self.clock = clock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if "X-Site-Signature" not in request.headers:
            return request
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        timestamp = nonce = ""
        if "X-Site-Timestamp" in request.headers:
            timestamp = request.headers["X-Site-Timestamp"] = str(int(self.clock.now()))
        if "X-Site-Nonce" in request.headers:
            nonce = request.headers["X-Site-Nonce"] = uuid.uuid4().hex
        request.headers["X-Site-Signature"] = b64url(SITE_KEY.sign(signing_input(
            request.method, request.path_url, SITE, timestamp, nonce, body)))
        return request


@pytest.fixture
def store(tmp_path):
    """A fresh store per operation: events about the known parcels (collected, returned)
    generated for one operation must not close them for the next."""
    emulator = StoreEmulator(tmp_path / "store", clock=ManualClock(),
                             hash_params=HashParams(memory_kib=1024, iterations=1, lanes=1), seed=1)
    emulator.start()
    emulator.register_site(SITE, public_key_text(SITE_KEY.public_key()))
    for trade_number, method in PARCELS.items():
        emulator.create_parcel(SITE, method, trade_number=trade_number)
    yield emulator
    emulator.close()


@pytest.fixture
def answered():
    """The status codes one operation answered, checked once all its examples have run (the
    fixture lives as long as the operation's test): some 2xx, so signatures and site were
    right, and some 401, unsigned requests refused. Guards against a vacuous run, per
    operation, so it holds in any order and on any pytest-xdist worker."""
    codes: list[int] = []
    yield codes
    assert any(200 <= code < 300 for code in codes), f"no request was accepted: {codes}"
    assert 401 in codes, f"no unsigned request was refused: {codes}"


def test_the_document_is_valid_openapi_3_1():
    document, _ = read_from_filename(str(SPEC))
    validate(document)
    assert document["openapi"].startswith("3.1") and document["info"]["version"]
    assert all(path.startswith("/v1/") for path in document["paths"])


# Every field and parameter the contract has. A new one must be added here on purpose, after
# asking whether it could carry a person's data (it must not: MISSION.md, "Privacy is the point").
FIELDS = {
    "site_id", "X-Site-Id", "X-Site-Signature", "X-Site-Timestamp", "X-Site-Nonce", "sequence", "body_sha256",
    "rejected", "index", "anchors", "hash", "cursor", "nonce", "trade_number", "since", "complete",
    "parcels", "cancelled", "method", "secret_hash", "amount_due", "hold_deadline", "locker_hint", "lockers",
    "number", "size", "hold_days", "reminder_hours", "events", "event_id", "seq", "kind", "created_at",
    "payload", "accepted", "duplicates", "secret", "request_id", "result", "template", "format", "card_id",
    "signature", "signed_data", "stored", "now", "document", "error", "message",
    "token_hash",   # v1.2: a slow hash of the id of a token that travels on a parcel (an object, not a person)
    "low_door",     # v1.3: a door the recipient can reach — a need, not who they are (no name, no reason)
    "group",        # v1.3: an opaque id shared by one recipient's parcels (one visit), never a name
    "dropoff",      # v1.3: a parcel sent from here (its code is the sender's drop-off code)
}


def _names(node):
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield from node["properties"]
        if node.get("in") in ("path", "query", "header") and "name" in node:
            yield node["name"]
        for value in node.values():
            yield from _names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _names(value)


def test_no_personal_data_fields_anywhere():
    document, _ = read_from_filename(str(SPEC))
    assert set(_names(document)) == FIELDS
    assert "no personal data" in document["info"]["description"].lower()


def signed_by_the_store(store: StoreEmulator):
    """A schemathesis check: every signed document verifies with the store's public key."""
    store_key = load_public_key(store.public_key_text)

    def check(ctx, response, case):
        if response.status_code != 200:
            return None
        body = response.json()
        if isinstance(body, dict) and "signature" in body:
            assert verify(store_key, body["document"], body["signature"]), "the store's signature does not verify"
        return True

    check.__name__ = "signed_by_the_store"
    return check


@pytest.mark.slow
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one store per operation, on purpose
def test_the_emulator_keeps_the_contract(case, store, answered):
    response = case.call_and_validate(base_url=store.url, auth=SiteSignature(store.clock),
                                      additional_checks=[signed_by_the_store(store)])
    answered.append(response.status_code)
