"""Online checks at the store: verdicts, lock-out, rate limits (429 + Retry-After);
biometric references and central matching; IC-card signatures."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from hwsim.biometrics.fingers import enrol, finger_of
from hwsim.store import Limits
from kiosk.errors import UnknownParcel
from kiosk.security.keys import b64url, canonical_bytes, unb64url
from tests.hwsim.conftest import SITE, event, opened

VERIFY = f"/v1/sites/{SITE}/verify"
MATCH = f"/v1/sites/{SITE}/biometric-match"


def ask(client, store, trade_number, secret, method="locker", request_id=None):
    request_id = request_id or f"req-{uuid.uuid4().hex}"
    reply = client.post(VERIFY, {"trade_number": trade_number, "method": method, "secret": secret,
                                 "request_id": request_id})
    if reply.status_code != 200:
        return reply
    document = opened(reply, store)
    assert document["trade_number"] == trade_number and document["request_id"] == request_id
    return document["result"]


def test_verdicts(store, client):
    made = store.create_parcel(SITE)
    assert ask(client, store, made.trade_number, made.secret) == "match"
    assert ask(client, store, made.trade_number, "000000" if made.secret != "000000" else "1") == "mismatch"
    assert ask(client, store, "0000-0000", "123456") == "unknown"
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in made.secret)   # typed on a Japanese keyboard
    assert ask(client, store, made.trade_number, full_width) == "match"


def test_a_parcel_not_to_be_handed_over_is_unknown(store, client):
    cancelled, collected, biometric = store.create_parcel(SITE), store.create_parcel(SITE), \
        store.create_parcel(SITE, "biometric")
    store.cancel_parcel(SITE, cancelled.trade_number)
    client.post(f"/v1/sites/{SITE}/events", {"events": [event(1, "parcel_collected", collected.trade_number)]})
    assert ask(client, store, cancelled.trade_number, cancelled.secret) == "unknown"
    assert ask(client, store, collected.trade_number, collected.secret) == "unknown"
    assert ask(client, store, biometric.trade_number, "123456", method="biometric") == "unknown"


def test_the_wrong_method_is_a_conflict(store, client):
    made = store.create_parcel(SITE, "f1_tag")
    reply = ask(client, store, made.trade_number, made.secret, method="locker")
    assert reply.status_code == 409 and reply.json()["error"] == "wrong_method"


def test_five_wrong_secrets_lock_the_parcel_until_the_store_resets_it(store, client):
    made = store.create_parcel(SITE, secret="135790")
    results = [ask(client, store, made.trade_number, "000000") for _ in range(5)]
    assert results == ["mismatch"] * 4 + ["locked"]
    assert ask(client, store, made.trade_number, "135790") == "locked"
    assert store.parcel_state(SITE, made.trade_number) == "locked"
    store.reset_attempts(SITE, made.trade_number)
    assert ask(client, store, made.trade_number, "135790") == "match"
    with pytest.raises(UnknownParcel):
        store.reset_attempts(SITE, "0000-0000")


def test_a_right_secret_resets_the_count(store, client):
    made = store.create_parcel(SITE, secret="135790")
    for _ in range(2):
        for _ in range(4):
            assert ask(client, store, made.trade_number, "000000") == "mismatch"
        assert ask(client, store, made.trade_number, "135790") == "match"


def test_a_parcel_asked_about_too_often_gets_429_until_the_window_passes(make_store, client, clock):
    store = make_store(limits=Limits(parcel_max=3, parcel_window_s=300, lock_after=100))
    client.http.base_url = store.url
    made = store.create_parcel(SITE)
    for _ in range(3):
        assert ask(client, store, made.trade_number, "000000") == "mismatch"
    refused = ask(client, store, made.trade_number, made.secret)
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert refused.headers["Retry-After"] == "300"
    clock.advance(100)
    assert ask(client, store, made.trade_number, made.secret).headers["Retry-After"] == "200"
    other = store.create_parcel(SITE)
    assert ask(client, store, other.trade_number, other.secret) == "match"   # other parcels are not held up
    clock.advance(200)
    assert ask(client, store, made.trade_number, made.secret) == "match"


def test_a_site_asking_too_often_gets_429(make_store, client, clock):
    store = make_store(limits=Limits(site_max=4, site_window_s=60))
    client.http.base_url = store.url
    for i in range(4):
        assert ask(client, store, f"0000-000{i}", "123456") == "unknown"
    refused = ask(client, store, "0000-0009", "123456")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 60
    clock.advance(60)
    assert ask(client, store, "0000-0009", "123456") == "unknown"


def test_verify_requests_are_checked(store, client):
    good = {"trade_number": "1234-5678", "method": "locker", "secret": "123456", "request_id": "req-00000001"}
    for bad in ({**good, "secret": ""}, {**good, "secret": "x" * 65}, {**good, "method": "pigeon"},
                {**good, "request_id": "short"}, {**good, "trade_number": "12"}, {**good, "extra": 1},
                {k: v for k, v in good.items() if k != "secret"}, {**good, "secret": 123456}):
        reply = client.post(VERIFY, bad)
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_body", bad


def test_biometric_reference_and_central_matching(store, client):
    made = store.create_parcel(SITE, "biometric", template=enrol(7))
    assert made.secret is None
    reference = opened(client.get(f"/v1/sites/{SITE}/biometric-references/{made.trade_number}"), store)
    assert reference["format"] == "opaque-v1" and unb64url(reference["template"]) == enrol(7)

    def match(template: bytes, request_id=None):
        request_id = request_id or f"match-{uuid.uuid4().hex}"
        reply = client.post(MATCH, {"trade_number": made.trade_number, "template": b64url(template),
                                    "request_id": request_id})
        return opened(reply, store)["result"]

    assert match(enrol(7, seed=1)) == "match"           # another capture of the same finger
    assert match(enrol(8)) == "mismatch"                # another finger
    assert match(b"not a template") == "mismatch"
    random_one = store.create_parcel(SITE, "biometric")
    assert finger_of(random_one.template) is not None   # a synthetic finger the tests can place
    missing = client.get(f"/v1/sites/{SITE}/biometric-references/0000-0000")
    assert missing.status_code == 404 and missing.json()["error"] == "unknown_parcel"
    locker = store.create_parcel(SITE)
    assert client.get(f"/v1/sites/{SITE}/biometric-references/{locker.trade_number}").status_code == 404
    with pytest.raises(ValueError):
        store.create_parcel(SITE, "locker", template=b"x")


def test_card_signatures_are_stored_once(store, client):
    made = store.create_parcel(SITE, "ic_card")
    upload = {"trade_number": made.trade_number, "card_id": "card-0042", "signature": b64url(b"s" * 64),
              "signed_data": b64url(b"receipt data")}
    for _ in range(2):
        reply = client.post(f"/v1/sites/{SITE}/card-signatures", upload)
        document = opened(reply, store)
        assert document["stored"] is True and document["nonce"] == client.last_nonce
        assert document["body_sha256"] == hashlib.sha256(canonical_bytes(upload)).hexdigest()
    assert [s["card_id"] for s in store.card_signatures(SITE)] == ["card-0042"]
    unknown = client.post(f"/v1/sites/{SITE}/card-signatures", {**upload, "trade_number": "0000-0000"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_parcel"
    bad = client.post(f"/v1/sites/{SITE}/card-signatures", {**upload, "signature": "a"})
    assert bad.status_code == 400


def test_a_replayed_check_is_refused_and_counts_nothing(store, client):
    """Issue 8 §2: replayed wrong-secret checks locked a parcel at the store. A request_id
    is good once, whatever nonce the request carries."""
    made = store.create_parcel(SITE, secret="135790")
    assert ask(client, store, made.trade_number, "000000", request_id="req-replayed-1") == "mismatch"
    for _ in range(6):
        again = ask(client, store, made.trade_number, "000000", request_id="req-replayed-1")
        assert again.status_code == 409 and again.json()["error"] == "request_id_reused"
    assert store.parcel_state(SITE, made.trade_number) == "expected"
    assert ask(client, store, made.trade_number, "135790") == "match"
