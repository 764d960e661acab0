"""StoreClient against a scripted transport: signing, and every kind of reply it must refuse.

No network here: ``httpx.MockTransport`` plays the store, so each hostile or broken
reply is exact. (The emulator over real loopback HTTP is in test_pump and friends.)
"""

import json

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.errors import (BadStoreReply, BadStoreSignature, ConfigError, StoreBusy, StoreRejected,
                          StoreUnreachable)
from kiosk.security.keys import public_key_text, sign, unb64url
from kiosk.sync.client import StoreClient
from kiosk.sync.http import make_client
from kiosk.sync.settings import StoreSettings

SITE = "site-7"
STORE_KEY = Ed25519PrivateKey.generate()
SITE_KEY = Ed25519PrivateKey.generate()


def settings(**kw) -> StoreSettings:
    return StoreSettings(**{"url": "http://127.0.0.1:9", "public_key": public_key_text(STORE_KEY.public_key()),
                            "timeout_s": 2.0, **kw})


def client_for(handler) -> StoreClient:
    return StoreClient(settings(), SITE, SITE_KEY, transport=httpx.MockTransport(handler))


def event(i: int) -> dict:
    return {"event_id": f"{i:032x}", "seq": i, "kind": "parcel_arrived", "trade_number": "1234-5678",
            "created_at": "2027-01-15T08:00:00.000Z", "payload": {"locker": 1}}


def signed(document: dict, key=STORE_KEY) -> dict:
    return {"document": document, "signature": sign(key, document)}


def reply(value, status=200, **kw) -> httpx.Response:
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    return httpx.Response(status, content=body, **kw)


async def test_requests_carry_the_site_id_and_a_signature_over_method_target_and_body():
    seen = {}

    def handler(request: httpx.Request):
        seen["site"] = request.headers["X-Site-Id"]
        SITE_KEY.public_key().verify(unb64url(request.headers["X-Site-Signature"]),
                                     b"POST " + request.url.raw_path + b"\n" + request.content)
        seen["path"] = request.url.path
        ids = [e["event_id"] for e in json.loads(request.content)["events"]]
        return reply({"accepted": ids[1:], "duplicates": ids[:1]})

    client = client_for(handler)
    ack = await client.post_events([event(1), event(2), event(3)])
    await client.aclose()
    assert seen == {"site": SITE, "path": f"/v1/sites/{SITE}/events"}
    assert ack.duplicates == (f"{1:032x}",) and len(ack.accepted) == 2


@pytest.mark.parametrize("answer", [
    {"accepted": [f"{1:032x}"], "duplicates": []},                                  # one left out
    {"accepted": [f"{1:032x}", f"{2:032x}", f"{9:032x}"], "duplicates": []},        # one never sent
    {"accepted": [f"{1:032x}", f"{2:032x}"], "duplicates": [f"{2:032x}"]},          # one twice
    {"accepted": [f"{1:032x}", f"{2:032x}"]},                                        # a field missing
    {"accepted": [f"{1:032x}", f"{2:032x}"], "duplicates": [], "also": 1},          # a field too many
    {"accepted": f"{1:032x}", "duplicates": []},                                    # wrong type
    [f"{1:032x}", f"{2:032x}"],                                                     # not an object
], ids=["missing", "unknown", "repeated", "short", "extra", "type", "list"])
async def test_an_ack_that_is_not_exactly_the_batch_fails_the_exchange(answer):
    client = client_for(lambda request: reply(answer))
    with pytest.raises(BadStoreReply):
        await client.post_events([event(1), event(2)])
    await client.aclose()


async def test_an_ack_in_another_order_is_fine():
    client = client_for(lambda request: reply({"accepted": [f"{2:032x}", f"{1:032x}"], "duplicates": []}))
    ack = await client.post_events([event(1), event(2)])
    await client.aclose()
    assert set(ack.accepted) == {f"{1:032x}", f"{2:032x}"}


@pytest.mark.parametrize("body", [b'{"accepted": [', b"<html>proxy error</html>", b'{"accepted": NaN}',
                                  b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000],
                         ids=["truncated", "html", "nan", "not-utf8", "deep"])
async def test_malformed_json_is_a_bad_reply(body):
    client = client_for(lambda request: reply(body))
    with pytest.raises(BadStoreReply, match="not valid JSON"):
        await client.post_events([event(1)])
    await client.aclose()


async def test_an_oversized_reply_is_refused_without_reading_it_all():
    client = client_for(lambda request: httpx.Response(200, content=b" " * (9 * 1024 * 1024)))
    with pytest.raises(BadStoreReply, match="larger"):
        await client.post_events([event(1)])
    await client.aclose()


async def test_error_statuses():
    answers = iter([reply({"error": "internal", "message": "db\x00down"}, 500),
                    reply({"error": "rate_limited", "message": "slow down"}, 429, headers={"Retry-After": "7"}),
                    reply(b"", 429, headers={"Retry-After": "soon"}),
                    reply({}, 302, headers={"Location": "http://elsewhere.example/"}),
                    reply({}, 204)])
    client = client_for(lambda request: next(answers))
    with pytest.raises(StoreRejected) as err:
        await client.post_events([event(1)])
    assert err.value.status == 500 and err.value.code == "internal" and "\x00" not in str(err.value)
    with pytest.raises(StoreBusy) as busy:
        await client.post_events([event(1)])
    assert busy.value.retry_after == 7.0
    with pytest.raises(StoreBusy) as busy:
        await client.post_events([event(1)])
    assert busy.value.retry_after == 1.0   # unreadable Retry-After: a modest default
    with pytest.raises(BadStoreReply, match="302"):   # redirects are never followed
        await client.post_events([event(1)])
    with pytest.raises(BadStoreReply, match="204"):
        await client.post_events([event(1)])
    await client.aclose()


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                 httpx.RemoteProtocolError("Server disconnected without sending a response")])
async def test_no_answer_is_unreachable(exc):
    def handler(request):
        raise exc

    client = client_for(handler)
    with pytest.raises(StoreUnreachable):
        await client.post_events([event(1)])
    await client.aclose()


