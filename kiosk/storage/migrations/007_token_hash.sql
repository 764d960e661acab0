-- 007: token parcels (F4, issue 11). The id of the token that travels on the parcel, as the
-- store sends it: a slow salted hash (Argon2id), like the secret, so that a copy of this
-- database does not say which token to clone for which parcel. Purged with the secret
-- when the parcel leaves.
ALTER TABLE parcels ADD COLUMN token_hash TEXT;
