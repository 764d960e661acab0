"""How an attacker with the site's disk tampers with its books, for the attack scenarios
(hwsim.scenarios.attack_store): copy the database aside (to roll it back later), cut the
audit log's tail, rewrite one entry, and rewrite it while re-chaining every hash after it
— each meant to be caught by ``kiosk audit verify --against-store``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kiosk.storage import audit


def copy_db(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def audit_head(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    finally:
        conn.close()


def delete_audit_tail(conn: sqlite3.Connection, keep: int) -> None:
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq > ?", (keep,))


def rewrite_audit(conn: sqlite3.Connection, seq: int, *, rechain: bool = False) -> None:
    conn.execute("DROP TRIGGER audit_no_update")
    rows = conn.execute("SELECT seq, at, actor, action, subject, detail FROM audit WHERE seq >= ? ORDER BY seq",
                        (seq,)).fetchall()
    prev = conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq - 1,)).fetchone()[0]
    conn.execute("BEGIN")
    for s, at, actor, action, subject, detail in rows:
        if s == seq:
            conn.execute("UPDATE audit SET actor = ? WHERE seq = ?", ("nobody", s))
            actor = "nobody"
        if not rechain:
            break
        digest = audit.entry_hash(prev, s, at, actor, action, subject, detail)
        conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, s))
        prev = digest
    conn.execute("COMMIT")


def rechain_audit(conn: sqlite3.Connection, seq: int) -> None:
    rewrite_audit(conn, seq, rechain=True)
