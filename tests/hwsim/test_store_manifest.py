"""Manifests: signed, incremental by cursor, paged, with cancellations; the locker set-up."""

from __future__ import annotations

import pytest

from hwsim.store import StoreEmulator
from kiosk.errors import InvalidTransition, UnknownParcel
from kiosk.security.keys import public_key_text
from kiosk.security.secrets import HashParams, is_valid_hash, verify_secret
from kiosk.service.manifest import parse
from tests.hwsim.conftest import CHEAP, SITE, event, opened

MANIFEST = f"/v1/sites/{SITE}/manifest"


def pull(client, store, cursor=None) -> dict:
    return opened(client.get(MANIFEST, params={"cursor": cursor} if cursor else None), store)


def test_the_first_pull_lists_every_open_parcel_with_only_its_hash(store, client, clock):
    made = store.create_parcel(SITE, amount_due=500, locker_hint=3, hold_s=3600)
    page = pull(client, store)
    assert page["site_id"] == SITE and page["since"] is None and page["complete"] is True
    assert page["cancelled"] == []
    [entry] = page["parcels"]
    assert entry["trade_number"] == made.trade_number and entry["method"] == "locker"
    assert entry["amount_due"] == 500 and entry["locker_hint"] == 3
    assert is_valid_hash(entry["secret_hash"]) and verify_secret(made.secret, entry["secret_hash"])
    assert made.secret not in str(page)
    # The kiosk's own manifest reader accepts the entries as they are.
    [parcel] = parse({"version": 1, "parcels": page["parcels"]})
    assert parcel.hold_deadline == pytest.approx(clock.now() + 3600, abs=0.001)


def test_what_the_recipient_is_told(store):
    made = store.create_parcel(SITE)
    assert len(made.secret) == 6 and made.secret.isdigit()
    first, second = made.trade_number.split("-")
    assert len(first) == len(second) == 4 and (first + second).isdigit()
    assert store.create_parcel(SITE, secret="2468").secret == "2468"


def test_secret_hashes_only_for_methods_checked_by_secret(store, client):
    for method in ("secret", "locker", "f1_tag", "f2_tag", "ic_card", "token", "biometric"):
        store.create_parcel(SITE, method)
    entries = {e["method"]: e for e in pull(client, store)["parcels"]}
    assert {m for m, e in entries.items() if "secret_hash" in e} == {"secret", "locker", "f1_tag", "f2_tag", "token"}
    assert "locker_hint" not in entries["locker"]


def test_the_next_pull_brings_only_what_changed(store, client):
    first = store.create_parcel(SITE)
    page = pull(client, store)
    again = pull(client, store, page["cursor"])
    assert again["since"] == page["cursor"] and again["parcels"] == [] and again["cursor"] == page["cursor"]
    second = store.create_parcel(SITE)
    store.cancel_parcel(SITE, first.trade_number)
    later = pull(client, store, page["cursor"])
    assert [e["trade_number"] for e in later["parcels"]] == [second.trade_number]
    assert later["cancelled"] == [first.trade_number]


def test_pages_follow_one_another_until_complete(make_store, client):
    store = make_store(manifest_page_size=2)
    client.http.base_url = store.url
    made = {store.create_parcel(SITE).trade_number for _ in range(5)}
    seen, cursor, pages = set(), None, 0
    while True:
        page = pull(client, store, cursor)
        assert page["since"] == cursor
        seen |= {e["trade_number"] for e in page["parcels"]}
        cursor, pages = page["cursor"], pages + 1
        if page["complete"]:
            break
    assert seen == made and pages == 3


def test_parcels_of_other_sites_and_closed_parcels_are_not_listed(store, client):
    store.register_site("sim-0002", store.public_key_text)
    store.create_parcel("sim-0002")
    mine = store.create_parcel(SITE)
    client.post(f"/v1/sites/{SITE}/events", {"events": [event(1, "parcel_collected", mine.trade_number)]})
    page = pull(client, store)
    assert page["parcels"] == [] and page["cancelled"] == []


def test_a_cursor_the_store_did_not_issue_is_gone(store, client):
    for cursor in ("999", "abc", "0" * 19):
        reply = client.get(MANIFEST, params={"cursor": cursor})
        assert reply.status_code == 410 and reply.json()["error"] == "cursor_unknown"


def test_cancelling(store):
    made = store.create_parcel(SITE)
    store.cancel_parcel(SITE, made.trade_number)
    store.cancel_parcel(SITE, made.trade_number)   # again: nothing more happens
    assert store.parcel_state(SITE, made.trade_number) == "cancelled"
    with pytest.raises(UnknownParcel):
        store.cancel_parcel(SITE, "0000-0000")


def test_a_collected_parcel_cannot_be_cancelled(store, client):
    made = store.create_parcel(SITE)
    client.post(f"/v1/sites/{SITE}/events", {"events": [event(1, "parcel_collected", made.trade_number)]})
    with pytest.raises(InvalidTransition):
        store.cancel_parcel(SITE, made.trade_number)


def test_the_locker_set_up(store, client):
    default = opened(client.get(f"/v1/sites/{SITE}/setup"), store)
    assert default["site_id"] == SITE and len(default["lockers"]) == 8
    store.set_setup(SITE, lockers=[(1, "S"), (2, "L")], hold_days=5, reminder_hours=(12,))
    assert opened(client.get(f"/v1/sites/{SITE}/setup"), store) == {
        "site_id": SITE, "lockers": [{"number": 1, "size": "S"}, {"number": 2, "size": "L"}],
        "hold_days": 5, "reminder_hours": [12]}
    with pytest.raises(ValueError):
        store.set_setup(SITE, lockers=[(0, "S")])
    with pytest.raises(LookupError):
        store.set_setup("sim-nowhere", lockers=[(1, "S")])


def test_the_clock_check_echoes_a_nonce(store, client, clock):
    document = opened(client.get("/v1/time", params={"nonce": "n-123"}), store)
    assert document["nonce"] == "n-123"
    clock.advance(60)
    assert opened(client.get("/v1/time"), store)["now"].endswith("Z")


def test_hash_parameters_are_the_store_s_choice(make_store, client):
    store = make_store(hash_params=HashParams(memory_kib=2048, iterations=2, lanes=1))
    client.http.base_url = store.url
    store.create_parcel(SITE)
    assert "$m=2048,t=2,p=1$" in pull(client, store)["parcels"][0]["secret_hash"]


def test_the_store_remembers_across_a_restart(tmp_path, clock, site_key):
    with StoreEmulator(tmp_path / "s", clock=clock, hash_params=CHEAP) as store:
        store.register_site(SITE, public_key_text(site_key.public_key()))
        made = store.create_parcel(SITE)
    with StoreEmulator(tmp_path / "s", clock=clock, hash_params=CHEAP) as store:
        assert store.parcel_state(SITE, made.trade_number) == "expected"
