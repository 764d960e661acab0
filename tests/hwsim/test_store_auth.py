"""The store emulator knows who is asking: every request signed by a registered site."""

from __future__ import annotations

import stat

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.store import StoreEmulator, signing_input
from kiosk.security.keys import b64url, canonical_bytes, public_key_text
from tests.hwsim.conftest import SITE, event, opened


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}
    return body["error"]


def test_a_signed_request_is_answered_with_a_signed_document(store, client):
    assert "now" in opened(client.get("/v1/time"), store)


@pytest.mark.parametrize("method,path,body", [
    ("GET", f"/v1/sites/{SITE}/manifest", None),
    ("GET", "/v1/time", None),
    ("POST", f"/v1/sites/{SITE}/events", {"events": [event(1)]}),
])
def test_every_request_needs_a_valid_signature(store, client, method, path, body):
    assert _error(client.request(method, path, body, sign=False), 401) == "missing_signature"
    assert _error(client.request(method, path, body, key=Ed25519PrivateKey.generate()), 401) == "bad_signature"
    assert not store.events()


def test_the_signature_covers_the_body(store, client, site_key):
    assert client.post(f"/v1/sites/{SITE}/events", {"events": [event(1)]}).status_code == 200
    # Sign one body, send another: refused.
    signed_body = {"events": [event(2)]}
    fresh = {"X-Site-Id": SITE, "X-Site-Timestamp": str(int(client.clock.now())), "X-Site-Nonce": "n" * 32}
    request = client.http.build_request("POST", f"/v1/sites/{SITE}/events", json={"events": [event(3)]},
                                        headers=fresh)
    request.headers["X-Site-Signature"] = b64url(site_key.sign(
        signing_input("POST", f"/v1/sites/{SITE}/events", SITE, fresh["X-Site-Timestamp"], "n" * 32,
                      canonical_bytes(signed_body))))
    assert _error(client.http.send(request), 401) == "bad_signature"
    assert len(store.events()) == 1


def test_the_signature_covers_the_query(store, client, site_key):
    fresh = {"X-Site-Id": SITE, "X-Site-Timestamp": str(int(client.clock.now())), "X-Site-Nonce": "n" * 32}
    request = client.http.build_request("GET", f"/v1/sites/{SITE}/manifest", params={"cursor": "0"}, headers=fresh)
    request.headers["X-Site-Signature"] = b64url(site_key.sign(
        signing_input("GET", f"/v1/sites/{SITE}/manifest", SITE, fresh["X-Site-Timestamp"], "n" * 32, b"")))
    assert _error(client.http.send(request), 401) == "bad_signature"


def test_the_signature_covers_the_timestamp_and_the_nonce(store, client, site_key):
    """v1.1: a captured request cannot be re-dated or re-nonced without the site key."""
    ts = str(int(client.clock.now()))
    request = client.http.build_request("GET", "/v1/time", headers={
        "X-Site-Id": SITE, "X-Site-Timestamp": ts, "X-Site-Nonce": "b" * 32})
    request.headers["X-Site-Signature"] = b64url(site_key.sign(signing_input("GET", "/v1/time", SITE, ts, "a" * 32,
                                                                              b"")))
    assert _error(client.http.send(request), 401) == "bad_signature"


def test_a_replayed_request_is_refused(store, client):
    """Issue 8 §2: one captured manifest request could be replayed forever (every new parcel's
    secret hash read); now a nonce is good once and a timestamp for 60 s either side."""
    manifest = f"/v1/sites/{SITE}/manifest"
    assert client.get(manifest, nonce="c" * 32).status_code == 200
    assert _error(client.get(manifest, nonce="c" * 32), 401) == "replayed_request"
    stale = str(int(client.clock.now()) - 61)
    assert _error(client.get(manifest, timestamp=stale), 401) == "stale_request"
    future = str(int(client.clock.now()) + 61)
    assert _error(client.get(manifest, timestamp=future), 401) == "stale_request"
    assert client.get(manifest, timestamp=str(int(client.clock.now()) - 59)).status_code == 200
    for headers in ({"X-Site-Timestamp": "yesterday"}, {"X-Site-Nonce": "short"}):
        assert _error(client.get(manifest, headers=headers), 401) == "missing_signature"


def test_a_nonce_is_remembered_for_as_long_as_its_request_could_be_fresh(store, client):
    ts = str(int(client.clock.now()))
    assert client.get("/v1/time", nonce="d" * 32, timestamp=ts).status_code == 200
    client.clock.advance(60)
    assert _error(client.get("/v1/time", nonce="d" * 32, timestamp=ts), 401) == "replayed_request"
    client.clock.advance(1)
    assert _error(client.get("/v1/time", nonce="d" * 32, timestamp=ts), 401) == "stale_request"


def test_unknown_sites_mismatched_sites_and_bad_headers(store, client):
    assert _error(client.get("/v1/time", site_id="sim-9999"), 401) == "unknown_site"
    assert _error(client.get("/v1/time", site_id="not a site!"), 400) == "bad_header"
    store.register_site("sim-0002", store.public_key_text)  # any valid key
    other = client.get("/v1/sites/sim-0002/manifest")
    assert _error(other, 403) == "site_mismatch"
    assert _error(client.get("/v1/time", headers={"X-Site-Signature": "%%%"}, sign=False), 401) == "bad_signature"


