-- Version 7 for SQLite: who last changed each key, its kind and its
-- metadata. Existing rows were never changed by a recorded actor, are of
-- the default kind ('') and carry no metadata.
-- SQLite has no ADD COLUMN IF NOT EXISTS: Store.Migrate skips an ADD COLUMN
-- whose column exists; another tool must apply this file once.
ALTER TABLE keycap_keys ADD COLUMN changed_by TEXT NOT NULL DEFAULT ''; -- "kind:id" of who made the last change; '': none recorded
ALTER TABLE keycap_keys ADD COLUMN kind TEXT NOT NULL DEFAULT '';       -- a name of keys.Config.Kinds; '': the default kind
ALTER TABLE keycap_keys ADD COLUMN metadata TEXT NOT NULL DEFAULT '';   -- compact JSON object, at most 4 KiB; '': none