def manifest_doc(**kw) -> dict:
    return {"site_id": SITE, "since": None, "cursor": "42", "complete": True, "parcels": [], "cancelled": [], **kw}


async def test_manifest_signature_site_and_cursor_are_checked():
    other = Ed25519PrivateKey.generate()
    tampered = signed(manifest_doc())
    tampered["document"]["cancelled"] = ["1234-5678"]
    answers = iter([signed(manifest_doc(), other), tampered,
                    {"document": manifest_doc(), "signature": "not-base64!"},
                    manifest_doc(),
                    signed(manifest_doc(site_id="site-8")),
                    signed(manifest_doc(since="7")),
                    signed(manifest_doc(cursor="a b")),
                    signed(manifest_doc(complete="yes")),
                    signed(manifest_doc(name="Alice")),
                    signed(manifest_doc(since="6"))])
    queries = []

    def handler(request):
        queries.append(dict(request.url.params))
        SITE_KEY.public_key().verify(unb64url(request.headers["X-Site-Signature"]),
                                     b"GET " + request.url.raw_path + b"\n")   # a GET is signed too
        return reply(next(answers))

    client = client_for(handler)
    for expected in (BadStoreSignature, BadStoreSignature, BadStoreSignature):
        with pytest.raises(expected):
            await client.fetch_manifest(None)
    for match in ("wrong fields", "site-8", "another cursor", "cursor", "complete", "unexpected"):
        with pytest.raises(BadStoreReply, match=match):
            await client.fetch_manifest(None if match != "another cursor" else "6")
    page = await client.fetch_manifest("6")
    await client.aclose()
    assert page.cursor == "42" and page.complete and queries[5] == {"cursor": "6"} and queries[0] == {}


async def test_verification_answer_must_be_signed_and_for_this_request():
    sent = {}

    def handler(request):
        body = json.loads(request.content)
        sent.update(body)
        doc = {"trade_number": body["trade_number"], "request_id": body["request_id"], "result": "match"}
        if body["secret"] == "wrong-id":
            doc["request_id"] = "0" * 32
        if body["secret"] == "forged":
            return reply(signed(doc, Ed25519PrivateKey.generate()))
        if body["secret"] == "odd":
            doc["result"] = "maybe"
        return reply(signed(doc))

    client = client_for(handler)
    assert await client.verify_secret("1234-5678", "locker", "123456") == "match"
    assert sent["method"] == "locker" and len(sent["request_id"]) == 32
    with pytest.raises(BadStoreReply, match="another request"):
        await client.verify_secret("1234-5678", "locker", "wrong-id")
    with pytest.raises(BadStoreSignature) as err:
        await client.verify_secret("1234-5678", "locker", "forged")
    assert "forged" not in str(err.value)   # the secret never appears in an error
    with pytest.raises(BadStoreReply, match="result"):
        await client.verify_secret("1234-5678", "locker", "odd")
    await client.aclose()


def test_plain_http_only_on_loopback_and_https_needs_a_pinned_ca(tmp_path):
    for url in ("http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"):
        make_client(settings(url=url), SITE)
    with pytest.raises(ConfigError, match="loopback"):
        make_client(settings(url="http://store.example.com"), SITE)
    with pytest.raises(ConfigError, match="ca_file"):
        make_client(settings(url="https://store.example.com"), SITE)
    bad_ca = tmp_path / "ca.pem"
    bad_ca.write_text("not a certificate")
    with pytest.raises(ConfigError, match="CA"):
        make_client(settings(url="https://store.example.com", ca_file=bad_ca), SITE)
    with pytest.raises(ConfigError, match="public_key"):
        StoreClient(settings(public_key="abc"), SITE, SITE_KEY)


def test_a_batch_from_the_outbox_carries_each_payload_byte_for_byte():
    from kiosk.sync.wire import EventBatch

    rows = [{"event_id": f"{i:032x}", "seq": i, "kind": "parcel_collected", "trade_number": t,
             "created_at": 1_800_000_000.5, "payload": '{"evidence":{"note":"扉 \\"closed\\""},"locker":3}'}
            for i, t in ((1, "1234-5678"), (2, None))]
    batch = EventBatch.from_outbox(rows)
    assert batch.ids == (f"{1:032x}", f"{2:032x}")
    events = json.loads(batch.body)["events"]
    assert events[0] == {"event_id": f"{1:032x}", "seq": 1, "kind": "parcel_collected", "trade_number": "1234-5678",
                         "created_at": "2027-01-15T08:00:00.500Z",
                         "payload": {"evidence": {"note": '扉 "closed"'}, "locker": 3}}
    assert events[1]["trade_number"] is None
    assert rows[0]["payload"].encode() in batch.body
    with pytest.raises(ValueError):
        EventBatch.of([])
