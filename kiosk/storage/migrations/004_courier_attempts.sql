-- Courier codes get their own limits (issue 8): wrong codes per site, sign-ins per courier.
-- Kept here, not in memory, so a restart does not reopen a closed courier sign-in.
CREATE TABLE courier_failures (
    at REAL NOT NULL
);
CREATE INDEX courier_failures_at ON courier_failures(at);

CREATE TABLE courier_logins (
    courier_id TEXT NOT NULL,
    at         REAL NOT NULL
);
CREATE INDEX courier_logins_id_at ON courier_logins(courier_id, at);

-- A write the controller can try while its storage is failing, to learn when it works again
-- (an empty transaction writes nothing, so it would succeed on a full disk).
CREATE TABLE storage_probe (
    at REAL NOT NULL
);
