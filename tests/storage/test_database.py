"""Storage: WAL + FULL, migrations, one-transaction changes, the append-only hash chain."""

import sqlite3

import pytest

from kiosk.domain.lockers import Locker, LockerState
from kiosk.domain.parcels import Parcel, ParcelState
from kiosk.errors import StorageError
from kiosk.storage import audit, db
from kiosk.storage.database import Database


@pytest.fixture
def store(tmp_path):
    s = Database(tmp_path / "k.db")
    yield s
    s.close()


def test_pragmas_and_version(store):
    conn = store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(db.migrations())


def test_reopening_migrates_nothing_twice(tmp_path):
    Database(tmp_path / "k.db").close()
    again = Database(tmp_path / "k.db")
    assert again.conn.execute("PRAGMA user_version").fetchone()[0] == len(db.migrations())
    again.close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "k.db"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StorageError, match="newer than this program"):
        Database(path)


def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "k.db"
    path.write_bytes(b"this is not a database" * 100)
    path.chmod(0o600)
    with pytest.raises(StorageError, match="cannot open|not a database"):
        Database(path)


def test_round_trip(store):
    p = Parcel("1234-5678", "locker", ParcelState.ARRIVED, "h", 500, 1.5, 2, 3, 1, False)
    lk = Locker(3, LockerState.OCCUPIED, "1234-5678", "closed")
    with store.transaction(10.0) as tx:
        tx.save_parcel(p)
        tx.save_locker(lk)
    assert store.parcel("1234-5678") == p
    assert store.locker(3) == lk


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction(1.0) as tx:
            tx.save_parcel(Parcel("1234-5678", "locker"))
            tx.emit("parcel_arrived", "1234-5678")
            tx.audit("kioskd", "x")
            raise RuntimeError("crash in the middle")
    assert store.parcel("1234-5678") is None
    assert store.outbox() == [] and store.audit_entries() == []


def test_outbox_ids_are_unique_and_ordered(store):
    with store.transaction(1.0) as tx:
        ids = [tx.emit("e", "1234-5678", n=i) for i in range(5)]
    rows = store.outbox()
    assert [r["event_id"] for r in rows] == ids and len(set(ids)) == 5
    assert [r["payload"]["n"] for r in rows] == list(range(5))


def test_one_parcel_per_locker_is_enforced(store):
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction(1.0) as tx:
            tx.save_parcel(Parcel("1234-5678", "locker"))
            tx.save_locker(Locker(1, LockerState.OCCUPIED, "1234-5678", "closed"))
            tx.save_locker(Locker(2, LockerState.OCCUPIED, "1234-5678", "closed"))


class TestAuditChain:
    def fill(self, store, n=5):
        for i in range(n):
            with store.transaction(float(i)) as tx:
                tx.audit("kioskd", "thing", f"locker:{i}", n=i)

    def test_verifies(self, store):
        self.fill(store)
        report = store.verify_audit()
        assert report.ok and report.entries == 5

    def test_is_append_only(self, store):
        self.fill(store)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute("UPDATE audit SET action = 'other' WHERE seq = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute("DELETE FROM audit WHERE seq = 5")

    @pytest.mark.parametrize("tamper, reason", [
        ("UPDATE audit SET detail = '{\"n\":99}' WHERE seq = 3", "content"),
        ("DELETE FROM audit WHERE seq = 3", "missing"),
        ("UPDATE audit SET prev_hash = '" + "1" * 64 + "' WHERE seq = 4", "point"),
    ])
    def test_edits_break_the_chain_even_without_the_triggers(self, store, tamper, reason):
        self.fill(store)
        store.conn.execute("DROP TRIGGER audit_no_update")
        store.conn.execute("DROP TRIGGER audit_no_delete")
        store.conn.execute(tamper)
        report = audit.verify(store.conn)
        assert not report.ok and reason in report.reason and report.first_bad in (3, 4)
