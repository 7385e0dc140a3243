-- Version 4 for SQLite: each key's restriction to particular records
-- (keys.Key.Resources), and the restrictions before and after a change in
-- the events table. NULL: no restriction (every existing key, every older
-- event).
-- SQLite has no ADD COLUMN IF NOT EXISTS: Store.Migrate skips an ADD COLUMN
-- whose column exists; another tool must apply this file once.
ALTER TABLE keycap_keys ADD COLUMN resources TEXT;          -- JSON: resource to sorted record ids
ALTER TABLE keycap_events ADD COLUMN before_resources TEXT; -- JSON, as resources
ALTER TABLE keycap_events ADD COLUMN after_resources TEXT;  -- JSON, as resources
