-- Version 3 for MySQL 8 and MariaDB 10.5+: the columns of a Store asked for
-- intent (keys.Change), typed actors, and a lock row per owner that makes
-- the key limit exact. Existing rows get version 1, generation 0 and their
-- chain of parents as their ancestors.
-- MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB has): Store.Migrate skips
-- an ADD COLUMN whose column exists; another tool must apply this file once.
-- Schema statements come first: they commit at once. Migrate then runs the
-- updates in one transaction with its record, so the rewrite of actors runs
-- once.
ALTER TABLE keycap_keys ADD COLUMN version BIGINT NOT NULL DEFAULT 1;           -- counts changes; 1 when created
ALTER TABLE keycap_keys ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;        -- counts rotations
ALTER TABLE keycap_keys ADD COLUMN ancestors VARBINARY(1024) NOT NULL DEFAULT ''; -- space-separated ids, root first, parent last
ALTER TABLE keycap_keys ADD COLUMN parent_generation BIGINT NOT NULL DEFAULT 0; -- the parent's generation that created the key

-- Room for the typed form of a 255-byte id: "operator:" + id.
ALTER TABLE keycap_keys MODIFY COLUMN created_by VARCHAR(320) NOT NULL;
ALTER TABLE keycap_keys MODIFY COLUMN revoked_by VARCHAR(320) NOT NULL;
ALTER TABLE keycap_keys MODIFY COLUMN disabled_by VARCHAR(320) NOT NULL;
ALTER TABLE keycap_events MODIFY COLUMN actor VARCHAR(320) NOT NULL;

-- Create with a key limit locks the owner's row (SELECT ... FOR UPDATE), so
-- that creations for one owner count and insert one at a time.
CREATE TABLE IF NOT EXISTS keycap_key_owners (
    owner_id VARBINARY(255) NOT NULL,
    PRIMARY KEY (owner_id)
) ENGINE=InnoDB;

UPDATE keycap_keys SET ancestors = parent_id WHERE ancestors = '' AND parent_id <> '';

-- Then the whole chain, one level per statement, to the root: each
-- statement prepends the parent of the first ancestor it has. Seven more
-- levels reach the deepest chain a key may have (keys.MaxDelegationDepth);
-- once a chain reaches its root a statement leaves it alone.
UPDATE keycap_keys c JOIN keycap_keys p ON p.id = SUBSTRING(c.ancestors, 1, 16) SET c.ancestors = CONCAT(p.parent_id, ' ', c.ancestors) WHERE p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c JOIN keycap_keys p ON p.id = SUBSTRING(c.ancestors, 1, 16) SET c.ancestors = CONCAT(p.parent_id, ' ', c.ancestors) WHERE p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c JOIN keycap_keys p ON p.id = SUBSTRING(c.ancestors, 1, 16) SET c.ancestors = CONCAT(p.parent_id, ' ', c.ancestors) WHERE p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c JOIN keycap_keys p ON p.id = SUBSTRING(c.ancestors, 1, 16) SET c.ancestors = CONCAT(p.parent_id, ' ', c.ancestors) WHERE p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c JOIN keycap_keys p ON p.id = SUBSTRING(c.ancestors, 1, 16) SET c.ancestors = CONCAT(p.parent_id, ' ', c.ancestors) WHERE p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c JOIN keycap_keys p ON p.id = SUBSTRING(c.ancestors, 1, 16) SET c.ancestors = CONCAT(p.parent_id, ' ', c.ancestors) WHERE p.parent_id <> '' AND c.ancestors <> '';
UPDATE keycap_keys c JOIN keycap_keys p ON p.id = SUBSTRING(c.ancestors, 1, 16) SET c.ancestors = CONCAT(p.parent_id, ' ', c.ancestors) WHERE p.parent_id <> '' AND c.ancestors <> '';

-- Actors become "kind:id": a user id "alice" is "user:alice"; "key:<id>" is
-- already the typed form of a key (compared byte-wise, as keycap did).
UPDATE keycap_keys SET created_by = CONCAT('user:', created_by) WHERE created_by <> '' AND CAST(LEFT(created_by, 4) AS BINARY) <> 'key:';
UPDATE keycap_keys SET revoked_by = CONCAT('user:', revoked_by) WHERE revoked_by <> '' AND CAST(LEFT(revoked_by, 4) AS BINARY) <> 'key:';
UPDATE keycap_keys SET disabled_by = CONCAT('user:', disabled_by) WHERE disabled_by <> '' AND CAST(LEFT(disabled_by, 4) AS BINARY) <> 'key:';
UPDATE keycap_events SET actor = CONCAT('user:', actor) WHERE actor <> '' AND CAST(LEFT(actor, 4) AS BINARY) <> 'key:';
