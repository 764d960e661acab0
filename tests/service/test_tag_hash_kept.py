"""Issue 8 §4: one secret, one protection. A tag parcel (F1/F2) keeps its plain
``secret_hash`` only where its method is checked online with a local fallback: anywhere
else the hash would be a cheaper target than the tag and need no site tag key."""

from __future__ import annotations

from kiosk.clock import ManualClock
from kiosk.domain.parcels import Parcel
from kiosk.security.secrets import HashParams, hash_secret
from kiosk.service import manifest
from kiosk.sync.settings import FALLBACK_LOCAL, VerificationSettings
from hwsim.site import start_site

CHEAP_PARAMS = HashParams(memory_kib=1024, iterations=1, lanes=1)


def test_which_methods_keep_the_plain_hash():
    local = VerificationSettings()
    online = VerificationSettings(methods={"f2_tag": "online", "f1_tag": "online"}, fallback=FALLBACK_LOCAL)
    online_no_fallback = VerificationSettings(methods={"f2_tag": "online"}, fallback="refuse")
    assert manifest.keeps_plain_hash(local, "secret") and manifest.keeps_plain_hash(local, "locker")
    assert not manifest.keeps_plain_hash(local, "f1_tag")
    assert not manifest.keeps_plain_hash(local, "f2_tag")
    assert manifest.keeps_plain_hash(online, "f2_tag") and manifest.keeps_plain_hash(online, "f1_tag")
    assert not manifest.keeps_plain_hash(online_no_fallback, "f2_tag")


async def test_a_tag_parcel_imported_locally_checked_keeps_no_plain_hash(tmp_path):
    site = await start_site(tmp_path / "site", clock=ManualClock(), locks="kerong", doors=2)
    try:
        hashed = hash_secret("424242", CHEAP_PARAMS)
        parcels = [Parcel("1111-2222", "f2_tag", secret_hash=hashed),
                   Parcel("3333-4444", "f1_tag", secret_hash=hashed),
                   Parcel("5555-6666", "secret", secret_hash=hashed)]
        assert manifest.import_parcels(site.controller.site, parcels, "test") == 3
        db = site.controller.site.db
        assert db.parcel("1111-2222").secret_hash is None
        assert db.parcel("3333-4444").secret_hash is None
        assert db.parcel("5555-6666").secret_hash == hashed
    finally:
        await site.controller.stop()


async def test_hashes_kept_before_are_dropped_at_start(tmp_path):
    folder = tmp_path / "site"
    site = await start_site(folder, clock=ManualClock(), locks="kerong", doors=2)
    hashed = hash_secret("424242", CHEAP_PARAMS)
    try:   # as an older version (or an online setting since switched off) stored it
        with site.controller.site.db.transaction(0.0) as tx:
            tx.save_parcel(Parcel("1111-2222", "f2_tag", secret_hash=hashed))
            tx.save_parcel(Parcel("5555-6666", "secret", secret_hash=hashed))
    finally:
        await site.controller.stop()
    site = await start_site(folder, clock=ManualClock(), locks="kerong", doors=2)
    try:
        db = site.controller.site.db
        assert db.parcel("1111-2222").secret_hash is None
        assert db.parcel("5555-6666").secret_hash == hashed
        dropped = db.audit_entries("secret_hashes_dropped")
        assert len(dropped) == 1 and dropped[0]["detail"]["count"] == 1
    finally:
        await site.controller.stop()
