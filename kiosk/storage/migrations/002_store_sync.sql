-- 002: the store link's own state, one row per channel (events out, manifest in,
-- online verification): the manifest cursor and the health that `kiosk status` shows.
-- Never a secret here: errors are our own words plus the store's error code.

CREATE TABLE sync_status (
    channel         TEXT PRIMARY KEY CHECK (channel IN ('events','manifest','verify')),
    cursor          TEXT,                       -- manifest: advanced only once its page is applied
    last_attempt_at REAL,
    last_success_at REAL,
    last_error      TEXT,
    last_error_at   REAL,
    failures        INTEGER NOT NULL DEFAULT 0,  -- consecutive; a success resets it
    next_attempt_at REAL
);
