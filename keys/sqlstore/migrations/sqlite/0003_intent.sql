-- Version 3 for SQLite: the columns of a Store asked for intent (keys.Change)
-- and typed actors. Existing rows get version 1, generation 0 and their
-- chain of parents as their ancestors.
-- SQLite has no ADD COLUMN IF NOT EXISTS: Store.Migrate skips an ADD COLUMN
-- whose column exists; another tool must apply this file once. The rewrite
-- of actors runs once: Migrate records the version in the same transaction.
ALTER TABLE keycap_keys ADD COLUMN version INTEGER NOT NULL DEFAULT 1;           -- counts changes; 1 when created
ALTER TABLE keycap_keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;        -- counts rotations
ALTER TABLE keycap_keys ADD COLUMN ancestors TEXT NOT NULL DEFAULT '';           -- space-separated ids, root first, parent last
ALTER TABLE keycap_keys ADD COLUMN parent_generation INTEGER NOT NULL DEFAULT 0; -- the parent's generation that created the key

UPDATE keycap_keys SET ancestors = parent_id WHERE ancestors = '' AND parent_id <> '';

-- Then the whole chain, one level per statement, to the root: each
-- statement prepends the parent of the first ancestor it has. Seven more
-- levels reach the deepest chain a key may have (keys.MaxDelegationDepth);
-- once a chain reaches its root a statement leaves it alone.
UPDATE keycap_keys SET ancestors = (SELECT p.parent_id FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16)) || ' ' || ancestors WHERE ancestors <> '' AND EXISTS (SELECT 1 FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16) AND p.parent_id <> '');
UPDATE keycap_keys SET ancestors = (SELECT p.parent_id FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16)) || ' ' || ancestors WHERE ancestors <> '' AND EXISTS (SELECT 1 FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16) AND p.parent_id <> '');
UPDATE keycap_keys SET ancestors = (SELECT p.parent_id FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16)) || ' ' || ancestors WHERE ancestors <> '' AND EXISTS (SELECT 1 FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16) AND p.parent_id <> '');
UPDATE keycap_keys SET ancestors = (SELECT p.parent_id FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16)) || ' ' || ancestors WHERE ancestors <> '' AND EXISTS (SELECT 1 FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16) AND p.parent_id <> '');
UPDATE keycap_keys SET ancestors = (SELECT p.parent_id FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16)) || ' ' || ancestors WHERE ancestors <> '' AND EXISTS (SELECT 1 FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16) AND p.parent_id <> '');
UPDATE keycap_keys SET ancestors = (SELECT p.parent_id FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16)) || ' ' || ancestors WHERE ancestors <> '' AND EXISTS (SELECT 1 FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16) AND p.parent_id <> '');
UPDATE keycap_keys SET ancestors = (SELECT p.parent_id FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16)) || ' ' || ancestors WHERE ancestors <> '' AND EXISTS (SELECT 1 FROM keycap_keys p WHERE p.id = substr(keycap_keys.ancestors, 1, 16) AND p.parent_id <> '');

-- Actors become "kind:id": a user id "alice" is "user:alice"; "key:<id>" is
-- already the typed form of a key.
UPDATE keycap_keys SET created_by = 'user:' || created_by WHERE created_by <> '' AND substr(created_by, 1, 4) <> 'key:';
UPDATE keycap_keys SET revoked_by = 'user:' || revoked_by WHERE revoked_by <> '' AND substr(revoked_by, 1, 4) <> 'key:';
UPDATE keycap_keys SET disabled_by = 'user:' || disabled_by WHERE disabled_by <> '' AND substr(disabled_by, 1, 4) <> 'key:';
UPDATE keycap_events SET actor = 'user:' || actor WHERE actor <> '' AND substr(actor, 1, 4) <> 'key:';
