"""The store emulator's own SQLite database: what a store backend remembers.

    sites            site id → registered public key, locker set-up
    parcels          trade number, site, method, Argon2id hash of the secret, amount,
                     deadline, locker hint, state, and ``change``: the value of a store-wide
                     counter when the parcel last changed — manifests are "changes > cursor"
    events           each (site, event_id) once, with how often it came again
    attempts         online verification / matching attempts, for rate limits
    card_signatures  IC-card receipt signatures (stored once per identical upload)
    biometric_refs   opaque reference templates
    nonces           (site, X-Site-Nonce) seen lately: a replayed request is refused
    request_ids      (site, request_id) of every online check: a replayed check is refused

One connection shared by the server's threads behind one lock (the emulator is small; a
single writer keeps it simple and correct). WAL with synchronous=NORMAL: survives the
emulator being killed, which is all a test device needs. Nothing personal is stored: no
name, no address, no secret in the clear.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

from kiosk.security.keys import canonical_bytes

OPEN_STATES = ("expected", "arrived")          # still to be handed over
STATE_BY_EVENT = {"parcel_arrived": "arrived", "parcel_collected": "collected",
                  "parcel_expired": "expired", "parcel_returned": "returned"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('change', 0);
CREATE TABLE IF NOT EXISTS sites (
    site_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, registered_at REAL NOT NULL,
    lockers TEXT NOT NULL, hold_days INTEGER NOT NULL, reminder_hours TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parcels (
    trade_number TEXT PRIMARY KEY, site_id TEXT NOT NULL REFERENCES sites(site_id),
    method TEXT NOT NULL, secret_hash TEXT, amount_due INTEGER NOT NULL,
    hold_deadline REAL NOT NULL, locker_hint INTEGER, state TEXT NOT NULL,
    change INTEGER NOT NULL, created_at REAL NOT NULL,
    mismatches INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS parcels_by_change ON parcels(site_id, change);
CREATE TABLE IF NOT EXISTS events (
    n INTEGER PRIMARY KEY AUTOINCREMENT, site_id TEXT NOT NULL, event_id TEXT NOT NULL,
    seq INTEGER NOT NULL, kind TEXT NOT NULL, trade_number TEXT, created_at TEXT NOT NULL,
    payload TEXT NOT NULL, digest TEXT NOT NULL, received_at REAL NOT NULL,
    duplicates INTEGER NOT NULL DEFAULT 0, conflicts INTEGER NOT NULL DEFAULT 0,
    UNIQUE(site_id, event_id));
CREATE TABLE IF NOT EXISTS attempts (site_id TEXT NOT NULL, trade_number TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_by_site ON attempts(site_id, at);
CREATE INDEX IF NOT EXISTS attempts_by_parcel ON attempts(site_id, trade_number, at);
CREATE TABLE IF NOT EXISTS card_signatures (
    n INTEGER PRIMARY KEY AUTOINCREMENT, site_id TEXT NOT NULL, trade_number TEXT NOT NULL,
    card_id TEXT NOT NULL, signature TEXT NOT NULL, signed_data TEXT NOT NULL, received_at REAL NOT NULL,
    UNIQUE(site_id, trade_number, card_id, signature, signed_data));
CREATE TABLE IF NOT EXISTS biometric_refs (trade_number TEXT PRIMARY KEY, template BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS token_refs (trade_number TEXT PRIMARY KEY, token_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS placement (trade_number TEXT PRIMARY KEY, size TEXT, low_door INTEGER NOT NULL,
                                      visit_group TEXT, dropoff INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS nonces (site_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at REAL NOT NULL,
    PRIMARY KEY (site_id, nonce));
CREATE INDEX IF NOT EXISTS nonces_by_time ON nonces(seen_at);
CREATE TABLE IF NOT EXISTS request_ids (site_id TEXT NOT NULL, request_id TEXT NOT NULL, seen_at REAL NOT NULL,
    PRIMARY KEY (site_id, request_id));
"""


