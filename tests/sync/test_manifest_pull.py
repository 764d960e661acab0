"""The manifest pull: signed pages in, parcels applied once; anything hostile or broken
rejected whole, recorded, reported, and never applied."""

import hashlib
import json
import random

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hwsim.site import FAST_HASH, store_config, write_config
from hwsim.store import StoreEmulator
from kiosk.config import load
from kiosk.domain.parcels import ParcelState
from kiosk.errors import BadStoreReply, BadStoreSignature
from kiosk.security.keys import public_key_text, sign
from kiosk.security.secrets import HashParams, hash_secret
from kiosk.service.controller import Controller
from tests.sync.conftest import LINK, linked_site

SITE = "sim-site"


def local_parcels(c) -> dict[str, str]:
    return {p.trade_number: p.state.value for p in c.site.db.parcels()}


async def test_pull_imports_new_parcels_once_and_keeps_the_cursor(linked):
    c, store = linked.controller, linked.store
    made = [store.create_parcel(SITE, locker_hint=2) for _ in range(3)]
    result = await c.pull_manifest()
    assert result.added == 3 and result.pages == 1
    parcel = c.site.db.parcel(made[0].trade_number)
    assert parcel.state == ParcelState.EXPECTED and parcel.locker_hint == 2
    assert parcel.secret_hash.startswith("$argon2id$")
    cursor = c.site.db.sync_channel("manifest")["cursor"]
    assert cursor and (await c.pull_manifest()).added == 0
    store.create_parcel(SITE)
    assert (await c.pull_manifest()).added == 1
    assert c.site.db.sync_channel("manifest")["cursor"] != cursor
    assert [r.query for r in store.requests if r.path.endswith("/manifest")][-1] != ""


async def test_pull_on_schedule(linked):
    c, store, clock = linked.controller, linked.store, linked.clock
    made = store.create_parcel(SITE)
    clock.advance(c.config.store.manifest_interval_s)
    c.tick()
    await c.sync.settle()
    assert c.site.db.parcel(made.trade_number) is not None


async def test_many_pages_in_one_pull(tmp_path, clock):
    with StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, manifest_page_size=3) as store:
        site = await linked_site(tmp_path, clock, store)
        try:
            await site.controller.sync.settle()
            for _ in range(8):
                store.create_parcel(SITE)
            result = await site.controller.pull_manifest()
            assert (result.pages, result.added) == (3, 8)
        finally:
            await site.controller.stop()


async def test_cancellations_apply_only_to_parcels_not_yet_here(linked):
    c, store = linked.controller, linked.store
    waiting, loaded = store.create_parcel(SITE), store.create_parcel(SITE)
    await c.pull_manifest()
    await linked.deposit(type("P", (), {"trade_number": loaded.trade_number})())
    store.cancel_parcel(SITE, waiting.trade_number)
    store.cancel_parcel(SITE, loaded.trade_number)
    with c.subscribe() as events:
        result = await c.pull_manifest()
        needs_staff = [e for e in events.drain() if e.kind == "cancellation_needs_staff"]
    assert result.cancelled == 1
    assert c.site.db.parcel(waiting.trade_number) is None
    assert c.site.db.parcel(loaded.trade_number).state == ParcelState.ARRIVED
    assert [e["trade_number"] for e in needs_staff] == [loaded.trade_number]
    assert [e["subject"] for e in c.site.db.audit_entries("parcel_cancelled")] == [waiting.trade_number]
    assert [e["subject"] for e in c.site.db.audit_entries("cancellation_not_applied")] == [loaded.trade_number]


