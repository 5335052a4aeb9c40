-- Failed admin logins per client address, in the database so that every instance sharing it
-- counts the same attempts (and a restart does not hand out new ones). A row's window starts
-- at its first failure; a failure after the window starts a new one.
CREATE TABLE login_failures (
    client TEXT PRIMARY KEY,
    window_start_ms INTEGER NOT NULL,
    failures INTEGER NOT NULL
) WITHOUT ROWID;
