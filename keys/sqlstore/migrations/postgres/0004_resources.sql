-- Version 4 for PostgreSQL: each key's restriction to particular records
-- (keys.Key.Resources), and the restrictions before and after a change in
-- the events table. NULL: no restriction (every existing key, every older
-- event).
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS resources TEXT;          -- JSON: resource to sorted record ids
ALTER TABLE keycap_events ADD COLUMN IF NOT EXISTS before_resources TEXT; -- JSON, as resources
ALTER TABLE keycap_events ADD COLUMN IF NOT EXISTS after_resources TEXT;  -- JSON, as resources
