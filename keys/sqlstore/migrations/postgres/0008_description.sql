-- Version 8 for PostgreSQL: each key's description (keys.Key.Description),
-- and the description before and after a change in the events table.
-- Existing keys and events have none ('').
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS description TEXT NOT NULL DEFAULT '';          -- at most 500 characters; '': none
ALTER TABLE keycap_events ADD COLUMN IF NOT EXISTS before_description TEXT NOT NULL DEFAULT ''; -- for an update that changed it
ALTER TABLE keycap_events ADD COLUMN IF NOT EXISTS after_description TEXT NOT NULL DEFAULT '';  -- for that update, and a creation
