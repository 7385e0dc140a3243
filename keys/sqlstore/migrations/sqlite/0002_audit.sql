-- Audit events for SQLite, written and listed by sqlstore's Auditor. time is
-- Unix milliseconds (UTC); before_permissions and after_permissions are JSON
-- objects (resource to sorted actions), NULL when the event has none. An
-- event never holds a key or its hash. id grows with every insert
-- (AUTOINCREMENT never reuses one), so it orders events newest first.
CREATE TABLE IF NOT EXISTS keycap_events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    type               TEXT    NOT NULL, -- created, updated, rotated, revoked, ...
    time               INTEGER NOT NULL,
    actor              TEXT    NOT NULL, -- a user id, "key:<id>", or ''
    owner_id           TEXT    NOT NULL,
    key_id             TEXT    NOT NULL, -- '' when unknown
    before_permissions TEXT,
    after_permissions  TEXT,
    reason             TEXT    NOT NULL,
    ip                 TEXT    NOT NULL
);

-- Events: WHERE owner_id = ? ORDER BY id DESC LIMIT n
CREATE INDEX IF NOT EXISTS keycap_events_owner_id_id ON keycap_events (owner_id, id);
