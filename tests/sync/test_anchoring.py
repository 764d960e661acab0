"""Audit anchoring (issue 8 §3): the audit chain's head goes to the store, regularly and at
every shutdown, and ``kiosk audit verify --against-store`` finds a deleted tail or a
rewritten, re-chained log that the chain alone cannot tell from an honest one."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from hwsim.site import FAST_HASH
from hwsim.store import StoreEmulator
from kiosk import cli
from kiosk.clock import ManualClock
from kiosk.storage import audit
from tests.sync.conftest import linked_site

SITE = "sim-site"


def local_head(db_path) -> tuple[int, str]:
    conn = sqlite3.connect(db_path)
    try:
        return tuple(conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone())
    finally:
        conn.close()


async def test_the_head_is_anchored_on_schedule_and_only_when_it_moved(tmp_path, clock, store):
    site = await linked_site(tmp_path, clock, store, anchor_interval_s=60)
    c = site.controller
    try:
        await c.sync.settle()
        assert store.audit_anchors(SITE) == []
        for _ in range(2):
            clock.advance(60)
            c.tick()
            await c.sync.settle()
        anchors = store.audit_anchors(SITE)
        assert [(a["seq"], a["hash"]) for a in anchors] == [c.site.db.audit_head()]   # once: it did not move
        with c.site.db.transaction(clock.now()) as tx:
            tx.audit("clerk", "locker_checked", None, locker=1)
        clock.advance(60)
        c.tick()
        await c.sync.settle()
        assert (store.audit_anchors(SITE)[-1]["seq"], store.audit_anchors(SITE)[-1]["hash"]) == c.site.db.audit_head()
    finally:
        await c.stop()


async def test_every_shutdown_anchors_the_head(tmp_path, clock, store):
    site = await linked_site(tmp_path, clock, store)
    c = site.controller
    await c.sync.settle()
    with c.site.db.transaction(clock.now()) as tx:
        tx.audit("clerk", "locker_checked", None, locker=2)
    db_path = c.config.database
    await c.stop()
    newest = store.audit_anchors(SITE)[-1]
    assert (newest["seq"], newest["hash"]) == local_head(db_path)


def _rechain_from(db_path, seq: int) -> None:
    """What an attacker with the disk does: change entry ``seq`` and recompute every hash after it."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    rows = conn.execute("SELECT seq, at, actor, action, subject, detail FROM audit WHERE seq >= ? ORDER BY seq",
                        (seq,)).fetchall()
    prev = conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq - 1,)).fetchone()[0]
    conn.execute("BEGIN")
    for s, at, actor, action, subject, detail in rows:
        if s == seq:
            detail = detail.replace("locker", "lockr")
        digest = audit.entry_hash(prev, s, at, actor, action, subject, detail)
        conn.execute("UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?", (detail, prev, digest, s))
        prev = digest
    conn.execute("COMMIT")
    conn.close()


def _delete_tail(db_path, keep: int) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq > ?", (keep,))
    conn.close()


@pytest.fixture
def anchored_site(tmp_path):
    """A site that ran, audited a few things and shut down (anchoring its head) — on a clock
    near real time, since `kiosk audit verify` dates its request by the system clock."""
    clock = ManualClock(time.time())
    store = StoreEmulator(tmp_path / "store", clock=clock, hash_params=FAST_HASH, seed=3)
    store.start()

    async def run():
        site = await linked_site(tmp_path, clock, store)
        c = site.controller
        await c.sync.settle()
        for n in range(1, 4):
            with c.site.db.transaction(clock.now()) as tx:
                tx.audit("clerk", "locker_checked", None, locker=n)
        path = c.config.database
        await c.stop()
        return path

    db_path = asyncio.run(run())
    yield tmp_path / "site" / "kiosk.toml", db_path, store
    store.close()


def verify(config, *extra) -> int:
    return cli.main(["audit", "verify", "--config", str(config), *extra])


def test_an_intact_log_matches_the_store(anchored_site, capsys):
    config, _, store = anchored_site
    assert verify(config, "--against-store") == 0
    out = capsys.readouterr().out
    assert "audit chain ok" in out and "matches the store" in out


def test_a_deleted_tail_passes_the_chain_but_not_the_store(anchored_site, capsys):
    config, db_path, store = anchored_site
    seq, _ = local_head(db_path)
    _delete_tail(db_path, seq - 2)
    assert verify(config) == 0                       # the chain alone cannot see it
    assert verify(config, "--against-store") == 1
    assert "tail was deleted" in capsys.readouterr().out


def test_a_rewritten_and_rechained_entry_passes_the_chain_but_not_the_store(anchored_site, capsys):
    config, db_path, store = anchored_site
    seq, _ = local_head(db_path)
    _rechain_from(db_path, seq - 1)
    assert verify(config) == 0                       # the chain alone cannot see it
    assert verify(config, "--against-store") == 1
    assert "rewritten" in capsys.readouterr().out


def test_against_store_needs_the_config(anchored_site, capsys):
    _, db_path, _ = anchored_site
    assert cli.main(["audit", "verify", "--db", str(db_path), "--against-store"]) == 2
