"""Events at the store: kept once per event_id, duplicates counted, each event checked on
its own, every answer signed for the request and its body (protocol v1.1)."""

from __future__ import annotations

import json

from tests.hwsim.conftest import SITE, acknowledged, event

EVENTS = f"/v1/sites/{SITE}/events"


def test_a_batch_is_acknowledged_id_by_id_and_kept_in_arrival_order(store, client):
    batch = [event(1), event(2, "parcel_collected", method="locker", locker=3), event(3, "tamper", None)]
    reply = client.post(EVENTS, {"events": batch})
    ack = acknowledged(reply, store, client, {"events": batch})
    assert (ack["accepted"], ack["duplicates"], ack["rejected"]) == ([e["event_id"] for e in batch], [], [])
    kept = store.events(SITE)
    assert [e["event_id"] for e in kept] == [e["event_id"] for e in batch]
    assert kept[1]["payload"] == {"method": "locker", "locker": 3}
    assert kept[2]["trade_number"] is None
    assert store.events("sim-other") == []


def test_a_repeat_is_answered_as_a_duplicate_and_not_stored_twice(store, client):
    first, second = event(1), event(2)
    client.post(EVENTS, {"events": [first]})
    reply = client.post(EVENTS, {"events": [first, second]})
    ack = acknowledged(reply, store, client, {"events": [first, second]})
    assert (ack["accepted"], ack["duplicates"]) == ([second["event_id"]], [first["event_id"]])
    assert len(store.events()) == 2
    assert store.duplicates_received == 1
    assert store.events()[0]["duplicates"] == 1 and store.events()[0]["conflicts"] == 0


def test_an_id_twice_in_one_batch_is_kept_once(store, client):
    one = event(1)
    reply = client.post(EVENTS, {"events": [one, one]})
    ack = acknowledged(reply, store, client, {"events": [one, one]})
    assert (ack["accepted"], ack["duplicates"]) == ([one["event_id"]], [one["event_id"]])
    assert len(store.events()) == 1


def test_a_repeat_with_other_content_is_counted_as_a_conflict(store, client):
    original = event(1)
    client.post(EVENTS, {"events": [original]})
    client.post(EVENTS, {"events": [{**original, "seq": 99}]})
    kept = store.events()
    assert len(kept) == 1 and kept[0]["seq"] == 1 and kept[0]["conflicts"] == 1


def test_one_bad_event_is_rejected_on_its_own_and_the_rest_is_kept(store, client):
    """v1.1: one invalid event must not wedge a site's queue (before, the whole batch was 400)."""
    bad_events = [
        {**event(2), "event_id": "NOT-HEX"},
        {**event(2), "kind": "party"},
        {**event(2), "seq": -1},
        {**event(2), "seq": True},
        {**event(2), "seq": 1.5},
        {**event(2), "created_at": "yesterday"},
        {**event(2), "created_at": "2026-02-30T00:00:00Z"},
        {**event(2), "created_at": "2026-01-01T00:00:00"},   # no time zone
        {**event(2), "trade_number": "lower-case"},
        {**event(2), "trade_number": "1234-5678\n"},
        {**event(2), "created_at": "\u0662\u0660\u0662\u0666-01-01T00:00:00Z"},   # not ASCII digits
        {**event(2), "payload": [1]},
        {**event(2), "payload": {f"k{i}": i for i in range(65)}},
        {**event(2), "name": "Taro Yamada"},                    # no personal data fields
        {k: v for k, v in event(2).items() if k != "payload"},
    ]
    kept = []
    for bad in bad_events:
        good = event(1)
        body = {"events": [good, bad]}
        ack = acknowledged(client.post(EVENTS, body), store, client, body)
        assert ack["accepted"] == [good["event_id"]] and ack["duplicates"] == [], bad
        [rejection] = ack["rejected"]
        assert rejection["index"] == 1 and rejection["error"] == "invalid_event"
        assert rejection["event_id"] == (None if bad.get("event_id") == "NOT-HEX" else bad["event_id"])
        assert "events[1]" in rejection["message"]
        kept.append(good["event_id"])
    for body in ({"events": []}, {"events": [event(1)] * 501}, {"events": {}}, {}, [], {"events": [], "x": 1},
                 {"events": [event(1), "not an object"]}):
        assert client.post(EVENTS, body).status_code == 400
    assert [e["event_id"] for e in store.events()] == kept


def test_a_lone_surrogate_in_a_payload_is_a_400_not_a_500(store, client):
    r"""Issue 8 §8: "\ud800" is valid JSON syntax but not Unicode text; it crashed the store (500)."""
    raw = json.dumps({"events": [event(1, note="\ud800")]}).encode()   # ensure_ascii: the escape, as sent
    assert b'"\\ud800"' in raw
    reply = client.post(EVENTS, None, raw=raw)
    assert reply.status_code == 400 and reply.json()["error"] == "malformed_json"
    verify = client.post(f"/v1/sites/{SITE}/verify", None, raw=b'{"trade_number": "1234-5678", "method": "locker", '
                         b'"secret": "\\udc00", "request_id": "req-00000001"}')
    assert verify.status_code == 400
    assert store.events() == []


def test_an_audit_anchor_must_carry_a_chain_head(store, client):
    good = {**event(1, "audit_anchor", None), "payload": {"seq": 7, "hash": "a" * 64}}
    bad = {**event(2, "audit_anchor", None), "payload": {"seq": 7, "hash": "not-a-hash"}}
    body = {"events": [good, bad]}
    ack = acknowledged(client.post(EVENTS, body), store, client, body)
    assert ack["accepted"] == [good["event_id"]] and [r["index"] for r in ack["rejected"]] == [1]
    assert [(a["seq"], a["hash"]) for a in store.audit_anchors(SITE)] == [(7, "a" * 64)]


def test_a_leap_second_is_a_valid_time(store, client):
    assert client.post(EVENTS, {"events": [{**event(1), "created_at": "2016-12-31T23:59:60Z"}]}).status_code == 200


def test_the_store_follows_parcels_through_their_events(store, client):
    parcel = store.create_parcel(SITE)
    assert store.parcel_state(SITE, parcel.trade_number) == "expected"
    client.post(EVENTS, {"events": [event(1, "parcel_arrived", parcel.trade_number, locker=2)]})
    assert store.parcel_state(SITE, parcel.trade_number) == "arrived"
    client.post(EVENTS, {"events": [event(2, "parcel_collected", parcel.trade_number, method="locker")]})
    assert store.parcel_state(SITE, parcel.trade_number) == "collected"


def test_events_arriving_after_a_later_one_about_the_same_parcel_are_counted(store, client):
    early, late, other = event(1, trade_number="1111-1111"), event(5, trade_number="1111-1111"), \
        event(3, trade_number="2222-2222")
    client.post(EVENTS, {"events": [late, other]})
    client.post(EVENTS, {"events": [early]})
    assert store.out_of_order_received == 1


def test_batches_of_500_are_taken_whole(store, client):
    batch = [event(i) for i in range(500)]
    reply = client.post(EVENTS, {"events": batch})
    assert len(acknowledged(reply, store, client, {"events": batch})["accepted"]) == 500
    assert len(store.events()) == 500
