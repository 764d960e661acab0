-- 001: parcels, lockers, outbox, audit log, site failures.
-- No personal data anywhere: a parcel is a trade number; a secret is an Argon2id hash.

CREATE TABLE parcels (
    trade_number    TEXT PRIMARY KEY,
    method          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('expected','arrived','collected','expired','returned')),
    secret_hash     TEXT,
    amount_due      INTEGER NOT NULL DEFAULT 0 CHECK (amount_due >= 0),
    hold_deadline   REAL,
    locker_hint     INTEGER,
    locker          INTEGER,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_out      INTEGER NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
);

CREATE TABLE lockers (
    number       INTEGER PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('free','loading','occupied','unloading','fault','out_of_service')),
    parcel       TEXT REFERENCES parcels(trade_number),
    door         TEXT NOT NULL DEFAULT 'unknown' CHECK (door IN ('open','closed','unknown')),
    op_id        TEXT,
    op_kind      TEXT CHECK (op_kind IN ('deposit','pickup','service')),
    phase        TEXT CHECK (phase IN ('commanded','opened')),
    commanded_at REAL,
    opened_at    REAL,
    alarmed      INTEGER NOT NULL DEFAULT 0,
    fault        TEXT,
    updated_at   REAL NOT NULL
);
-- A parcel can be in at most one locker.
CREATE UNIQUE INDEX lockers_one_per_parcel ON lockers(parcel) WHERE parcel IS NOT NULL;

-- Events for the store backend. event_id is chosen at creation and never changes, so
-- the store can drop duplicates; seq keeps the order (per parcel and overall).
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    trade_number TEXT,
    payload      TEXT NOT NULL,
    created_at   REAL NOT NULL,
    sent_at      REAL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_at IS NULL;

-- Append-only, hash-chained: hash = SHA-256(prev_hash | canonical JSON of the entry).
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        REAL NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Failed verification attempts at this site (time only: no trade number, no secret).
CREATE TABLE site_failures (
    at REAL NOT NULL
);
CREATE INDEX site_failures_at ON site_failures(at);
