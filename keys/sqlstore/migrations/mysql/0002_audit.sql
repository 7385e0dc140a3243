-- Audit events for MySQL 8 and MariaDB 10.5+, written and listed by
-- sqlstore's Auditor. time is DATETIME(3) holding UTC with millisecond
-- precision; before_permissions and after_permissions are JSON objects
-- (resource to sorted actions), NULL when the event has none. An event never
-- holds a key or its hash. id grows with every insert, so it orders events
-- newest first; owner_id and key_id are VARBINARY like the keys table. The
-- index is declared inline because MySQL has no CREATE INDEX IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS keycap_events (
    id                 BIGINT         NOT NULL AUTO_INCREMENT,
    type               VARCHAR(32)    NOT NULL, -- created, updated, rotated, revoked, ...
    time               DATETIME(3)    NOT NULL,
    actor              VARCHAR(255)   NOT NULL, -- a user id, "key:<id>", or ''
    owner_id           VARBINARY(255) NOT NULL,
    key_id             VARBINARY(64)  NOT NULL, -- '' when unknown
    before_permissions MEDIUMTEXT     NULL,
    after_permissions  MEDIUMTEXT     NULL,
    reason             TEXT           NOT NULL,
    ip                 VARCHAR(64)    NOT NULL,
    PRIMARY KEY (id),
    -- Events: WHERE owner_id = ? ORDER BY id DESC LIMIT n
    KEY keycap_events_owner_id_id (owner_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
