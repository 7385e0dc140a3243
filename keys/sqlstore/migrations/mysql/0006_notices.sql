-- Version 6 for MySQL 8 and MariaDB 10.5+: when a key was disabled, the
-- claims of the notices keys/notify sends (each notice once, across
-- instances), and the indexes that find due notices. Times are DATETIME(3)
-- holding UTC. MySQL has no ADD COLUMN IF NOT EXISTS nor CREATE INDEX IF NOT
-- EXISTS: Store.Migrate skips an ADD COLUMN or a CREATE INDEX whose column or
-- index exists; another tool must apply this file once.
ALTER TABLE keycap_keys ADD COLUMN disabled_at DATETIME(3) NULL; -- when the key was last turned off; NULL when enabled

-- One row per notice: a key, a type (expiring, expired, stale, revoked,
-- disabled, or unused: the staleness policy's disable), a lead (expiring
-- only; else 0) and the moment it is about. A Scheduler inserts the row to
-- claim the notice, and sets sent_at once it is delivered; an unsent claim
-- older than the Scheduler's lease may be taken over.
CREATE TABLE IF NOT EXISTS keycap_notices (
    key_id     VARBINARY(16)  NOT NULL,
    type       VARCHAR(16)    NOT NULL,
    lead_ms    BIGINT         NOT NULL,
    event_at   DATETIME(3)    NOT NULL, -- the expiry, last use, revocation or disable the notice is about
    owner_id   VARBINARY(255) NOT NULL,
    claim      VARCHAR(64)    NOT NULL, -- the claiming run's token
    claimed_at DATETIME(3)    NOT NULL,
    sent_at    DATETIME(3)    NULL,     -- NULL: claimed, not sent
    PRIMARY KEY (key_id, type, lead_ms, event_at),
    -- Notices: WHERE owner_id = ? ORDER BY sent_at DESC; Prune: WHERE claimed_at < ?
    KEY keycap_notices_owner_id_sent_at (owner_id, sent_at),
    KEY keycap_notices_claimed_at (claimed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Due notices, one range each: expiring and expired keys, revocations,
-- disables, and keys not used since (disabled, revoked_at, last_used_at,
-- created_at: a live key's last use, or its creation when never used).
CREATE INDEX keycap_keys_expires_at ON keycap_keys (expires_at);
CREATE INDEX keycap_keys_revoked_at ON keycap_keys (revoked_at);
CREATE INDEX keycap_keys_disabled_at ON keycap_keys (disabled_at);
CREATE INDEX keycap_keys_last_use ON keycap_keys (disabled, revoked_at, last_used_at, created_at);