class StoreDB:
    """The emulator's database. Every method is one short locked transaction; thread-safe."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        with self.tx() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _bump(self, conn: sqlite3.Connection) -> int:
        conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'change'")
        return conn.execute("SELECT value FROM meta WHERE key = 'change'").fetchone()[0]

    # --- sites ---------------------------------------------------------------------------

    def register_site(self, site_id: str, public_key: str, now: float, setup: dict) -> None:
        with self.tx() as conn:
            conn.execute(
                "INSERT INTO sites(site_id, public_key, registered_at, lockers, hold_days, reminder_hours) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(site_id) DO UPDATE SET public_key = excluded.public_key",
                (site_id, public_key, now, json.dumps(setup["lockers"]), setup["hold_days"],
                 json.dumps(setup["reminder_hours"])))

    def site_key(self, site_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT public_key FROM sites WHERE site_id = ?", (site_id,)).fetchone()
        return row[0] if row else None

    def set_setup(self, site_id: str, setup: dict) -> bool:
        with self.tx() as conn:
            cur = conn.execute("UPDATE sites SET lockers = ?, hold_days = ?, reminder_hours = ? WHERE site_id = ?",
                               (json.dumps(setup["lockers"]), setup["hold_days"],
                                json.dumps(setup["reminder_hours"]), site_id))
        return cur.rowcount == 1

    def setup(self, site_id: str) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM sites WHERE site_id = ?", (site_id,)).fetchone()
        if row is None:
            return None
        return {"lockers": json.loads(row["lockers"]), "hold_days": row["hold_days"],
                "reminder_hours": json.loads(row["reminder_hours"])}

    # --- parcels -------------------------------------------------------------------------

    def trade_number_taken(self, trade_number: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM parcels WHERE trade_number = ?",
                                      (trade_number,)).fetchone() is not None

    def add_parcel(self, parcel: dict, now: float, template: bytes | None = None,
                   token_hash: str | None = None, size: str | None = None, low_door: bool = False,
                   group: str | None = None, dropoff: bool = False) -> None:
        """Raises sqlite3.IntegrityError when the trade number is taken."""
        with self.tx() as conn:
            change = self._bump(conn)
            conn.execute(
                "INSERT INTO parcels(trade_number, site_id, method, secret_hash, amount_due, hold_deadline, "
                "locker_hint, state, change, created_at) VALUES (?,?,?,?,?,?,?, 'expected', ?, ?)",
                (parcel["trade_number"], parcel["site_id"], parcel["method"], parcel["secret_hash"],
                 parcel["amount_due"], parcel["hold_deadline"], parcel["locker_hint"], change, now))
            if template is not None:
                conn.execute("INSERT INTO biometric_refs(trade_number, template) VALUES (?, ?)",
                             (parcel["trade_number"], template))
            if token_hash is not None:
                conn.execute("INSERT INTO token_refs(trade_number, token_hash) VALUES (?, ?)",
                             (parcel["trade_number"], token_hash))
            if size is not None or low_door or group is not None or dropoff:
                conn.execute("INSERT INTO placement(trade_number, size, low_door, visit_group, dropoff) "
                             "VALUES (?, ?, ?, ?, ?)", (parcel["trade_number"], size, int(low_door), group, int(dropoff)))

    def parcel(self, site_id: str, trade_number: str) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute("SELECT * FROM parcels WHERE site_id = ? AND trade_number = ?",
                                      (site_id, trade_number)).fetchone()

    def set_parcel_state(self, site_id: str, trade_number: str, state: str, *, store_change: bool) -> None:
        """A store-side change (``store_change``) moves the manifest cursor; one reported by the site does not."""
        with self.tx() as conn:
            if store_change:
                change = self._bump(conn)
                conn.execute("UPDATE parcels SET state = ?, change = ? WHERE site_id = ? AND trade_number = ?",
                             (state, change, site_id, trade_number))
            else:
                conn.execute("UPDATE parcels SET state = ? WHERE site_id = ? AND trade_number = ?",
                             (state, site_id, trade_number))

    def record_outcome(self, site_id: str, trade_number: str, matched: bool, lock_after: int) -> bool:
        """Count a wrong secret (or reset the count on a right one). True when the parcel is now locked."""
        with self.tx() as conn:
            if matched:
                conn.execute("UPDATE parcels SET mismatches = 0 WHERE site_id = ? AND trade_number = ?",
                             (site_id, trade_number))
                return False
            conn.execute("UPDATE parcels SET mismatches = mismatches + 1, locked = (mismatches + 1 >= ?) "
                         "WHERE site_id = ? AND trade_number = ?", (lock_after, site_id, trade_number))
            row = conn.execute("SELECT locked FROM parcels WHERE site_id = ? AND trade_number = ?",
                               (site_id, trade_number)).fetchone()
            return bool(row and row[0])

    def reset_attempts(self, site_id: str, trade_number: str) -> bool:
        with self.tx() as conn:
            cur = conn.execute("UPDATE parcels SET mismatches = 0, locked = 0 WHERE site_id = ? AND trade_number = ?",
                               (site_id, trade_number))
            conn.execute("DELETE FROM attempts WHERE site_id = ? AND trade_number = ?", (site_id, trade_number))
        return cur.rowcount == 1

    def changes(self, site_id: str, since: int, limit: int) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute("SELECT * FROM parcels WHERE site_id = ? AND change > ? ORDER BY change LIMIT ?",
                                      (site_id, since, limit)).fetchall()

    def current_change(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT value FROM meta WHERE key = 'change'").fetchone()[0]

    def placement(self, trade_number: str) -> tuple[str | None, bool, str | None, bool]:
        """The parcel's size (None: any door), whether its recipient needs a low door, its
        group, and whether it is a parcel someone sends (dropped off at the kiosk)."""
        with self._lock:
            row = self._conn.execute("SELECT size, low_door, visit_group, dropoff FROM placement "
                                     "WHERE trade_number = ?", (trade_number,)).fetchone()
        return (row[0], bool(row[1]), row[2], bool(row[3])) if row else (None, False, None, False)

    def token_hash(self, trade_number: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT token_hash FROM token_refs WHERE trade_number = ?",
                                     (trade_number,)).fetchone()
        return row[0] if row else None

    def biometric_template(self, trade_number: str) -> bytes | None:
        with self._lock:
            row = self._conn.execute("SELECT template FROM biometric_refs WHERE trade_number = ?",
                                     (trade_number,)).fetchone()
        return bytes(row[0]) if row else None

    # --- events --------------------------------------------------------------------------

    def receive_events(self, site_id: str, events: list[dict], now: float) -> tuple[list[str], list[str]]:
        """Store each event once; returns (accepted ids, duplicate ids), in batch order."""
        accepted, duplicates = [], []
        with self.tx() as conn:
            for event in events:
                payload = canonical_bytes(event["payload"]).decode("utf-8")
                digest = hashlib.sha256(canonical_bytes(event)).hexdigest()
                row = conn.execute("SELECT digest FROM events WHERE site_id = ? AND event_id = ?",
                                   (site_id, event["event_id"])).fetchone()
                if row is not None:
                    conn.execute("UPDATE events SET duplicates = duplicates + 1, conflicts = conflicts + ? "
                                 "WHERE site_id = ? AND event_id = ?",
                                 (int(row[0] != digest), site_id, event["event_id"]))
                    duplicates.append(event["event_id"])
                    continue
                conn.execute(
                    "INSERT INTO events(site_id, event_id, seq, kind, trade_number, created_at, payload, digest, "
                    "received_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (site_id, event["event_id"], int(event["seq"]), event["kind"], event["trade_number"],
                     event["created_at"], payload, digest, now))
                accepted.append(event["event_id"])
                state = STATE_BY_EVENT.get(event["kind"])
                if state and event["trade_number"]:
                    conn.execute("UPDATE parcels SET state = ? WHERE site_id = ? AND trade_number = ? "
                                 "AND state != 'cancelled'", (state, site_id, event["trade_number"]))
                deadline = event["payload"].get("deadline") if isinstance(event["payload"], dict) else None
                if event["kind"] == "hold_extended" and event["trade_number"] and isinstance(deadline, (int, float)) \
                        and not isinstance(deadline, bool):
                    conn.execute("UPDATE parcels SET hold_deadline = ? WHERE site_id = ? AND trade_number = ? "
                                 "AND hold_deadline < ?", (float(deadline), site_id, event["trade_number"],
                                                           float(deadline)))
        return accepted, duplicates

    def audit_anchors(self, site_id: str, limit: int) -> list[dict]:
        """The newest ``limit`` audit anchors the site sent, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT payload, created_at FROM events WHERE site_id = ? AND kind = 'audit_anchor' "
                                      "ORDER BY n DESC LIMIT ?", (site_id, limit)).fetchall()
        anchors = []
        for row in reversed(rows):
            payload = json.loads(row["payload"])
            anchors.append({"seq": payload["seq"], "hash": payload["hash"], "created_at": row["created_at"]})
        return anchors

    # --- replay protection ---------------------------------------------------------------

    def first_use_of_nonce(self, site_id: str, nonce: str, now: float, forget_before: float) -> bool:
        """Record a request's nonce; False when it was seen already (a replay)."""
        with self.tx() as conn:
            conn.execute("DELETE FROM nonces WHERE seen_at < ?", (forget_before,))
            cur = conn.execute("INSERT OR IGNORE INTO nonces(site_id, nonce, seen_at) VALUES (?,?,?)",
                               (site_id, nonce, now))
        return cur.rowcount == 1

    def first_use_of_request_id(self, site_id: str, request_id: str, now: float) -> bool:
        """Record an online check's request_id; False when it was used already."""
        with self.tx() as conn:
            cur = conn.execute("INSERT OR IGNORE INTO request_ids(site_id, request_id, seen_at) VALUES (?,?,?)",
                               (site_id, request_id, now))
        return cur.rowcount == 1

    def events(self, site_id: str | None = None) -> list[dict]:
        sql = "SELECT * FROM events" + (" WHERE site_id = ?" if site_id is not None else "") + " ORDER BY n"
        with self._lock:
            rows = self._conn.execute(sql, (site_id,) if site_id is not None else ()).fetchall()
        return [{"site_id": r["site_id"], "event_id": r["event_id"], "seq": r["seq"], "kind": r["kind"],
                 "trade_number": r["trade_number"], "created_at": r["created_at"],
                 "payload": json.loads(r["payload"]), "received_at": r["received_at"],
                 "duplicates": r["duplicates"], "conflicts": r["conflicts"]} for r in rows]

    def duplicates_total(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COALESCE(SUM(duplicates), 0) FROM events").fetchone()[0]

    # --- attempts and card signatures ------------------------------------------------------

    def attempts_since(self, site_id: str, trade_number: str | None, since: float) -> list[float]:
        """Times of attempts after ``since`` (for one parcel, or the whole site), oldest first."""
        with self._lock:
            if trade_number is None:
                rows = self._conn.execute("SELECT at FROM attempts WHERE site_id = ? AND at > ? ORDER BY at",
                                          (site_id, since))
            else:
                rows = self._conn.execute("SELECT at FROM attempts WHERE site_id = ? AND trade_number = ? "
                                          "AND at > ? ORDER BY at", (site_id, trade_number, since))
            return [r[0] for r in rows]

    def add_attempt(self, site_id: str, trade_number: str, now: float, forget_before: float) -> None:
        with self.tx() as conn:
            conn.execute("DELETE FROM attempts WHERE at < ?", (forget_before,))
            conn.execute("INSERT INTO attempts(site_id, trade_number, at) VALUES (?,?,?)", (site_id, trade_number, now))

    def add_card_signature(self, site_id: str, upload: dict, now: float) -> bool:
        """True when stored now, False when the identical upload was already there."""
        with self.tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO card_signatures(site_id, trade_number, card_id, signature, signed_data, "
                "received_at) VALUES (?,?,?,?,?,?)", (site_id, upload["trade_number"], upload["card_id"],
                                                     upload["signature"], upload["signed_data"], now))
        return cur.rowcount == 1

    def card_signatures(self, site_id: str | None = None) -> list[dict]:
        sql = "SELECT * FROM card_signatures" + (" WHERE site_id = ?" if site_id else "") + " ORDER BY n"
        with self._lock:
            rows = self._conn.execute(sql, (site_id,) if site_id else ()).fetchall()
        return [{k: r[k] for k in ("site_id", "trade_number", "card_id", "signature", "signed_data", "received_at")}
                for r in rows]
