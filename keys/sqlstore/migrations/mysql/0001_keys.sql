-- Key records for MySQL 8 and MariaDB 10.5+. Times are DATETIME(3) holding
-- UTC with millisecond precision, NULL when unset; hash and previous_hash are
-- 32-byte HMAC-SHA256 digests; permissions is a JSON object (resource to
-- sorted actions). id and owner_id are VARBINARY so they compare byte-wise
-- (no case folding, no trailing-space padding), which owner isolation and the
-- keyset pagination on id rely on. Indexes are declared inline because MySQL
-- has no CREATE INDEX IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS keycap_keys (
    id                  VARBINARY(16)  NOT NULL, -- 16 lower-case base32 characters, time-ordered
    owner_id            VARBINARY(255) NOT NULL,
    name                VARCHAR(255)   NOT NULL,
    prefix              VARCHAR(16)    NOT NULL,
    hint                VARCHAR(255)   NOT NULL,
    hash                VARBINARY(32)  NOT NULL,
    permissions         MEDIUMTEXT     NOT NULL,
    created_at          DATETIME(3)    NULL,
    updated_at          DATETIME(3)    NULL,
    expires_at          DATETIME(3)    NULL,     -- NULL: never
    created_by          VARCHAR(255)   NOT NULL,
    parent_id           VARBINARY(16)  NOT NULL, -- the key that created this one; '' for none
    previous_hash       VARBINARY(32)  NULL,     -- NULL: no rotation grace
    previous_expires_at DATETIME(3)    NULL,
    last_used_at        DATETIME(3)    NULL,
    last_used_ip        VARCHAR(64)    NOT NULL,
    revoked_at          DATETIME(3)    NULL,     -- NULL: not revoked
    revoked_by          VARCHAR(255)   NOT NULL,
    revoked_reason      TEXT           NOT NULL,
    disabled            BOOLEAN        NOT NULL,
    disabled_by         VARCHAR(255)   NOT NULL, -- who disabled it; '' when enabled
    remaining           BIGINT         NULL,     -- NULL: no quota
    refill_amount       BIGINT         NOT NULL,
    refill_interval_ms  BIGINT         NOT NULL, -- 0: no refill
    last_refill_at      DATETIME(3)    NULL,
    PRIMARY KEY (id),
    UNIQUE KEY keycap_keys_hash (hash),
    -- List: WHERE owner_id = ? AND id < ? ORDER BY id DESC LIMIT n
    KEY keycap_keys_owner_id_id (owner_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
