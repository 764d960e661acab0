"""Repositories over the database, and the one way to change state: a transaction.

Every state change is one ``Database.transaction()``: the new parcel and locker rows, the
outbox event for the store backend and the audit entry are written together or not at
all. ``BEGIN IMMEDIATE`` takes the write lock at once, so there is never a half-written
change to see, even after a crash or power cut (WAL + synchronous=FULL).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Callable, Iterator

from kiosk.domain.lockers import Locker, LockerState, Phase
from kiosk.domain.parcels import Parcel, ParcelState
from kiosk import journal
from kiosk.errors import InvalidTransition, StorageError, UnknownParcel
from kiosk.storage import audit, db

_PARCEL_COLS = ("trade_number", "method", "state", "secret_hash", "amount_due", "hold_deadline",
                "locker_hint", "locker", "failed_attempts", "locked_out", "reminders_sent", "amount_paid",
                "token_hash", "extensions", "size", "low_door", "visit_group", "dropoff")
_SYNC_COLS = ("cursor", "last_attempt_at", "last_success_at", "last_error", "last_error_at", "failures",
              "next_attempt_at", "sequence")
_PENDING = "sent_at IS NULL AND quarantined_at IS NULL"   # waiting for the store
SYNC_CHANNELS = ("events", "manifest", "verify")
_LOCKER_COLS = ("number", "state", "parcel", "door", "op_id", "op_kind", "phase", "commanded_at",
                "opened_at", "alarmed", "fault")


def _parcel(row: sqlite3.Row) -> Parcel:
    values = {c: row[c] for c in _PARCEL_COLS}
    values["state"] = ParcelState(values["state"])
    values["locked_out"] = bool(values["locked_out"])
    values["low_door"] = bool(values["low_door"])
    values["dropoff"] = bool(values["dropoff"])
    return Parcel(**values)


def _locker(row: sqlite3.Row) -> Locker:
    values = {c: row[c] for c in _LOCKER_COLS}
    values["state"] = LockerState(values["state"])
    values["phase"] = Phase(values["phase"]) if values["phase"] else None
    values["alarmed"] = bool(values["alarmed"])
    return Locker(**values)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Reader:
    """Queries; usable inside or outside a transaction."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def parcel(self, trade_number: str) -> Parcel | None:
        row = self.conn.execute("SELECT * FROM parcels WHERE trade_number = ?", (trade_number,)).fetchone()
        return _parcel(row) if row else None

    def require_parcel(self, trade_number: str | None) -> Parcel:
        """The parcel the books name (a locker's, an opening's). Raises UnknownParcel when
        there is none: the books disagree with themselves, and nothing may go ahead."""
        parcel = self.parcel(trade_number) if trade_number is not None else None
        if parcel is None:
            raise UnknownParcel(f"no parcel {trade_number} in the books")
        return parcel

    def parcels(self, state: ParcelState | None = None) -> list[Parcel]:
        if state is None:
            rows = self.conn.execute("SELECT * FROM parcels ORDER BY trade_number")
        else:
            rows = self.conn.execute("SELECT * FROM parcels WHERE state = ? ORDER BY trade_number", (state.value,))
        return [_parcel(r) for r in rows]

    def locker(self, number: int) -> Locker | None:
        row = self.conn.execute("SELECT * FROM lockers WHERE number = ?", (number,)).fetchone()
        return _locker(row) if row else None

    def require_locker(self, number: int | None) -> Locker:
        """Locker ``number``. Raises InvalidTransition when there is no such locker."""
        locker = self.locker(number) if number is not None else None
        if locker is None:
            raise InvalidTransition(f"no locker {number}")
        return locker

    def lockers(self) -> list[Locker]:
        return [_locker(r) for r in self.conn.execute("SELECT * FROM lockers ORDER BY number")]

    def site_failures_since(self, since: float) -> list[float]:
        return [r[0] for r in self.conn.execute("SELECT at FROM site_failures WHERE at >= ? ORDER BY at", (since,))]

    def courier_failures_since(self, since: float) -> list[float]:
        return [r[0] for r in self.conn.execute("SELECT at FROM courier_failures WHERE at >= ? ORDER BY at", (since,))]

    def courier_logins_since(self, courier_id: str, since: float) -> list[float]:
        return [r[0] for r in self.conn.execute(
            "SELECT at FROM courier_logins WHERE courier_id = ? AND at >= ? ORDER BY at", (courier_id, since))]

    def outbox(self, pending_only: bool = False) -> list[dict]:
        sql = "SELECT * FROM outbox" + (f" WHERE {_PENDING}" if pending_only else "") + " ORDER BY seq"
        return [dict(r) | {"payload": json.loads(r["payload"])} for r in self.conn.execute(sql)]

    def events_between(self, since: float, until: float, kinds: tuple[str, ...]) -> list[dict]:
        """The events of ``kinds`` created in [since, until), in order, payloads decoded."""
        marks = ",".join("?" * len(kinds))
        rows = self.conn.execute(f"SELECT event_id, kind, trade_number, created_at, payload FROM outbox "
                                 f"WHERE created_at >= ? "
                                 f"AND created_at < ? AND kind IN ({marks}) ORDER BY seq", (since, until, *kinds))
        return [dict(r) | {"payload": json.loads(r["payload"])} for r in rows]

    def pending_events(self, limit: int, after_seq: int = 0) -> list[dict]:
        """The oldest ``limit`` events after ``after_seq`` not yet marked sent, in seq order,
        with ``payload`` as stored: its canonical JSON text (it goes on the wire as is)."""
        rows = self.conn.execute(f"SELECT * FROM outbox WHERE {_PENDING} AND seq > ? ORDER BY seq LIMIT ?",
                                 (after_seq, limit))
        return [dict(r) for r in rows]

    def pending_summary(self) -> tuple[int, float | None]:
        """(how many events wait for the store, when the oldest of them was created)."""
        try:
            row = self.conn.execute(f"SELECT COUNT(*), MIN(created_at) FROM outbox WHERE {_PENDING}").fetchone()
        except sqlite3.OperationalError:   # opened read-only before migration 005: nothing quarantined yet
            row = self.conn.execute("SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL").fetchone()
        return row[0], row[1]

    def quarantined(self) -> list[dict]:
        """Events the store refused on their own (kept, never sent again), oldest first."""
        sql = "SELECT * FROM outbox WHERE quarantined_at IS NOT NULL ORDER BY seq"
        return [dict(r) | {"payload": json.loads(r["payload"])} for r in self.conn.execute(sql)]

    def quarantined_count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM outbox WHERE quarantined_at IS NOT NULL").fetchone()[0]

    def audit_hash(self, seq: int) -> str | None:
        row = self.conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
        return row[0] if row else None

    def last_event(self, kind: str) -> dict | None:
        """The newest outbox event of ``kind`` (sent or not), payload decoded."""
        row = self.conn.execute("SELECT * FROM outbox WHERE kind = ? ORDER BY seq DESC LIMIT 1", (kind,)).fetchone()
        return dict(row) | {"payload": json.loads(row["payload"])} if row else None

    def audit_head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest audit entry; None for an empty log."""
        row = self.conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else None

    def sync_channel(self, channel: str) -> dict:
        """The state of one store channel ('events', 'manifest', 'verify'); defaults when never used."""
        row = self.conn.execute("SELECT * FROM sync_status WHERE channel = ?", (channel,)).fetchone()
        if row is None:
            return {"channel": channel, **{c: None for c in _SYNC_COLS}, "failures": 0}
        return dict(row)

    def sync_summary(self) -> dict:
        """What the UI and `kiosk status` show about the link to the store."""
        count, oldest = self.pending_summary()
        channels = {c: self.sync_channel(c) for c in SYNC_CHANNELS}
        return {"pending": count, "oldest_pending": oldest, "quarantined": self.quarantined_count(),
                **{c: {k: v for k, v in row.items() if k not in ("channel", "cursor", "sequence")}
                   for c, row in channels.items()}}

    def visit_group(self, group: str) -> list[Parcel]:
        """The parcels the store grouped under ``group`` (one recipient's visit)."""
        rows = self.conn.execute("SELECT * FROM parcels WHERE visit_group = ? ORDER BY trade_number", (group,))
        return [_parcel(r) for r in rows]

    def audit_entries(self, action: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM audit", tuple[str, ...]()
        if action:
            sql, args = sql + " WHERE action = ?", (action,)
        return [dict(r) | {"detail": json.loads(r["detail"])} for r in self.conn.execute(sql + " ORDER BY seq", args)]


class Transaction(Reader):
    """Writes, valid only inside ``Database.transaction()``."""

    def purge_finished(self, before: float) -> tuple[int, int]:
        """Forget parcels collected or returned before ``before`` (and their payments), and
        events the store acknowledged before it. The audit keeps its entries (a hash chain
        cannot lose links). Returns (parcels, events) removed."""
        closed = ("SELECT trade_number FROM parcels WHERE state IN ('collected', 'returned') AND updated_at < ? "
                  "AND trade_number NOT IN (SELECT parcel FROM lockers WHERE parcel IS NOT NULL)")
        self.conn.execute(f"DELETE FROM payments WHERE trade_number IN ({closed})", (before,))
        parcels = self.conn.execute(f"DELETE FROM parcels WHERE trade_number IN ({closed})", (before,)).rowcount
        events = self.conn.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?", (before,)).rowcount
        return parcels, events

    def __init__(self, conn: sqlite3.Connection, now: float):
        super().__init__(conn)
        self.now = now
        self.emitted = 0
        self.audited: list[tuple[str, str, str | None, dict]] = []

    def save_parcel(self, parcel: Parcel) -> None:
        values = [getattr(parcel, c) for c in _PARCEL_COLS]
        values[2] = parcel.state.value
        values[_PARCEL_COLS.index("locked_out")] = int(parcel.locked_out)
        values[_PARCEL_COLS.index("low_door")] = int(parcel.low_door)
        values[_PARCEL_COLS.index("dropoff")] = int(parcel.dropoff)
        self.conn.execute(
            f"INSERT INTO parcels({', '.join(_PARCEL_COLS)}, created_at, updated_at) "
            f"VALUES ({', '.join('?' * len(_PARCEL_COLS))}, ?, ?) "
            f"ON CONFLICT(trade_number) DO UPDATE SET "
            + ", ".join(f"{c}=excluded.{c}" for c in _PARCEL_COLS[1:]) + ", updated_at=excluded.updated_at",
            (*values, self.now, self.now))

    def drop_secret_hashes(self, methods: list[str]) -> int:
        """Forget the plain secret hashes of every parcel verified by one of ``methods``."""
        marks = ", ".join("?" * len(methods))
        cur = self.conn.execute(f"UPDATE parcels SET secret_hash = NULL, updated_at = ? "
                                f"WHERE secret_hash IS NOT NULL AND method IN ({marks})", (self.now, *methods))
        return cur.rowcount

    def save_locker(self, locker: Locker) -> None:
        values = [getattr(locker, c) for c in _LOCKER_COLS]
        values[1] = locker.state.value
        values[6] = locker.phase.value if locker.phase else None
        values[9] = int(locker.alarmed)
        self.conn.execute(
            f"INSERT INTO lockers({', '.join(_LOCKER_COLS)}, updated_at) VALUES ({', '.join('?' * len(_LOCKER_COLS))}, ?) "
            f"ON CONFLICT(number) DO UPDATE SET "
            + ", ".join(f"{c}=excluded.{c}" for c in _LOCKER_COLS[1:]) + ", updated_at=excluded.updated_at",
            (*values, self.now))

    def emit(self, kind: str, trade_number: str | None = None, **payload) -> str:
        """Queue an event for the store backend; returns its id (fixed now, forever)."""
        event_id = uuid.uuid4().hex
        self.conn.execute("INSERT INTO outbox(event_id, kind, trade_number, payload, created_at) VALUES (?,?,?,?,?)",
                          (event_id, kind, trade_number, audit.canonical(payload), self.now))
        self.emitted += 1
        return event_id

    def mark_sent(self, event_ids: list[str]) -> int:
        """The store has acknowledged these events: they are never sent again. Returns how many changed."""
        changed = 0
        for chunk in _chunks(event_ids, 500):
            changed += self.conn.execute(
                f"UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND event_id IN ({','.join('?' * len(chunk))})",
                (self.now, *chunk)).rowcount
        return changed

    def quarantine(self, rejections: list[tuple[str, str]]) -> int:
        """The store refused these events on their own: (event_id, reason). They are kept,
        never sent again. Returns how many changed."""
        changed = 0
        for event_id, reason in rejections:
            changed += self.conn.execute(f"UPDATE outbox SET quarantined_at = ?, rejected_reason = ? "
                                         f"WHERE {_PENDING} AND event_id = ?", (self.now, reason, event_id)).rowcount
        return changed

    def record_send_failure(self, event_ids: list[str], error: str) -> None:
        """One more failed attempt to deliver these events (they stay pending)."""
        for chunk in _chunks(event_ids, 500):
            self.conn.execute(
                f"UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                f"WHERE sent_at IS NULL AND event_id IN ({','.join('?' * len(chunk))})", (error, *chunk))

    def save_sync_channel(self, channel: str, **fields) -> None:
        """Update the named columns of a channel's row (creating it)."""
        unknown = set(fields) - set(_SYNC_COLS)
        if unknown:
            raise ValueError(f"unknown sync_status column(s): {sorted(unknown)}")
        row = self.sync_channel(channel) | fields
        self.conn.execute(
            f"INSERT OR REPLACE INTO sync_status(channel, {', '.join(_SYNC_COLS)}) "
            f"VALUES (?, {', '.join('?' * len(_SYNC_COLS))})", (channel, *(row[c] for c in _SYNC_COLS)))

    def delete_expected_parcel(self, trade_number: str) -> bool:
        """Forget a parcel the store cancelled, if it has not arrived. Returns whether it was removed."""
        return self.conn.execute("DELETE FROM parcels WHERE trade_number = ? AND state = 'expected'",
                                 (trade_number,)).rowcount == 1

    def audit(self, actor: str, action: str, subject: str | None = None, **detail) -> None:
        audit.append(self.conn, self.now, actor, action, subject, detail)
        self.audited.append((action, actor, subject, detail))   # logged once committed

    def record_site_failure(self) -> None:
        self.conn.execute("INSERT INTO site_failures(at) VALUES (?)", (self.now,))

    def prune_site_failures(self, before: float) -> None:
        self.conn.execute("DELETE FROM site_failures WHERE at < ?", (before,))

    def probe_storage(self) -> None:
        """Write and remove one row: succeeds only when the database can be written."""
        self.conn.execute("INSERT INTO storage_probe(at) VALUES (?)", (self.now,))
        self.conn.execute("DELETE FROM storage_probe")

    def record_courier_failure(self, prune_before: float) -> None:
        self.conn.execute("INSERT INTO courier_failures(at) VALUES (?)", (self.now,))
        self.conn.execute("DELETE FROM courier_failures WHERE at < ?", (prune_before,))

    def record_courier_login(self, courier_id: str, prune_before: float) -> None:
        self.conn.execute("INSERT INTO courier_logins(courier_id, at) VALUES (?, ?)", (courier_id, self.now))
        self.conn.execute("DELETE FROM courier_logins WHERE at < ?", (prune_before,))


class Database(Reader):
    """The controller's handle on its database (the only writer).

    A write the database refuses (disk full, I/O error, a read-only file system) rolls
    back whole and raises StorageError; until a later transaction commits, ``failing``
    says why, so the service can stop starting things it could not record."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        super().__init__(db.connect(path))
        self._on_emit: list[Callable[[], None]] = []
        self.failing: str | None = None
        self.failing_since: float | None = None

    def on_emit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each committed transaction that queued outbox events
        (the outbox pump wakes on it). It must not block or raise."""
        self._on_emit.append(listener)

    @contextmanager
    def transaction(self, now: float) -> Iterator[Transaction]:
        """One all-or-nothing change. Raises StorageError when the database refuses it."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise self._failed(err, now) from err
        tx = Transaction(self.conn, now)
        try:
            yield tx
            self.conn.execute("COMMIT")
        except BaseException as err:
            self._rollback()
            if isinstance(err, sqlite3.OperationalError):   # disk full, I/O error, read-only: not a bug
                raise self._failed(err, now) from err
            raise
        self.failing = self.failing_since = None
        for action, actor, subject, detail in tx.audited:
            journal.log_audited(action, actor, subject, detail)
        if tx.emitted:
            for listener in self._on_emit:
                listener()

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass   # SQLite rolls back by itself when it cannot: nothing half-written stays

    def _failed(self, err: sqlite3.OperationalError, now: float) -> StorageError:
        if self.failing is None:
            self.failing_since = now
        self.failing = str(err)
        return StorageError(f"the database refused a write: {err}")

    def verify_audit(self) -> audit.ChainReport:
        return audit.verify(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __repr__(self) -> str:
        return f"<Database {self.path!r}>"
