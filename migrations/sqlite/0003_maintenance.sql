-- Scheduled maintenance windows: during [starts_ms, ends_ms) the listed components are
-- under_maintenance. Cancelled windows are kept for the record.
CREATE TABLE maintenance (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    starts_ms INTEGER NOT NULL,
    ends_ms INTEGER NOT NULL,
    components_json TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX maintenance_ends ON maintenance (ends_ms);
