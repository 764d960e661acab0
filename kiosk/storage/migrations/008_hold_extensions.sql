-- 008: hold extensions (issue 15 §5). How many times a parcel's deadline was extended (by
-- the recipient at the kiosk or by a clerk), so the limit holds across restarts.
ALTER TABLE parcels ADD COLUMN extensions INTEGER NOT NULL DEFAULT 0 CHECK (extensions >= 0);
