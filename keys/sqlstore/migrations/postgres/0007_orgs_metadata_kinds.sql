-- Version 7 for PostgreSQL: who last changed each key, its kind and its
-- metadata. Existing rows were never changed by a recorded actor, are of
-- the default kind ('') and carry no metadata.
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS changed_by TEXT NOT NULL DEFAULT ''; -- "kind:id" of who made the last change; '': none recorded
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS kind TEXT NOT NULL DEFAULT '';       -- a name of keys.Config.Kinds; '': the default kind
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS metadata TEXT NOT NULL DEFAULT '';   -- compact JSON object, at most 4 KiB; '': none
