package rediscache

// RecordKey is the Redis key id's record is cached under, for tests that
// tamper with it.
func (s *Store) RecordKey(id string) string { return s.recordKey(id) }
