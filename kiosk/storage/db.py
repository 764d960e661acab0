"""Opening the database: SQLite in WAL mode with synchronous=FULL, and numbered migrations.

One writer (the controller). WAL lets readers (``kiosk status``, ``kiosk audit verify``)
look while it writes; synchronous=FULL makes every committed transaction survive a power
cut. Migrations are the files ``migrations/NNN_name.sql``, applied in order, each in its
own transaction, the number kept in ``PRAGMA user_version``.

The database holds secret hashes and the audit log: its folder is 0700 and the database
and its -wal and -shm files 0600 whoever starts the controller and whatever the umask
(SQLite gives -wal and -shm the database file's mode). A folder or file already open to
other users is refused, as the site key is, with the command that fixes it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from importlib import resources
from pathlib import Path

from kiosk.errors import StorageError

_MIGRATION = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("kiosk.storage").joinpath("migrations").iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise StorageError(f"migrations are not numbered 1..n without gaps: {numbers}")
    return found


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at ``path``.

    Raises StorageError when the file is not a database, is newer than this program, or
    a migration fails."""
    if not readonly:
        _prepare_private(Path(path))
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, isolation_level=None)
        else:
            conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StorageError(f"{path}: could not switch to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as err:
        raise StorageError(f"{path}: cannot open the database: {err}") from err
    if not readonly:
        migrate(conn, str(path))
    return conn


def _prepare_private(path: Path) -> None:
    """Make the folder (0700) and the empty database file (0600) if they are missing;
    refuse either, or a -wal / -shm file, when other users may read it. Raises StorageError."""
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
            os.chmod(folder, 0o700)     # mkdir's mode is cut by the umask; this is exact
        _refuse_open_to_others(folder, "700")
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
            os.chmod(path, 0o600)
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if file.exists():
                _refuse_open_to_others(file, "600")
    except OSError as err:
        raise StorageError(f"{path}: cannot prepare the database: {err.strerror or err}") from err


def _refuse_open_to_others(path: Path, mode: str) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077:
        raise StorageError(f"{path} is open to other users (mode {current:o}); it holds secret hashes and "
                           f"the audit log: chmod {mode} {path}")


def migrate(conn: sqlite3.Connection, where: str = "database") -> int:
    """Apply every migration newer than the database. Returns the resulting version."""
    shipped = migrations()
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > len(shipped):
        raise StorageError(f"{where} is at schema version {current}, newer than this program ({len(shipped)})")
    for number, name, sql in shipped[current:]:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as err:
            conn.execute("ROLLBACK")
            raise StorageError(f"{where}: migration {name} failed: {err}") from err
    return len(shipped)


def _statements(sql: str):
    """Split a migration into statements (executescript would commit on its own)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement and not _only_comments(statement):
                yield statement
            buffer = ""
    if buffer.strip() and not _only_comments(buffer):
        raise StorageError("migration ends with an incomplete statement")


def _only_comments(text: str) -> bool:
    return all(line.strip().startswith("--") or not line.strip() for line in text.splitlines())
