-- Notifications (src/server/notify/): the outbox. An event is written in the same transaction
-- as the change that causes it (an incident's update; a component's level, below); the
-- sender expands it into one delivery per target and delivers those with retries.
CREATE TABLE notify_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- component.changed | component.reminder | incident.opened | incident.updated | incident.resolved
    kind TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    component TEXT,
    old_level TEXT,
    new_level TEXT,
    incident_id INTEGER,
    status TEXT,
    message TEXT,
    -- Only for this target (a reminder); NULL: every target that wants it.
    target TEXT,
    -- Whether its deliveries have been written.
    expanded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notify_events_unexpanded ON notify_events (id) WHERE expanded = 0;

-- The level of each component as last notified, and since when: the cause of a
-- component event is a change of this row, written in the event's transaction.
CREATE TABLE notify_levels (
    component TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    since_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- The newest snapshot version whose levels were noted (an older one is not noted again).
CREATE TABLE notify_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO notify_cursor (id, version) VALUES (1, 0);

-- Viewers' subscriptions: by email (confirmed by a link first) or by webhook.
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    -- Component ids; [] for all.
    components_json TEXT NOT NULL,
    -- The secret of its confirmation and unsubscribe links.
    token TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    confirmed_ms INTEGER,
    -- When its last confirmation mail was queued.
    asked_ms INTEGER NOT NULL,
    UNIQUE (channel, address)
);

-- One message to one target: a [[notify]] entry ('notify:<name>') or a subscriber
-- ('subscriber:<id>'). event_id NULL: a subscriber's confirmation mail.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER REFERENCES notify_events (id),
    target TEXT NOT NULL,
    subscriber_id INTEGER,
    component TEXT,
    -- pending | sent | failed
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL,
    -- Claimed by an instance until then (NULL: not claimed).
    lease_ms INTEGER,
    claimed_by TEXT,
    last_error TEXT,
    created_ms INTEGER NOT NULL,
    done_ms INTEGER,
    UNIQUE (event_id, target)
);
CREATE INDEX deliveries_due ON deliveries (next_ms) WHERE state = 'pending';
CREATE INDEX deliveries_log ON deliveries (created_ms);
CREATE INDEX deliveries_by_target ON deliveries (target, component, created_ms);
