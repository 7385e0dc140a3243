-- Version 9 for MySQL 8 and MariaDB 10.5+: the key's quota before and after
-- an update that changed it (audit.Event.BeforeQuota, AfterQuota) in the
-- events table. A JSON object {"remaining": n, "refill_amount": n,
-- "refill_interval_ms": n}; NULL: none (the key had or has no quota, the
-- quota did not change, every older event).
-- MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB has): Store.Migrate skips
-- an ADD COLUMN whose column exists; another tool must apply this file once.
ALTER TABLE keycap_events ADD COLUMN before_quota TEXT NULL; -- JSON, as above
ALTER TABLE keycap_events ADD COLUMN after_quota TEXT NULL;  -- JSON, as above
