"""Fixtures for the store emulator's tests: a started emulator on a manual clock, a site
registered with a fresh key, and a small signing HTTP client written here (not the sync
engine's), so that the emulator is checked by a client that is not the one it serves."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.clock import ManualClock, iso
from kiosk.security.keys import b64url, canonical_bytes, load_public_key, public_key_text, verify
from kiosk.security.secrets import HashParams
from hwsim.store import StoreEmulator, signing_input

CHEAP = HashParams(memory_kib=1024, iterations=1, lanes=1)   # tests only: fast hashes
SITE = "sim-0001"


class SiteClient:
    """Signs every request as PROTOCOL.md (v1.1) says: METHOD SP TARGET LF SITE LF
    TIMESTAMP LF NONCE LF BODY, dated by ``clock``, with a fresh nonce unless given one."""

    def __init__(self, base_url: str, site_id: str, key: Ed25519PrivateKey, timeout: float = 10.0, *, clock=None):
        self.site_id = site_id
        self.key = key
        self.clock = clock or ManualClock()
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self.last_nonce: str | None = None

    def request(self, method: str, path: str, body=None, *, params=None, raw: bytes | None = None,
                headers: dict | None = None, sign: bool = True, key: Ed25519PrivateKey | None = None,
                site_id: str | None = None, timeout=httpx.USE_CLIENT_DEFAULT, nonce: str | None = None,
                timestamp: str | None = None) -> httpx.Response:
        content = raw if raw is not None else (canonical_bytes(body) if body is not None else b"")
        timestamp = timestamp if timestamp is not None else str(int(self.clock.now()))
        nonce = nonce if nonce is not None else uuid.uuid4().hex
        self.last_nonce = nonce
        all_headers = {"X-Site-Id": site_id or self.site_id, "X-Site-Timestamp": timestamp, "X-Site-Nonce": nonce}
        if content or method == "POST":
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        request = self.http.build_request(method, path, content=content or None, params=params,
                                          headers=all_headers, timeout=timeout)
        if sign:
            target = request.url.raw_path.decode("ascii")
            request.headers["X-Site-Signature"] = b64url((key or self.key).sign(
                signing_input(method, target, site_id or self.site_id, timestamp, nonce, content)))
        return self.http.send(request)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body, **kw) -> httpx.Response:
        return self.request("POST", path, body, **kw)

    def close(self) -> None:
        self.http.close()


def opened(response: httpx.Response, store: StoreEmulator) -> dict:
    """The document of a signed reply, after checking the signature with the store's key."""
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert set(envelope) == {"document", "signature"}
    assert verify(load_public_key(store.public_key_text), envelope["document"], envelope["signature"])
    return envelope["document"]


def acknowledged(response: httpx.Response, store: StoreEmulator, client: "SiteClient", body: dict) -> dict:
    """The signed acknowledgement of an events batch, checked to answer exactly that request."""
    document = opened(response, store)
    assert document["site_id"] == client.site_id and document["nonce"] == client.last_nonce
    assert document["body_sha256"] == hashlib.sha256(canonical_bytes(body)).hexdigest()
    return document


def event(seq: int, kind: str = "parcel_arrived", trade_number: str | None = "1234-5678", **payload) -> dict:
    return {"event_id": uuid.uuid4().hex, "seq": seq, "kind": kind, "trade_number": trade_number,
            "created_at": iso(1_800_000_000 + seq), "payload": payload}


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def site_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def make_store(tmp_path, clock, site_key):
    """Build (and afterwards close) emulators with options; the site is registered."""
    made = []

    def make(**options) -> StoreEmulator:
        options.setdefault("hash_params", CHEAP)
        options.setdefault("seed", 7)
        store = StoreEmulator(tmp_path / f"store{len(made)}", clock=clock, **options)
        made.append(store)
        store.start()
        store.register_site(SITE, public_key_text(site_key.public_key()))
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store):
    return make_store()


@pytest.fixture
def client(store, site_key, clock):
    c = SiteClient(store.url, SITE, site_key, clock=clock)
    yield c
    c.close()
