-- 009: sizes and reachable doors (issue 15 §3), several parcels in one visit (§1), and
-- parcels sent from here (§4). The size the store says a parcel needs
-- (XS..XL, NULL: any door) and whether its recipient asked for a low door.
ALTER TABLE parcels ADD COLUMN size TEXT CHECK (size IS NULL OR size IN ('XS', 'S', 'M', 'L', 'XL'));
ALTER TABLE parcels ADD COLUMN low_door INTEGER NOT NULL DEFAULT 0 CHECK (low_door IN (0, 1));
-- The store's group: parcels for one recipient under one pickup code (an opaque id, no person).
ALTER TABLE parcels ADD COLUMN visit_group TEXT;
CREATE INDEX parcels_by_visit_group ON parcels(visit_group) WHERE visit_group IS NOT NULL;
-- A parcel someone sends: dropped off here with its code, taken by the courier's round.
ALTER TABLE parcels ADD COLUMN dropoff INTEGER NOT NULL DEFAULT 0 CHECK (dropoff IN (0, 1));
