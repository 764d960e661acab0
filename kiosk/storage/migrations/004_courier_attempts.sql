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
