-- Version 8 for SQLite: each key's description (keys.Key.Description),
-- the description before and after a change in the events table, and an
-- index of events by time for Auditor.Prune. Existing keys and events have
-- none ('').
-- SQLite has no ADD COLUMN IF NOT EXISTS: Store.Migrate skips an ADD COLUMN
-- whose column exists; another tool must apply this file once.
ALTER TABLE keycap_keys ADD COLUMN description TEXT NOT NULL DEFAULT '';          -- at most 500 characters; '': none
ALTER TABLE keycap_events ADD COLUMN before_description TEXT NOT NULL DEFAULT ''; -- for an update that changed it
ALTER TABLE keycap_events ADD COLUMN after_description TEXT NOT NULL DEFAULT '';  -- for that update, and a creation

-- Auditor.Prune: DELETE ... WHERE time < ?, a range of this index rather
-- than a scan of every event.
CREATE INDEX IF NOT EXISTS keycap_events_time ON keycap_events (time);
