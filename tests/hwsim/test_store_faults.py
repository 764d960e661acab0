"""Every fault the store emulator can show, seen from a plain HTTP client, and its history."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from kiosk.security.keys import load_public_key, verify
from tests.hwsim.conftest import SITE, event, opened
from tests.support import wait_until

EVENTS = f"/v1/sites/{SITE}/events"
MANIFEST = f"/v1/sites/{SITE}/manifest"


def test_down_refuses_connections_until_cleared_on_the_same_port(store, client):
    url = store.url
    assert client.get("/v1/time").status_code == 200
    store.set_fault("down")
    with pytest.raises(httpx.ConnectError):
        client.get("/v1/time")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/time")
    assert store.url == url
    store.clear_faults()
    assert client.get("/v1/time").status_code == 200
    assert [r.status for r in store.requests] == [200, 200]   # nothing reached it while down


def test_down_before_start_keeps_the_port_closed(make_store, client):
    store = make_store()
    store.stop()
    store.set_fault("down")
    url = store.start()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/time")
    store.clear_faults("down")
    client.http.base_url = url
    assert client.get("/v1/time").status_code == 200


def test_slow_delays_every_reply(store, client):
    store.set_fault("slow", seconds=0.3)
    started = time.monotonic()
    assert client.get("/v1/time").status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        client.get("/v1/time", timeout=0.05)
    assert store.requests[0].fault == "slow"


def test_http_500_refuses_without_handling(store, client):
    store.set_fault("http_500")
    reply = client.post(EVENTS, {"events": [event(1)]})
    assert reply.status_code == 500 and reply.json()["error"] == "internal"
    assert store.events() == []
    assert store.requests[-1].fault == "http_500" and store.requests[-1].status == 500


def test_http_500_with_a_probability_is_repeatable_by_seed(make_store, client):
    def statuses(seed: int) -> list[int]:
        store = make_store()
        client.http.base_url = store.url
        store.set_fault("http_500", p=0.5, seed=seed)
        return [client.get("/v1/time").status_code for _ in range(40)]

    first, again, other = statuses(1), statuses(1), statuses(2)
    assert first == again and first != other
    assert 5 < first.count(500) < 35


def test_timeout_after_processing_drop_the_store_has_it_the_site_does_not_know(store, client):
    store.set_fault("timeout_after_processing", times=1)
    sent = event(1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(EVENTS, {"events": [sent]})
    assert [e["event_id"] for e in store.events()] == [sent["event_id"]]   # processed and committed
    retry = client.post(EVENTS, {"events": [sent]})                       # the fault was used up
    ack = retry.json()["document"]
    assert (ack["accepted"], ack["duplicates"]) == ([], [sent["event_id"]])
    assert store.duplicates_received == 1
    assert store.requests[0].fault == "timeout_after_processing" and store.requests[0].status is None


def test_timeout_after_processing_hold_outlasts_the_client_and_stop_is_prompt(make_store, client):
    store = make_store()
    client.http.base_url = store.url
    store.set_fault("timeout_after_processing", mode="hold", seconds=60)
    with pytest.raises(httpx.ReadTimeout):
        client.post(EVENTS, {"events": [event(1)]}, timeout=0.3)
    wait_until(lambda: len(store.events()) == 1, what="the held batch to be committed")
    started = time.monotonic()
    store.stop()                      # a held reply does not keep the emulator up
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("variant", ["truncated", "not_json", "wrong_shape"])
def test_malformed_json_replies_after_handling(store, client, variant):
    store.set_fault("malformed_json", variant=variant)
    reply = client.post(EVENTS, {"events": [event(1)]})
    assert reply.status_code == 200
    if variant == "wrong_shape":
        assert reply.json() == {"status": "ok"}
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(reply.content)
    assert variant != "not_json" or reply.headers["Content-Type"] == "text/html"
    assert len(store.events()) == 1


@pytest.mark.parametrize("variant", ["wrong_key", "tampered"])
def test_bad_signature_documents_do_not_verify(store, client, variant):
    made = store.create_parcel(SITE, secret="111111")
    store.set_fault("bad_signature", variant=variant)
    store_key = load_public_key(store.public_key_text)
    reply = client.post(f"/v1/sites/{SITE}/verify", {"trade_number": made.trade_number, "method": "locker",
                                                     "secret": "999999", "request_id": "req-00000001"})
    envelope = reply.json()
    assert not verify(store_key, envelope["document"], envelope["signature"])
    if variant == "tampered":
        assert envelope["document"]["result"] == "match"   # what an attacker would want believed
    for path in (MANIFEST, f"/v1/sites/{SITE}/setup", "/v1/time"):
        envelope = client.get(path).json()
        assert not verify(store_key, envelope["document"], envelope["signature"]), path
    assert client.post(EVENTS, {"events": [event(1)]}).status_code == 200   # acks are not signed


def test_out_of_order_manifest_pages_answer_another_cursor(store, client):
    store.create_parcel(SITE)
    cursor = opened(client.get(MANIFEST), store)["cursor"]
    store.create_parcel(SITE)
    store.set_fault("out_of_order")
    stale = opened(client.get(MANIFEST, params={"cursor": cursor}), store)   # validly signed, but…
    assert stale["since"] is None                                           # …not an answer to `cursor`
    first = opened(client.get(MANIFEST), store)
    assert first["since"] is not None


def test_out_of_order_acks_name_an_id_never_sent(store, client):
    store.set_fault("out_of_order")
    batch = [event(1), event(2)]
    ack = client.post(EVENTS, {"events": batch}).json()["document"]
    acked = set(ack["accepted"]) | set(ack["duplicates"])
    sent = {e["event_id"] for e in batch}
    assert acked != sent and len(acked - sent) == 1 and len(sent - acked) == 1
    assert {e["event_id"] for e in store.events()} == sent


def test_rate_limit_answers_429_with_retry_after(store, client):
    store.set_fault("rate_limit", retry_after=7)
    reply = client.get("/v1/time")
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "7"
    assert reply.json()["error"] == "rate_limited"


def test_times_path_and_clearing_one_fault(store, client):
    store.set_fault("http_500", times=2, path="/events")
    store.set_fault("rate_limit")
    assert client.get("/v1/time").status_code == 429
    store.clear_faults("rate_limit")
    assert client.get("/v1/time").status_code == 200                   # not on that path
    assert [client.post(EVENTS, {"events": [event(i)]}).status_code for i in range(3)] == [500, 500, 200]
    assert store.faults == {}
    assert [(r.path, r.status, r.fault) for r in store.requests] == [
        ("/v1/time", 429, "rate_limit"), ("/v1/time", 200, None),
        (EVENTS, 500, "http_500"), (EVENTS, 500, "http_500"), (EVENTS, 200, None)]


def test_several_faults_at_once_are_all_recorded(store, client):
    store.set_fault("slow", seconds=0.01)
    store.set_fault("malformed_json")
    client.get("/v1/time")
    assert store.requests[-1].fault == "slow+malformed_json"
    assert [e.kind for e in store.history.entries("store")][:2] == ["fault", "fault"]
