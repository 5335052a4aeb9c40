-- Incidents and their timelines. The incident row holds the current status and impact (those
-- of its latest update); resolved incidents keep resolved_ms and move to the history page.
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    impact TEXT NOT NULL,
    components_json TEXT NOT NULL,
    status TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    resolved_ms INTEGER
);
CREATE INDEX incidents_resolved ON incidents (resolved_ms);

CREATE TABLE incident_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, id);