def test_re_registering_a_site_replaces_its_key(store, client):
    new_key = Ed25519PrivateKey.generate()
    store.register_site(SITE, public_key_text(new_key.public_key()))
    assert _error(client.get("/v1/time"), 401) == "bad_signature"
    assert client.get("/v1/time", key=new_key).status_code == 200


def test_routes_methods_and_media_types(store, client):
    assert _error(client.get("/v1/nothing"), 404) == "not_found"
    assert _error(client.get("/v2/time"), 404) == "not_found"
    refused = client.request("DELETE", "/v1/time")
    assert _error(refused, 405) == "method_not_allowed" and refused.headers["Allow"] == "GET"
    assert client.request("POST", f"/v1/sites/{SITE}/manifest").headers["Allow"] == "GET"
    wrong_type = client.post(f"/v1/sites/{SITE}/events", {"events": [event(1)]}, headers={"Content-Type": "text/plain"})
    assert _error(wrong_type, 415) == "unsupported_media_type"
    assert _error(client.post(f"/v1/sites/{SITE}/events", None, raw=b"{not json"), 400) == "malformed_json"
    assert _error(client.post(f"/v1/sites/{SITE}/events", None, raw=b'{"events": [], "events": []}'), 400) \
        == "malformed_json"
    assert _error(client.post(f"/v1/sites/{SITE}/events", None, raw=b'{"events": NaN}'), 400) == "malformed_json"
    assert _error(client.post(f"/v1/sites/{SITE}/events", None, raw=b"\xff\xfe"), 400) == "malformed_json"
    assert _error(client.get("/v1/time", params={"what": "x"}), 400) == "invalid_query"
    assert _error(client.get(f"/v1/sites/{SITE}/manifest", params={"cursor": "no spaces"}), 400) == "invalid_query"


def test_bodies_are_capped_and_need_a_length(store, client):
    big = b'{"events": [' + b" " * (1024 * 1024) + b"]}"
    assert _error(client.post(f"/v1/sites/{SITE}/events", None, raw=big), 413) == "too_large"

    def chunks():
        yield b'{"events": []}'
    request = client.http.build_request("POST", f"/v1/sites/{SITE}/events", content=chunks(),
                                        headers={"X-Site-Id": SITE, "Content-Type": "application/json"})
    assert _error(client.http.send(request), 411) == "length_required"


def test_it_listens_on_loopback_only(tmp_path):
    store = StoreEmulator(tmp_path / "store")
    try:
        for host in ("0.0.0.0", "192.168.1.10", "example.com", "::"):
            with pytest.raises(ValueError, match="loopback"):
                store.start(host=host)
        assert store.start(host="localhost").startswith("http://127.0.0.1:")
    finally:
        store.close()


def test_the_store_key_is_kept_owner_only_and_survives_a_restart(tmp_path):
    with StoreEmulator(tmp_path / "store") as first:
        key = first.public_key_text
    mode = (tmp_path / "store" / "store_key.pem").stat().st_mode
    assert not mode & (stat.S_IRWXG | stat.S_IRWXO)
    with StoreEmulator(tmp_path / "store") as second:
        assert second.public_key_text == key


def test_control_api_refuses_bad_input(store):
    with pytest.raises(ValueError):
        store.register_site("bad id", store.public_key_text)
    with pytest.raises(ValueError):
        store.register_site("sim-0003", "not-a-key")
    with pytest.raises(ValueError):
        store.create_parcel(SITE, "pigeon")
    with pytest.raises(LookupError):
        store.create_parcel("sim-nowhere")
    with pytest.raises(ValueError):
        store.create_parcel(SITE, amount_due=-1)
    with pytest.raises(ValueError):
        store.set_fault("earthquake")
    with pytest.raises(ValueError):
        store.set_fault("slow", seconds=-1)
    with pytest.raises(ValueError):
        store.set_fault("http_500", p=2)
    with pytest.raises(ValueError):
        store.set_fault("down", p=0.5)


@pytest.mark.parametrize("raw", [
    b'{"events": [' * 40 + b"]" * 40 + b"}",                   # deeper than allowed
    b"[" * 100_000 + b"]" * 100_000,                           # deeper than the parser's stack
    b'{"events": [{"event_id": "' + b"a" * 32 + b'", "seq": 1e400}]}',
    b'{"events": [{"payload": {"x": -1e999}}]}',
    b'{"events": [{"seq": ' + b"9" * 5000 + b"}]}",
    b'{"events": Infinity}',
    b'"just a string"',
    b"null",
    b"",
])
def test_hostile_bodies_get_a_clear_4xx_never_a_500(store, client, raw):
    for path in (f"/v1/sites/{SITE}/events", f"/v1/sites/{SITE}/verify", f"/v1/sites/{SITE}/biometric-match",
                 f"/v1/sites/{SITE}/card-signatures"):
        reply = client.post(path, None, raw=raw)
        assert 400 <= reply.status_code < 500, (path, reply.text)
        assert set(reply.json()) == {"error", "message"}
    assert all(r.status < 500 for r in store.requests)
