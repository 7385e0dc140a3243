-- Version 5 for PostgreSQL: each key's IP allow-list, and the id of the
-- server secret that hashed it. Existing rows were hashed under the one
-- secret keycap had, whose id is "1", and may be used from anywhere.
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS secret_id TEXT COLLATE "C" NOT NULL DEFAULT '1'; -- keys.Config.SecretID or a key of OldSecrets
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS allowed_ips TEXT NOT NULL DEFAULT '';           -- ranges in canonical form, separated by spaces; '': anywhere
