-- 005: store protocol v1.1 (issue 8).
-- An event the store refuses on its own (per-event rejection) is quarantined: kept, with the
-- store's reason, never sent again, counted in `kiosk status`. The manifest channel keeps the
-- store's sequence of the last page applied, so that an older page is refused.

ALTER TABLE outbox ADD COLUMN quarantined_at REAL;
ALTER TABLE outbox ADD COLUMN rejected_reason TEXT;

DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_at IS NULL AND quarantined_at IS NULL;

ALTER TABLE sync_status ADD COLUMN sequence INTEGER;
