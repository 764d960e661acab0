"""The fleet link's repository (migration 010): its outbox, the nonces of accepted commands,
and its running totals.

Plain functions over a ``Reader`` (queries) or a ``Transaction`` (writes), like
kiosk.storage.payments, so a command's nonce and its audit entry, or an event and its
sequence number, are written in one transaction (kiosk.service.fleet_*).
"""

from __future__ import annotations

import uuid

from kiosk.storage.database import Reader, Transaction

EVENTS = "events"   # the counter that numbers the site's fleet events (their ``seq``)


def queue(tx: Transaction, topic: str, payload: str, *, retain: bool, msg_id: str) -> None:
    """Queue one message. A retained (state) message replaces any unsent one on its topic."""
    if retain:
        tx.conn.execute("DELETE FROM fleet_outbox WHERE retain = 1 AND topic = ?", (topic,))
    tx.conn.execute("INSERT INTO fleet_outbox(msg_id, topic, payload, retain, created_at) VALUES (?,?,?,?,?)",
                    (msg_id, topic, payload, int(retain), tx.now))


def new_id() -> str:
    return uuid.uuid4().hex


def pending(db: Reader, limit: int, *, skip: set[str] | frozenset[str] = frozenset()) -> list[dict]:
    """The oldest ``limit`` messages not in ``skip`` (those already handed to the broker), in order."""
    rows = db.conn.execute("SELECT msg_id, topic, payload, retain FROM fleet_outbox ORDER BY seq LIMIT ?",
                           (limit + len(skip),))
    return [dict(r) for r in rows if r["msg_id"] not in skip][:limit]


def pending_summary(db: Reader) -> tuple[int, float | None]:
    """(messages waiting for the broker's acknowledgement, when the oldest was queued)."""
    row = db.conn.execute("SELECT COUNT(*), MIN(created_at) FROM fleet_outbox").fetchone()
    return row[0], row[1]


def delete(tx: Transaction, msg_ids: list[str]) -> int:
    """The broker acknowledged these: forget them. Returns how many were still here."""
    gone = 0
    for i in range(0, len(msg_ids), 500):
        chunk = msg_ids[i:i + 500]
        gone += tx.conn.execute(f"DELETE FROM fleet_outbox WHERE msg_id IN ({','.join('?' * len(chunk))})",
                                chunk).rowcount
    return gone


def record_failure(tx: Transaction, msg_id: str, error: str) -> None:
    tx.conn.execute("UPDATE fleet_outbox SET attempts = attempts + 1, last_error = ? WHERE msg_id = ?",
                    (error[:300], msg_id))


def bump(tx: Transaction, name: str, by: int = 1) -> int:
    """Add ``by`` to counter ``name``; returns its new value."""
    tx.conn.execute("INSERT INTO fleet_counters(name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", (name, by))
    return counter(tx, name)


def counter(db: Reader, name: str) -> int:
    row = db.conn.execute("SELECT value FROM fleet_counters WHERE name = ?", (name,)).fetchone()
    return row[0] if row else 0


def counters(db: Reader) -> dict[str, int]:
    return {r[0]: r[1] for r in db.conn.execute("SELECT name, value FROM fleet_counters ORDER BY name")}


def nonce_seen(db: Reader, nonce: str) -> bool:
    return db.conn.execute("SELECT 1 FROM fleet_nonces WHERE nonce = ?", (nonce,)).fetchone() is not None


def remember_nonce(tx: Transaction, nonce: str, expires_at: float) -> None:
    tx.conn.execute("INSERT INTO fleet_nonces(nonce, expires_at, accepted_at) VALUES (?,?,?)",
                    (nonce, expires_at, tx.now))


def forget_nonces(tx: Transaction, expired_before: float) -> int:
    """Drop the nonces of commands that expired before ``expired_before`` (they are refused as
    expired anyway). Returns how many."""
    return tx.conn.execute("DELETE FROM fleet_nonces WHERE expires_at < ?", (expired_before,)).rowcount
