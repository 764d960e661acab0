-- 006: cash payments at pickup (issue 13). One row per payment (kiosk.domain.payments), the
-- amount each parcel has had paid, and the last event counter acted on per cash device:
-- stored in the same transaction as the credit it counted, it is what the driver's resume()
-- needs after a restart to count every credit exactly once.
ALTER TABLE parcels ADD COLUMN amount_paid INTEGER NOT NULL DEFAULT 0 CHECK (amount_paid >= 0);

CREATE TABLE payments (
    payment_id    TEXT PRIMARY KEY,
    trade_number  TEXT NOT NULL REFERENCES parcels(trade_number),
    state         TEXT NOT NULL,
    amount_due    INTEGER NOT NULL CHECK (amount_due > 0),
    credited      INTEGER NOT NULL DEFAULT 0 CHECK (credited >= 0),
    denominations TEXT NOT NULL DEFAULT '{}',
    paid_back     INTEGER NOT NULL DEFAULT 0 CHECK (paid_back >= 0),
    owed          INTEGER NOT NULL DEFAULT 0 CHECK (owed >= 0),
    payout_marks  TEXT NOT NULL DEFAULT '{}',  -- hopper address -> its dispense counter before paying
    started_at    REAL NOT NULL,
    last_activity REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE INDEX payments_state ON payments(state);
CREATE INDEX payments_trade ON payments(trade_number);

CREATE TABLE cash_counters (
    device  TEXT PRIMARY KEY,
    counter INTEGER NOT NULL CHECK (counter BETWEEN 0 AND 255)
);
