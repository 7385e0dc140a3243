-- Version 7 for MySQL 8 and MariaDB 10.5+: who last changed each key, its
-- kind and its metadata. Existing rows were never changed by a recorded
-- actor, are of the default kind ('') and carry no metadata.
-- MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB has): Store.Migrate skips
-- an ADD COLUMN whose column exists; another tool must apply this file once.
ALTER TABLE keycap_keys ADD COLUMN changed_by VARCHAR(255) NOT NULL DEFAULT '';                     -- "kind:id" of who made the last change; '': none recorded
ALTER TABLE keycap_keys ADD COLUMN kind VARCHAR(32) CHARACTER SET ascii NOT NULL DEFAULT '';        -- a name of keys.Config.Kinds; '': the default kind
ALTER TABLE keycap_keys ADD COLUMN metadata VARCHAR(4096) CHARACTER SET utf8mb4 NOT NULL DEFAULT ''; -- compact JSON object, at most 4 KiB; '': none
