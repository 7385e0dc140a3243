-- Version 5 for SQLite: each key's IP allow-list, and the id of the server
-- secret that hashed it. Existing rows were hashed under the one secret
-- keycap had, whose id is "1", and may be used from anywhere.
-- SQLite has no ADD COLUMN IF NOT EXISTS: Store.Migrate skips an ADD COLUMN
-- whose column exists; another tool must apply this file once.
ALTER TABLE keycap_keys ADD COLUMN secret_id TEXT NOT NULL DEFAULT '1';   -- keys.Config.SecretID or a key of OldSecrets
ALTER TABLE keycap_keys ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';  -- ranges in canonical form, separated by spaces; '': anywhere
