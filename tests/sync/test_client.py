"""StoreClient against a scripted transport: signing, and every kind of reply it must refuse.

No network here: ``httpx.MockTransport`` plays the store, so each hostile or broken
reply is exact. (The emulator over real loopback HTTP is in test_pump and friends.)
"""

import hashlib
import json

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.clock import ManualClock
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


CLOCK = ManualClock()


def client_for(handler) -> StoreClient:
    return StoreClient(settings(), SITE, SITE_KEY, transport=httpx.MockTransport(handler), clock=CLOCK)


def event(i: int) -> dict:
    return {"event_id": f"{i:032x}", "seq": i, "kind": "parcel_arrived", "trade_number": "1234-5678",
            "created_at": "2027-01-15T08:00:00.000Z", "payload": {"locker": 1}}


def signed(document: dict, key=STORE_KEY) -> dict:
    return {"document": document, "signature": sign(key, document)}


def reply(value, status=200, **kw) -> httpx.Response:
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    return httpx.Response(status, content=body, **kw)


def ack_doc(request: httpx.Request, accepted, duplicates=(), rejected=(), **kw) -> dict:
    """What a v1.1 store signs for a batch: this site, this request, this body."""
    return {"site_id": SITE, "nonce": request.headers["X-Site-Nonce"],
            "body_sha256": hashlib.sha256(request.content).hexdigest(), "accepted": list(accepted),
            "duplicates": list(duplicates), "rejected": list(rejected), **kw}


def signing_input(request: httpx.Request) -> bytes:
    h = request.headers
    return (request.method.encode() + b" " + request.url.raw_path
            + f"\n{h['X-Site-Id']}\n{h['X-Site-Timestamp']}\n{h['X-Site-Nonce']}\n".encode() + request.content)


async def test_requests_carry_the_site_id_and_a_signature_over_method_target_time_nonce_and_body():
    seen, nonces = {}, set()

    def handler(request: httpx.Request):
        seen["site"] = request.headers["X-Site-Id"]
        SITE_KEY.public_key().verify(unb64url(request.headers["X-Site-Signature"]), signing_input(request))
        seen["path"] = request.url.path
        seen["timestamp"] = request.headers["X-Site-Timestamp"]
        nonces.add(request.headers["X-Site-Nonce"])
        ids = [e["event_id"] for e in json.loads(request.content)["events"]]
        return reply(signed(ack_doc(request, ids[1:], ids[:1])))

    client = client_for(handler)
    ack = await client.post_events([event(1), event(2), event(3)])
    await client.post_events([event(1)])
    await client.aclose()
    assert seen == {"site": SITE, "path": f"/v1/sites/{SITE}/events", "timestamp": str(int(CLOCK.now()))}
    assert ack.duplicates == (f"{1:032x}",) and len(ack.accepted) == 2
    assert len(nonces) == 2 and all(len(n) == 32 for n in nonces)   # fresh per request


ONE, TWO = f"{1:032x}", f"{2:032x}"


@pytest.mark.parametrize("answer", [
    lambda r: signed(ack_doc(r, [ONE])),                                     # one left out
    lambda r: signed(ack_doc(r, [ONE, TWO, f"{9:032x}"])),                   # one never sent
    lambda r: signed(ack_doc(r, [ONE, TWO], [TWO])),                         # one twice
    lambda r: signed({k: v for k, v in ack_doc(r, [ONE, TWO]).items() if k != "duplicates"}),   # a field missing
    lambda r: signed(ack_doc(r, [ONE, TWO], also=1)),                        # a field too many
    lambda r: signed(ack_doc(r, ONE)),                                       # wrong type
    lambda r: signed(ack_doc(r, [ONE], rejected=[{"index": 5, "event_id": None, "error": "x", "message": ""}])),
    lambda r: signed(ack_doc(r, [ONE], rejected=[{"index": 1, "event_id": ONE, "error": "x", "message": ""}])),
    lambda r: [ONE, TWO],                                                    # not an object
], ids=["missing", "unknown", "repeated", "short", "extra", "type", "reject-range", "reject-id", "list"])
async def test_an_ack_that_is_not_exactly_the_batch_fails_the_exchange(answer):
    client = client_for(lambda request: reply(answer(request)))
    with pytest.raises(BadStoreReply):
        await client.post_events([event(1), event(2)])
    await client.aclose()


@pytest.mark.parametrize("answer", [
    lambda r: {"accepted": [ONE, TWO], "duplicates": []},                    # v1.0: unsigned
    lambda r: ack_doc(r, [ONE, TWO]),                                        # the document, no signature
    lambda r: signed(ack_doc(r, [ONE, TWO]), Ed25519PrivateKey.generate()),  # signed, by someone else
    lambda r: signed(ack_doc(r, [ONE, TWO], body_sha256="0" * 64)),          # for another body
    lambda r: signed(ack_doc(r, [ONE, TWO], nonce="f" * 32)),                # for another request (replayed)
    lambda r: signed(ack_doc(r, [ONE, TWO], site_id="site-8")),              # for another site
], ids=["unsigned-v1.0", "no-signature", "forged", "other-body", "other-request", "other-site"])
async def test_a_forged_ack_fails_the_exchange(answer):
    """Issue 8 §2: anyone answering HTTP for the store could mark receipt notices as sent."""
    client = client_for(lambda request: reply(answer(request)))
    with pytest.raises(BadStoreReply):
        await client.post_events([event(1), event(2)])
    await client.aclose()


