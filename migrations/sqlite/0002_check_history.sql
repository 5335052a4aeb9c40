-- Check results: raw for a bounded window, and rolled up per minute, hour and day as they
-- arrive (see src/server/store.rs for the retention of each).
CREATE TABLE check_results (
    component TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    level INTEGER NOT NULL,
    latency_ms INTEGER
);
CREATE INDEX check_results_at ON check_results (at_ms);
CREATE INDEX check_results_component_at ON check_results (component, at_ms);

CREATE TABLE check_rollups (
    component TEXT NOT NULL,
    span TEXT NOT NULL CHECK (span IN ('minute', 'hour', 'day')),
    start_ms INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    operational INTEGER NOT NULL,
    worst_level INTEGER NOT NULL,
    latency_sum INTEGER NOT NULL,
    latency_count INTEGER NOT NULL,
    latency_max INTEGER NOT NULL,
    PRIMARY KEY (component, span, start_ms)
) WITHOUT ROWID;
