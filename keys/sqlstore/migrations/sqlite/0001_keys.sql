-- Key records for SQLite. Times are Unix milliseconds (UTC) and NULL when
-- unset; hash and previous_hash are 32-byte HMAC-SHA256 digests; permissions
-- is a JSON object (resource to sorted actions). TEXT compares byte-wise
-- (BINARY collation), which the keyset pagination on id relies on.
CREATE TABLE IF NOT EXISTS keycap_keys (
    id                  TEXT    NOT NULL PRIMARY KEY, -- 16 lower-case base32 characters, time-ordered
    owner_id            TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    prefix              TEXT    NOT NULL,
    hint                TEXT    NOT NULL,
    hash                BLOB    NOT NULL UNIQUE,
    permissions         TEXT    NOT NULL,
    created_at          INTEGER,
    updated_at          INTEGER,
    expires_at          INTEGER,              -- NULL: never
    created_by          TEXT    NOT NULL,
    parent_id           TEXT    NOT NULL, -- the key that created this one; '' for none
    previous_hash       BLOB,                 -- NULL: no rotation grace
    previous_expires_at INTEGER,
    last_used_at        INTEGER,
    last_used_ip        TEXT    NOT NULL,
    revoked_at          INTEGER,              -- NULL: not revoked
    revoked_by          TEXT    NOT NULL,
    revoked_reason      TEXT    NOT NULL,
    disabled            INTEGER NOT NULL,     -- 0 or 1
    disabled_by         TEXT    NOT NULL,     -- who disabled it; '' when enabled
    remaining           INTEGER,              -- NULL: no quota
    refill_amount       INTEGER NOT NULL,
    refill_interval_ms  INTEGER NOT NULL,     -- 0: no refill
    last_refill_at      INTEGER
);

-- List: WHERE owner_id = ? AND id < ? ORDER BY id DESC LIMIT n
CREATE INDEX IF NOT EXISTS keycap_keys_owner_id_id ON keycap_keys (owner_id, id);
