-- Version 9 for PostgreSQL: the key's quota before and after an update that
-- changed it (audit.Event.BeforeQuota, AfterQuota) in the events table. A
-- JSON object {"remaining": n, "refill_amount": n, "refill_interval_ms": n};
-- NULL: none (the key had or has no quota, the quota did not change, every
-- older event).
ALTER TABLE keycap_events ADD COLUMN IF NOT EXISTS before_quota TEXT; -- JSON, as above
ALTER TABLE keycap_events ADD COLUMN IF NOT EXISTS after_quota TEXT;  -- JSON, as above