async def test_an_ack_may_reject_single_events():
    rejection = {"index": 1, "event_id": TWO, "error": "invalid_event", "message": "events[1].kind: must be…"}
    client = client_for(lambda request: reply(signed(ack_doc(request, [ONE], rejected=[rejection]))))
    ack = await client.post_events([event(1), event(2)])
    await client.aclose()
    assert ack.accepted == (ONE,) and [(r.event_id, r.error) for r in ack.rejected] == [(TWO, "invalid_event")]


async def test_an_ack_in_another_order_is_fine():
    client = client_for(lambda request: reply(signed(ack_doc(request, [TWO, ONE]))))
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


def manifest_doc(request: httpx.Request | None = None, **kw) -> dict:
    nonce = request.headers["X-Site-Nonce"] if request is not None else "0" * 32
    return {"site_id": SITE, "nonce": nonce, "sequence": 42, "since": None, "cursor": "42", "complete": True,
            "parcels": [], "cancelled": [], **kw}


async def test_manifest_signature_site_request_and_cursor_are_checked():
    other = Ed25519PrivateKey.generate()

    def tampered(r):
        page = signed(manifest_doc(r))
        page["document"]["cancelled"] = ["1234-5678"]
        return page

    answers = iter([lambda r: signed(manifest_doc(r), other), tampered,
                    lambda r: {"document": manifest_doc(r), "signature": "not-base64!"},
                    lambda r: manifest_doc(r),
                    lambda r: signed({k: v for k, v in manifest_doc(r).items() if k != "sequence"}),
                    lambda r: signed(manifest_doc(r, site_id="site-8")),
                    lambda r: signed(manifest_doc()),                      # a page for another request: replayed
                    lambda r: signed(manifest_doc(r, since="7")),
                    lambda r: signed(manifest_doc(r, sequence=-1)),
                    lambda r: signed(manifest_doc(r, cursor="a b")),
                    lambda r: signed(manifest_doc(r, complete="yes")),
                    lambda r: signed(manifest_doc(r, name="Alice")),
                    lambda r: signed(manifest_doc(r, since="6"))])
    queries = []

    def handler(request):
        queries.append(dict(request.url.params))
        SITE_KEY.public_key().verify(unb64url(request.headers["X-Site-Signature"]),
                                     signing_input(request))   # a GET is signed too
        return reply(next(answers)(request))

    client = client_for(handler)
    for expected in (BadStoreSignature, BadStoreSignature, BadStoreSignature):
        with pytest.raises(expected):
            await client.fetch_manifest(None)
    for match in ("wrong fields", "wrong fields", "site-8", "another request", "another cursor", "sequence",
                  "cursor", "complete", "unexpected"):
        with pytest.raises(BadStoreReply, match=match):
            await client.fetch_manifest(None if match != "another cursor" else "6")
    page = await client.fetch_manifest("6")
    await client.aclose()
    assert page.cursor == "42" and page.complete and page.sequence == 42
    assert queries[7] == {"cursor": "6"} and queries[0] == {}


def gone_doc(request: httpx.Request, **kw) -> dict:
    return {"site_id": SITE, "nonce": request.headers["X-Site-Nonce"], "cursor": "6", "error": "cursor_unknown",
            "sequence": 3, **kw}


@pytest.mark.parametrize("answer", [
    lambda r: {"error": "cursor_unknown", "message": "pull again without one"},           # v1.0: unsigned
    lambda r: {"error": "cursor_unknown", "message": "", **signed(gone_doc(r), Ed25519PrivateKey.generate())},
    lambda r: {"error": "cursor_unknown", "message": "", **signed(gone_doc(r, nonce="e" * 32))},   # replayed
    lambda r: {"error": "cursor_unknown", "message": "", **signed(gone_doc(r, cursor="7"))},       # another cursor
], ids=["unsigned", "forged", "replayed", "other-cursor"])
async def test_a_410_is_believed_only_when_the_store_signed_it_for_this_request(answer):
    """Issue 8 §2: a forged 410 sent the pickup point back to the start, where an old page
    could bring back a cancelled parcel."""
    client = client_for(lambda request: reply(answer(request), 410))
    with pytest.raises(BadStoreReply):
        await client.fetch_manifest("6")
    await client.aclose()


async def test_a_signed_410_says_the_cursor_is_unknown_and_the_stores_sequence():
    client = client_for(lambda r: reply({"error": "cursor_unknown", "message": "", **signed(gone_doc(r))}, 410))
    with pytest.raises(StoreRejected) as err:
        await client.fetch_manifest("6")
    await client.aclose()
    assert err.value.code == "cursor_unknown" and err.value.sequence == 3


async def test_audit_anchors_must_be_signed_for_this_request():
    def doc(r, **kw):
        return {"site_id": SITE, "nonce": r.headers["X-Site-Nonce"],
                "anchors": [{"seq": 5, "hash": "ab" * 32, "created_at": "2027-01-15T08:00:00.000Z"}], **kw}

    answers = iter([lambda r: signed(doc(r)), lambda r: doc(r), lambda r: signed(doc(r, nonce="f" * 32)),
                    lambda r: signed(doc(r, anchors=[{"seq": 5, "hash": "XY", "created_at": ""}]))])
    client = client_for(lambda r: reply(next(answers)(r)))
    [anchor] = await client.fetch_audit_anchors()
    assert (anchor.seq, anchor.hash) == (5, "ab" * 32)
    for _ in range(3):
        with pytest.raises(BadStoreReply):
            await client.fetch_audit_anchors()
    await client.aclose()


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
