"""The audit log: append-only (enforced by triggers) and hash-chained.

Each entry's hash is SHA-256 over the previous entry's hash and the canonical JSON of
the entry itself, so removing, reordering or editing any entry (even with the triggers
dropped) breaks the chain from that point on. ``verify`` walks the whole chain.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass

GENESIS = "0" * 64


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, seq: int, at: float, actor: str, action: str, subject: str | None, detail: str) -> str:
    body = canonical([seq, repr(float(at)), actor, action, subject, detail])
    return hashlib.sha256((prev_hash + "|" + body).encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, at: float, actor: str, action: str, subject: str | None, detail: dict) -> str:
    """Append one entry inside the caller's transaction; returns its hash."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
    detail_text = canonical(detail)
    digest = entry_hash(prev, seq, at, actor, action, subject, detail_text)
    conn.execute("INSERT INTO audit(seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
                 (seq, at, actor, action, subject, detail_text, prev, digest))
    return digest


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str = ""


def verify(conn: sqlite3.Connection) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    count = 0
    for row in conn.execute("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq"):
        seq, at, actor, action, subject, detail, prev_hash, digest = row
        if seq != expected_seq:
            return ChainReport(False, count, seq, f"entry {expected_seq} is missing")
        if prev_hash != prev:
            return ChainReport(False, count, seq, "does not point at the entry before it")
        if entry_hash(prev, seq, at, actor, action, subject, detail) != digest:
            return ChainReport(False, count, seq, "its content does not match its hash")
        prev, expected_seq, count = digest, expected_seq + 1, count + 1
    return ChainReport(True, count)
