-- statuscast's schema on PostgreSQL: the same tables as the SQLite migrations 0001–0007 (see
-- migrations/sqlite/), in one step. Times are milliseconds since the epoch (BIGINT); levels
-- are codes 0–4 (operational, under_maintenance, degraded_performance, partial_outage,
-- major_outage), as in SQLite.

-- The engine's durable state: the reserved snapshot version and the operator override. One row.
CREATE TABLE engine_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    reserved_version BIGINT NOT NULL,
    override_json TEXT
);

-- Check results: raw for 24 hours, rolled up per minute, hour and day as they arrive.
CREATE TABLE check_results (
    component TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    level SMALLINT NOT NULL,
    latency_ms INTEGER
);
CREATE INDEX check_results_at ON check_results (at_ms);
CREATE INDEX check_results_component_at ON check_results (component, at_ms);

-- The primary key (component, span, start_ms) is the index the history queries use: one
-- range scan per component for the 90 days of bars and the 24 h of minutes.
CREATE TABLE check_rollups (
    component TEXT NOT NULL,
    span TEXT NOT NULL CHECK (span IN ('minute', 'hour', 'day')),
    start_ms BIGINT NOT NULL,
    samples BIGINT NOT NULL,
    operational BIGINT NOT NULL,
    worst_level SMALLINT NOT NULL,
    latency_sum BIGINT NOT NULL,
    latency_count BIGINT NOT NULL,
    latency_max BIGINT NOT NULL,
    -- Hours and days: how many of their minutes had results (counted by the store as it
    -- inserts a minute's row: see src/server/store/postgres/history.rs).
    minutes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (component, span, start_ms)
);
-- Pruning deletes by span and age.
CREATE INDEX check_rollups_span_start ON check_rollups (span, start_ms);

-- Scheduled maintenance windows; cancelled ones are kept for the record.
CREATE TABLE maintenance (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    starts_ms BIGINT NOT NULL,
    ends_ms BIGINT NOT NULL,
    components_json TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    cancelled SMALLINT NOT NULL DEFAULT 0
);
CREATE INDEX maintenance_ends ON maintenance (ends_ms);

-- Incidents and their timelines.
CREATE TABLE incidents (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    impact TEXT NOT NULL,
    components_json TEXT NOT NULL,
    status TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    resolved_ms BIGINT
);
CREATE INDEX incidents_resolved ON incidents (resolved_ms, id);

CREATE TABLE incident_updates (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    at_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, id);

-- Admin sessions, by the SHA-256 of the cookie's id.
CREATE TABLE admin_sessions (
    id_sha256 TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);

-- Failed admin logins per client address, shared by every instance.
CREATE TABLE login_failures (
    client TEXT PRIMARY KEY,
    window_start_ms BIGINT NOT NULL,
    failures INTEGER NOT NULL
);
