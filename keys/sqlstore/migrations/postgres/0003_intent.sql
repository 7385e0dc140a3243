-- Version 3 for PostgreSQL: the columns of a Store asked for intent
-- (keys.Change) and typed actors. Existing rows get version 1, generation 0
-- and their chain of parents as their ancestors. Store.Migrate applies the file in one transaction with its
-- record, so the rewrite of actors runs once.
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 1;           -- counts changes; 1 when created
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS generation BIGINT NOT NULL DEFAULT 0;        -- counts rotations
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS ancestors TEXT COLLATE "C" NOT NULL DEFAULT ''; -- space-separated ids, root first, parent last
ALTER TABLE keycap_keys ADD COLUMN IF NOT EXISTS parent_generation BIGINT NOT NULL DEFAULT 0; -- the parent's generation that created the key

UPDATE keycap_keys SET ancestors = parent_id WHERE ancestors = '' AND parent_id <> '';

-- Then the whole chain, one level per statement, to the root: each
-- statement prepends the parent of the first ancestor it has. Seven more
-- levels reach the deepest chain a key may have (keys.MaxDelegationDepth);
-- once a chain reaches its root a statement leaves it alone.
UPDATE keycap_keys c SET ancestors = p.parent_id || ' ' || c.ancestors FROM keycap_keys p WHERE p.id = substr(c.ancestors, 1, 16) AND p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c SET ancestors = p.parent_id || ' ' || c.ancestors FROM keycap_keys p WHERE p.id = substr(c.ancestors, 1, 16) AND p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c SET ancestors = p.parent_id || ' ' || c.ancestors FROM keycap_keys p WHERE p.id = substr(c.ancestors, 1, 16) AND p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c SET ancestors = p.parent_id || ' ' || c.ancestors FROM keycap_keys p WHERE p.id = substr(c.ancestors, 1, 16) AND p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c SET ancestors = p.parent_id || ' ' || c.ancestors FROM keycap_keys p WHERE p.id = substr(c.ancestors, 1, 16) AND p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c SET ancestors = p.parent_id || ' ' || c.ancestors FROM keycap_keys p WHERE p.id = substr(c.ancestors, 1, 16) AND p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c SET ancestors = p.parent_id || ' ' || c.ancestors FROM keycap_keys p WHERE p.id = substr(c.ancestors, 1, 16) AND p.parent_id <> '' AND c.ancestors <> '';

-- Actors become "kind:id": a user id "alice" is "user:alice"; "key:<id>" is
-- already the typed form of a key.
UPDATE keycap_keys SET created_by = 'user:' || created_by WHERE created_by <> '' AND left(created_by, 4) <> 'key:';
UPDATE keycap_keys SET revoked_by = 'user:' || revoked_by WHERE revoked_by <> '' AND left(revoked_by, 4) <> 'key:';
UPDATE keycap_keys SET disabled_by = 'user:' || disabled_by WHERE disabled_by <> '' AND left(disabled_by, 4) <> 'key:';
UPDATE keycap_events SET actor = 'user:' || actor WHERE actor <> '' AND left(actor, 4) <> 'key:';
