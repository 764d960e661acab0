"""Online backups and restore (issue 14 §4): a backup taken while the controller writes is
consistent and checked; a tampered or damaged backup is refused; a restore is refused while
kioskd holds the run lock, keeps the database it replaces, and brings the books back."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from hwsim.site import start_site
from kiosk.clock import ManualClock
from kiosk.errors import StorageError
from kiosk.storage import backup


@pytest.fixture
async def site(tmp_path, rng):
    sim = await start_site(tmp_path / "site", clock=ManualClock(), locks="gpio", doors=4,
                           extra=f'\n[backup]\ndir = "{tmp_path / "backups"}"\nkeep = 3\n')
    sim.parcels_made = await sim.add_parcels(3, rng)
    try:
        yield sim
    finally:
        await sim.controller.stop()


async def test_backups_while_writing_are_checked_and_pruned(site, tmp_path):
    c = site.controller
    db = c.config.database
    stop = threading.Event()

    def writer():   # another writer hammering the database while backups are taken
        conn = sqlite3.connect(str(db), timeout=10)
        n = 0
        while not stop.is_set():
            with conn:
                conn.execute("CREATE TABLE IF NOT EXISTS scratch(n INTEGER)")
                conn.execute("INSERT INTO scratch VALUES (?)", (n,))
            n += 1
            time.sleep(0.001)   # a busy writer, not one that starves the controller of the lock
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        paths = []
        for _ in range(5):
            site.clock.advance(1)
            paths.append(await c.backup_now())
    finally:
        stop.set()
        thread.join()
    kept = backup.backups(tmp_path / "backups")
    assert len(kept) == 3 and kept == paths[-3:]                # keep = 3, the newest
    for path in kept:
        assert backup.check(path).entries > 0
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(tmp_path / "backups").st_mode & 0o777) == "0o700"
    assert len(c.site.db.audit_entries("backup_made")) >= 5    # and the one the controller made at start


async def test_a_tampered_or_damaged_backup_is_refused(site, tmp_path):
    path = await site.controller.backup_now()
    forged = tmp_path / "forged.db"
    forged.write_bytes(path.read_bytes())
    conn = sqlite3.connect(str(forged))
    with conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET detail = '{}' WHERE seq = 2")
    conn.close()
    with pytest.raises(StorageError, match="audit chain broken"):
        backup.check(forged)
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(path.read_bytes()[:4096] + b"\\0" * 4096)
    with pytest.raises(StorageError):
        backup.check(damaged)
    with pytest.raises(StorageError):
        backup.restore(forged, site.controller.config.database, 0.0)


async def test_restore_is_refused_while_kioskd_runs_then_brings_the_books_back(site, tmp_path, rng):
    c = site.controller
    path = await c.backup_now()
    db = c.config.database
    await site.add_parcels(2, rng)                            # after the backup
    before = len(c.site.db.parcels())
    await c.stop()
    with backup.run_lock(db):                                  # as `kiosk run` holds it
        with pytest.raises(StorageError, match="running kioskd"):
            backup.restore(path, db, 1.0)
    run = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "kiosk.cli", "restore", str(path),
                                  "--config", str(c.config.path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "kept as" in run.stdout
    conn = sqlite3.connect(str(db))
    assert conn.execute("SELECT COUNT(*) FROM parcels").fetchone()[0] == before - 2
    conn.close()
    [kept] = list(db.parent.glob(f"{db.name}.before-restore-*"))
    conn = sqlite3.connect(str(kept))
    assert conn.execute("SELECT COUNT(*) FROM parcels").fetchone()[0] == before
    conn.close()
    await c.start()                                            # the restored database serves


def test_kiosk_backup_command(tmp_path):
    run = subprocess.run([sys.executable, "-m", "kiosk.cli", "backup", "--config", str(tmp_path / "none.toml")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