@pytest.mark.parametrize("fault, params, error", [
    ("bad_signature", {"variant": "wrong_key"}, BadStoreSignature),
    ("bad_signature", {"variant": "tampered"}, BadStoreSignature),
    ("out_of_order", {}, BadStoreReply),
    ("malformed_json", {"variant": "truncated"}, BadStoreReply),
    ("malformed_json", {"variant": "wrong_shape"}, BadStoreReply),
])
async def test_a_rejected_page_changes_nothing_and_is_reported(linked, fault, params, error):
    c, store = linked.controller, linked.store
    store.create_parcel(SITE)
    await c.pull_manifest()
    before = (local_parcels(c), c.site.db.sync_channel("manifest")["cursor"])
    new = store.create_parcel(SITE)
    store.cancel_parcel(SITE, store.create_parcel(SITE).trade_number)
    store.set_fault(fault, path="/manifest", **params)
    for _ in range(2):
        with pytest.raises(error):
            await c.pull_manifest()
    assert (local_parcels(c), c.site.db.sync_channel("manifest")["cursor"]) == before
    status = c.status()["store_link"]["channels"]["manifest"]
    assert status["failures"] == 2 and error.__name__ in status["last_error"]
    rejected = c.site.db.audit_entries("store_reply_rejected")
    assert len(rejected) == 2 and rejected[0]["detail"]["signature"] == (error is BadStoreSignature)
    reports = [e for e in c.site.db.outbox() if e["kind"] == "device_health"]
    assert len(reports) == 1   # once per run of the same problem, not once per pull
    store.clear_faults()
    await c.pull_manifest()
    assert c.site.db.parcel(new.trade_number) is not None


# --- a store that signs garbage: the pinned key is right, the content is hostile -----------

class ScriptedStore:
    """Plays the store through httpx.MockTransport with documents signed by the pinned key."""

    url = "http://127.0.0.1:9"

    def __init__(self):
        self.key = Ed25519PrivateKey.generate()
        self.public_key_text = public_key_text(self.key.public_key())
        self.pages: list = []
        self.asked: list[str | None] = []
        self.sequence = 1

    def signed(self, document: dict) -> dict:
        return {"document": document, "signature": sign(self.key, document)}

    def handler(self, request: httpx.Request) -> httpx.Response:
        nonce = request.headers["X-Site-Nonce"]
        if request.url.path.endswith("/events"):
            ids = [e["event_id"] for e in json.loads(request.content)["events"]]
            return httpx.Response(200, json=self.signed({
                "site_id": SITE, "nonce": nonce, "body_sha256": hashlib.sha256(request.content).hexdigest(),
                "accepted": ids, "duplicates": [], "rejected": []}))
        cursor = request.url.params.get("cursor")
        self.asked.append(cursor)
        page = self.pages.pop(0)
        if isinstance(page, httpx.Response):
            return page
        if page.get("gone"):   # 410 cursor_unknown, signed for this request as a v1.1 store does
            gone = {"site_id": SITE, "nonce": nonce, "cursor": cursor, "error": "cursor_unknown",
                    "sequence": page["sequence"]}
            return httpx.Response(410, json={"error": "cursor_unknown", "message": "reset", **self.signed(gone)})
        document = {"site_id": SITE, "nonce": nonce, "sequence": self.sequence, "since": cursor, "cursor": "c1",
                    "complete": True, "cancelled": [], **page}
        return httpx.Response(200, json=self.signed(document))


@pytest.fixture
async def scripted(tmp_path, clock):
    fake = ScriptedStore()
    fake.pages.append({"parcels": []})    # the pull at start
    config = load(write_config(tmp_path / "site", locks="gpio", doors=4, extra=store_config(fake, **LINK)))
    c = Controller(config, clock=clock, rng=random.Random(1), store_transport=httpx.MockTransport(fake.handler))
    await c.start()
    await c.sync.settle()
    try:
        yield fake, c
    finally:
        await c.stop()


def entry(trade="2222-0001", **kw):
    return {"trade_number": trade, "method": "locker", "secret_hash": hash_secret("123456", FAST_HASH),
            "amount_due": 0, "hold_deadline": "2027-03-01T00:00:00Z", **kw}


HUGE = hash_secret("x", FAST_HASH).replace("m=1024", "m=4194304")


