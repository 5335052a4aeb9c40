-- Admin sessions, so a restart does not log operators out. The cookie's random id is never
-- stored: only its SHA-256. Expired rows are deleted with the hourly history pruning.
CREATE TABLE admin_sessions (
    id_sha256 TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
