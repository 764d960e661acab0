"""Online backups of the pickup point's database, and restoring one (issue 14 §4).

A backup is made with SQLite's online backup API (``Connection.backup``) over a read-only
connection of its own (in WAL mode a reader sees one consistent snapshot while the
controller goes on writing): never a file copy of a database in WAL mode, which can catch
it mid-checkpoint. It runs in a worker thread, off the controller's event loop. Each copy is checked
before it counts — ``PRAGMA integrity_check`` and the audit hash chain — and written
0600 in a 0700 folder as ``kiosk-<UTC time>-<nn>.db`` (names sort in time order); the oldest beyond ``keep`` are removed.

Restoring refuses a backup that fails the same checks, refuses while kioskd holds the
database's run lock (``<database>.lock``, taken by ``kiosk run``), keeps the current
database beside it as ``<database>.before-restore-<time>``, and copies the backup in with
the same backup API (so the WAL and shared-memory files are rewritten consistently).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import StorageError
from kiosk.storage import audit

PREFIX, SUFFIX = "kiosk-", ".db"


@dataclass(frozen=True)
class Checked:
    path: Path
    entries: int          # audit entries verified


def stamp(now: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def make(database: Path, folder: Path, now: float, keep: int = 7) -> Checked:
    """Copy ``database`` into ``folder`` (created 0700), check the copy, drop the oldest
    beyond ``keep``. Raises StorageError (the copy is removed if it fails its checks)."""
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for n in range(100):   # several in one second (a scheduled one and `kiosk backup`): keep them all
        target = folder / f"{PREFIX}{stamp(now)}-{n:02d}{SUFFIX}"
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            break
        except FileExistsError:
            continue
    else:
        raise StorageError(f"{folder}: a hundred backups in one second; not making another")
    try:
        source = sqlite3.connect(f"file:{Path(database)}?mode=ro", uri=True)
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        checked = check(target)
    except (sqlite3.Error, OSError, StorageError) as err:
        with contextlib.suppress(OSError):
            target.unlink()
        raise StorageError(f"backup to {target} failed: {err}") from err
    prune(folder, keep)
    return checked


def backups(folder: Path) -> list[Path]:
    """The backups in ``folder``, oldest first."""
    return sorted(p for p in Path(folder).glob(f"{PREFIX}*{SUFFIX}") if p.is_file())


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups; returns those removed."""
    old = backups(folder)[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return old


def check(path: Path) -> Checked:
    """A backup is usable: SQLite finds it intact and its audit chain verifies.
    Raises StorageError saying which check failed."""
    try:
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise StorageError(f"{path}: cannot open it: {err}") from err
    try:
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise StorageError(f"{path}: not a database: {err}") from err
        if result != "ok":
            raise StorageError(f"{path}: integrity check failed: {result}")
        conn.row_factory = sqlite3.Row
        report = audit.verify(conn)
        if not report.ok:
            raise StorageError(f"{path}: audit chain broken at entry {report.first_bad}: {report.reason}")
        return Checked(Path(path), report.entries)
    finally:
        conn.close()


@contextlib.contextmanager
def run_lock(database: Path) -> Iterator[None]:
    """Held by ``kiosk run`` for as long as it runs (and by a restore). Raises StorageError
    when someone else holds it. The kernel releases it when its holder dies, however."""
    path = Path(f"{database}.lock")
    try:
        Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(f"{database}: cannot prepare the database: {err.strerror or err}") from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as err:
        raise StorageError(f"{path}: cannot take the run lock: {err.strerror or err}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorageError(f"{database} is in use by a running kioskd: stop it first") from None
        yield
    finally:
        os.close(fd)


def restore(backup: Path, database: Path, now: float) -> tuple[Checked, Path | None]:
    """Replace ``database`` with ``backup`` after checking it. Returns the check and where
    the database it replaced was kept (None when there was none). Raises StorageError."""
    checked = check(backup)
    database = Path(database)
    with run_lock(database):
        kept = None
        if database.exists():
            kept = database.with_name(f"{database.name}.before-restore-{stamp(now)}")
            current = sqlite3.connect(str(database))
            try:
                saved = sqlite3.connect(str(kept))
                try:
                    current.backup(saved)
                finally:
                    saved.close()
            finally:
                current.close()
            os.chmod(kept, 0o600)
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        target = sqlite3.connect(str(database))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        os.chmod(database, 0o600)
    return checked, kept