@pytest.mark.parametrize("page", [
    {"parcels": [entry(), entry(trade="2222-0002", recipient_name="Alice")]},        # personal data
    {"parcels": [entry(), entry(trade="2222-0002", secret_hash=HUGE)]},               # a memory bomb
    {"parcels": [entry(), entry(trade="../../etc")]},                                 # not a trade number
    {"parcels": [entry(), entry()]},                                                  # twice
    {"parcels": [entry(), entry(trade="2222-0002", amount_due=-5)]},
    {"parcels": [entry(), entry(trade="2222-0002", method="teleport")]},
    {"parcels": [entry()], "cancelled": ["DROP TABLE"]},
    {"parcels": "everything"},
], ids=["personal-data", "argon-bomb", "trade-number", "twice", "negative-amount", "method", "cancel", "shape"])
async def test_a_signed_but_hostile_page_is_rejected_whole(scripted, page):
    fake, c = scripted
    fake.pages.append(page)
    with pytest.raises(BadStoreReply):
        await c.pull_manifest()
    assert c.site.db.parcels() == [] and c.site.db.sync_channel("manifest")["cursor"] == "c1"
    assert c.site.db.audit_entries("store_reply_rejected")


async def test_a_manifest_never_rewrites_a_parcel_already_known(scripted):
    fake, c = scripted
    fake.pages.append({"parcels": [entry()]})
    await c.pull_manifest()
    known = c.site.db.parcel("2222-0001")
    fake.pages.append({"parcels": [entry(secret_hash=hash_secret("000000", HashParams(1024, 1, 1)), amount_due=900)]})
    await c.pull_manifest()
    assert c.site.db.parcel("2222-0001") == known


async def test_an_unknown_cursor_starts_the_pull_over(scripted):
    fake, c = scripted
    fake.pages += [{"gone": True, "sequence": 1}, {"parcels": [entry()]}]
    result = await c.pull_manifest()
    assert result.added == 1 and fake.asked[-2:] == ["c1", None]


async def test_an_unsigned_410_is_not_acted_on(scripted):
    """Issue 8 §2: a forged 410 sent the pull back to the start (where an old page waits)."""
    fake, c = scripted
    gone = httpx.Response(410, json={"error": "cursor_unknown", "message": "store was reset"})
    fake.pages += [gone, {"parcels": [entry()]}]
    with pytest.raises(BadStoreReply, match="unsigned"):
        await c.pull_manifest()
    assert fake.asked[-1] == "c1" and c.site.db.sync_channel("manifest")["cursor"] == "c1"
    assert c.site.db.parcels() == [] and c.site.db.audit_entries("store_reply_rejected")


async def test_a_page_older_than_the_last_applied_is_refused(scripted):
    """Issue 8 §2: an old, genuinely signed page must not bring back what changed since."""
    fake, c = scripted
    fake.sequence = 10
    fake.pages.append({"parcels": []})
    await c.pull_manifest()
    assert c.site.db.sync_channel("manifest")["sequence"] == 10
    fake.pages.append({"parcels": [entry()], "sequence": 9})
    with pytest.raises(BadStoreReply, match="rollback"):
        await c.pull_manifest()
    assert c.site.db.parcels() == [] and c.site.db.sync_channel("manifest")["sequence"] == 10
    fake.pages.append({"parcels": [entry()], "sequence": 10})   # the same store state again: fine
    assert (await c.pull_manifest()).added == 1


async def test_a_signed_410_lets_a_restored_store_start_lower(scripted):
    fake, c = scripted
    fake.sequence = 10
    fake.pages.append({"parcels": []})
    await c.pull_manifest()
    fake.pages += [{"gone": True, "sequence": 3}, {"parcels": [entry()], "sequence": 3}]
    assert (await c.pull_manifest()).added == 1
    assert c.site.db.sync_channel("manifest")["sequence"] == 3
