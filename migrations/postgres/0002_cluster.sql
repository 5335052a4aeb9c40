-- Several instances on one database (see src/server/cluster/): the leadership term and the
-- newest published snapshot, in one row, so that the leader's fenced write of a snapshot and a
-- new leader's claim of the next term are ordered by the row's lock.
CREATE TABLE cluster_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- The current leadership term; a new leader increments it while holding the advisory lock.
    term BIGINT NOT NULL,
    -- Which instance claimed the term (a random id per process, for /metrics and logs).
    holder TEXT NOT NULL,
    -- The newest published snapshot: its version, its JSON (the SSE event's data, byte for
    -- byte) and the highest change (cluster_changes) it includes. NULL before the first.
    version BIGINT NOT NULL,
    snapshot_json TEXT,
    applied_change BIGINT NOT NULL,
    published_ms BIGINT NOT NULL
);
INSERT INTO cluster_state (id, term, holder, version, snapshot_json, applied_change, published_ms)
VALUES (1, 0, '', 0, NULL, 0, 0);

-- One number per write made at any instance (after it is committed); the leader records in
-- each snapshot the highest it has read, so the writer knows when its hub shows the write.
CREATE SEQUENCE cluster_changes;

-- The newest heartbeat of each component, received at any instance; the leader's check reads it.
CREATE TABLE heartbeats (
    component TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL
);
