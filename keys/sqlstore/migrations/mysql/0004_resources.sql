-- Version 4 for MySQL 8 and MariaDB 10.5+: each key's restriction to
-- particular records (keys.Key.Resources), and the restrictions before and
-- after a change in the events table. NULL: no restriction (every existing
-- key, every older event).
-- MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB has): Store.Migrate skips
-- an ADD COLUMN whose column exists; another tool must apply this file once.
ALTER TABLE keycap_keys ADD COLUMN resources TEXT NULL;          -- JSON: resource to sorted record ids
ALTER TABLE keycap_events ADD COLUMN before_resources TEXT NULL; -- JSON, as resources
ALTER TABLE keycap_events ADD COLUMN after_resources TEXT NULL;  -- JSON, as resources
