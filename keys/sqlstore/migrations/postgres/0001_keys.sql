-- Key records for PostgreSQL. Times are UTC with millisecond precision and
-- NULL when unset; hash and previous_hash are 32-byte HMAC-SHA256 digests;
-- permissions is a JSON object (resource to sorted actions). id and owner_id
-- use the "C" collation so they compare byte-wise, which the keyset
-- pagination on id relies on.
CREATE TABLE IF NOT EXISTS keycap_keys (
    id                  TEXT COLLATE "C" PRIMARY KEY, -- 16 lower-case base32 characters, time-ordered
    owner_id            TEXT COLLATE "C" NOT NULL,
    name                TEXT           NOT NULL,
    prefix              TEXT           NOT NULL,
    hint                TEXT           NOT NULL,
    hash                BYTEA          NOT NULL UNIQUE,
    permissions         TEXT           NOT NULL,
    created_at          TIMESTAMPTZ(3),
    updated_at          TIMESTAMPTZ(3),
    expires_at          TIMESTAMPTZ(3),          -- NULL: never
    created_by          TEXT           NOT NULL,
    parent_id           TEXT COLLATE "C" NOT NULL, -- the key that created this one; '' for none
    previous_hash       BYTEA,                   -- NULL: no rotation grace
    previous_expires_at TIMESTAMPTZ(3),
    last_used_at        TIMESTAMPTZ(3),
    last_used_ip        TEXT           NOT NULL,
    revoked_at          TIMESTAMPTZ(3),          -- NULL: not revoked
    revoked_by          TEXT           NOT NULL,
    revoked_reason      TEXT           NOT NULL,
    disabled            BOOLEAN        NOT NULL,
    disabled_by         TEXT           NOT NULL, -- who disabled it; '' when enabled
    remaining           BIGINT,                  -- NULL: no quota
    refill_amount       BIGINT         NOT NULL,
    refill_interval_ms  BIGINT         NOT NULL, -- 0: no refill
    last_refill_at      TIMESTAMPTZ(3)
);

-- List: WHERE owner_id = $1 AND id < $2 ORDER BY id DESC LIMIT n
CREATE INDEX IF NOT EXISTS keycap_keys_owner_id_id ON keycap_keys (owner_id, id);
