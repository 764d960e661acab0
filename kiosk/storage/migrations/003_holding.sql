-- 003: forgotten-pickup warnings sent per parcel (so none is sent twice, even after a restart).
ALTER TABLE parcels ADD COLUMN reminders_sent INTEGER NOT NULL DEFAULT 0;
