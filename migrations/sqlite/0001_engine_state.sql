-- The engine's durable state: the reserved snapshot version (a high-water mark above every
-- published version) and the operator override. One row.
CREATE TABLE engine_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    reserved_version INTEGER NOT NULL,
    override_json TEXT
);
