"""The payments repository (migration 006): payment rows and the cash devices' event counters.

Plain functions over a ``Reader`` (queries) or a ``Transaction`` (writes), so a payment's
row, the counter of the device event that changed it, the parcel, the outbox event and the
audit entry are written in one transaction by the service (kiosk.service.payment).
"""

from __future__ import annotations

import json
import sqlite3

from kiosk.domain.payments import FINAL, Payment, PaymentState
from kiosk.storage.database import Reader, Transaction

_COLS = ("payment_id", "trade_number", "state", "amount_due", "credited", "denominations", "paid_back", "owed",
         "started_at", "last_activity", "payout_marks")


def _payment(row: sqlite3.Row) -> Payment:
    values = {c: row[c] for c in _COLS}
    values["state"] = PaymentState(values["state"])
    values["denominations"] = json.loads(values["denominations"])
    values["payout_marks"] = json.loads(values["payout_marks"])
    return Payment(**values)


def payment(db: Reader, payment_id: str) -> Payment | None:
    row = db.conn.execute("SELECT * FROM payments WHERE payment_id = ?", (payment_id,)).fetchone()
    return _payment(row) if row else None


def unfinished(db: Reader) -> list[Payment]:
    """Payments not in a final state, oldest first."""
    marks = ", ".join("?" * len(FINAL))
    rows = db.conn.execute(f"SELECT * FROM payments WHERE state NOT IN ({marks}) ORDER BY started_at",
                           tuple(s.value for s in FINAL))
    return [_payment(r) for r in rows]


def payments(db: Reader, trade_number: str | None = None) -> list[Payment]:
    if trade_number is None:
        rows = db.conn.execute("SELECT * FROM payments ORDER BY started_at")
    else:
        rows = db.conn.execute("SELECT * FROM payments WHERE trade_number = ? ORDER BY started_at", (trade_number,))
    return [_payment(r) for r in rows]


def save(tx: Transaction, p: Payment) -> None:
    values = [getattr(p, c) for c in _COLS]
    values[2] = p.state.value
    values[5] = json.dumps(p.denominations, sort_keys=True)
    values[10] = json.dumps(p.payout_marks, sort_keys=True)
    tx.conn.execute(
        f"INSERT INTO payments({', '.join(_COLS)}, updated_at) VALUES ({', '.join('?' * len(_COLS))}, ?) "
        "ON CONFLICT(payment_id) DO UPDATE SET "
        + ", ".join(f"{c}=excluded.{c}" for c in _COLS[2:]) + ", updated_at=excluded.updated_at",
        (*values, tx.now))


def counters(db: Reader) -> dict[str, int]:
    return {r["device"]: r["counter"] for r in db.conn.execute("SELECT device, counter FROM cash_counters")}


def save_counter(tx: Transaction, device: str, counter: int) -> None:
    tx.conn.execute("INSERT INTO cash_counters(device, counter) VALUES (?, ?) "
                    "ON CONFLICT(device) DO UPDATE SET counter = excluded.counter", (device, counter))
