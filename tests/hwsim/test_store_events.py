"""Events at the store: kept once per event_id, duplicates counted, whole batches checked."""

from __future__ import annotations

from tests.hwsim.conftest import SITE, event

EVENTS = f"/v1/sites/{SITE}/events"


def test_a_batch_is_acknowledged_id_by_id_and_kept_in_arrival_order(store, client):
    batch = [event(1), event(2, "parcel_collected", method="locker", locker=3), event(3, "tamper", None)]
    reply = client.post(EVENTS, {"events": batch})
    assert reply.status_code == 200
    assert reply.json() == {"accepted": [e["event_id"] for e in batch], "duplicates": []}
    kept = store.events(SITE)
    assert [e["event_id"] for e in kept] == [e["event_id"] for e in batch]
    assert kept[1]["payload"] == {"method": "locker", "locker": 3}
    assert kept[2]["trade_number"] is None
    assert store.events("sim-other") == []


def test_a_repeat_is_answered_as_a_duplicate_and_not_stored_twice(store, client):
    first, second = event(1), event(2)
    client.post(EVENTS, {"events": [first]})
    reply = client.post(EVENTS, {"events": [first, second]})
    assert reply.json() == {"accepted": [second["event_id"]], "duplicates": [first["event_id"]]}
    assert len(store.events()) == 2
    assert store.duplicates_received == 1
    assert store.events()[0]["duplicates"] == 1 and store.events()[0]["conflicts"] == 0


def test_an_id_twice_in_one_batch_is_kept_once(store, client):
    one = event(1)
    reply = client.post(EVENTS, {"events": [one, one]})
    assert reply.json() == {"accepted": [one["event_id"]], "duplicates": [one["event_id"]]}
    assert len(store.events()) == 1


def test_a_repeat_with_other_content_is_counted_as_a_conflict(store, client):
    original = event(1)
    client.post(EVENTS, {"events": [original]})
    client.post(EVENTS, {"events": [{**original, "seq": 99}]})
    kept = store.events()
    assert len(kept) == 1 and kept[0]["seq"] == 1 and kept[0]["conflicts"] == 1


def test_one_bad_event_refuses_the_whole_batch(store, client):
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
    for bad in bad_events:
        reply = client.post(EVENTS, {"events": [event(1), bad]})
        assert reply.status_code == 400, bad
        assert reply.json()["error"] == "invalid_body"
        assert "events[1]" in reply.json()["message"]
    for body in ({"events": []}, {"events": [event(1)] * 501}, {"events": {}}, {}, [], {"events": [], "x": 1}):
        assert client.post(EVENTS, body).status_code == 400
    assert store.events() == []


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
    assert reply.status_code == 200 and len(reply.json()["accepted"]) == 500
    assert len(store.events()) == 500
