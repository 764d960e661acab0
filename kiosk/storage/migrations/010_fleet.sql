-- 010: the fleet link over MQTT (issue 14 §5; kiosk/storage/fleet.py).
-- fleet_outbox: messages for the fleet's broker, each with the id it was given when queued;
-- a row is deleted only after the broker's PUBACK, so a broker that is down or a kioskd
-- killed mid-send loses nothing (the consumer drops repeats by id). A newer snapshot of a
-- retained state topic replaces one not yet sent: only the latest state matters.
CREATE TABLE fleet_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id     TEXT NOT NULL UNIQUE,
    topic      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    retain     INTEGER NOT NULL DEFAULT 0 CHECK (retain IN (0, 1)),
    created_at REAL NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX fleet_outbox_topic ON fleet_outbox(topic) WHERE retain = 1;

-- The nonces of the remote commands accepted here, kept until the command has expired, so
-- a command replayed (even after a restart) is refused.
CREATE TABLE fleet_nonces (
    nonce       TEXT PRIMARY KEY,
    expires_at  REAL NOT NULL,
    accepted_at REAL NOT NULL
);
CREATE INDEX fleet_nonces_expiry ON fleet_nonces(expires_at);

-- Running totals (events queued: the events' seq; commands accepted and refused), written
-- in the same transaction as what they count.
CREATE TABLE fleet_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL DEFAULT 0 CHECK (value >= 0)
);
