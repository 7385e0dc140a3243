// Package rediscache is a shared, coherent cache of key records in Redis,
// for several app instances that share one database: wrap the SQL store
// with it and turn the Manager's in-process cache off.
//
//	store, err := rediscache.New(sqlStore, rdb, rediscache.Options{Secret: secret})
//	mgr, err := keys.NewManager(keys.Config{Store: store, Secret: secret, Cache: keys.CacheConfig{Disabled: true}, ...})
//
// A verification then costs one Redis round trip on a hit and a database
// query on a miss. Every change made through any instance (revoke, update,
// rotate, disable) drops the record from Redis, is written to the database,
// and drops it again before the change is acknowledged, so the very next
// request on every instance sees it. A per-key version token closes the
// race in which an instance reading the old record from the database would
// put it back after the drop: a fill caches its record only if no drop
// happened since it read the token, and every drop writes a fresh one.
//
// While Redis is unreachable, verification reads the database, so it stays
// correct; changes to keys are refused with [keys.ErrStoreUnavailable] and
// nothing is written, since Redis could not be told to forget the old record
// and would serve it to other instances once it is back.
//
// # Sealed records
//
// Whoever can write to Redis must not be able to re-point a key to another
// owner or grant it permissions, so cached records are sealed: a compact
// binary encoding of the record, an expiry, and an HMAC-SHA256 tag over
// both and the Redis key, under a key derived from the server secret
// ([Options].Secret). A record whose tag does not verify, in constant time,
// is a miss: the wrapped Store is read, the record cached again, and the
// refusal logged (once per key id per minute). A sealed record copied
// under another id's Redis key does not verify either.
//
// What a seal cannot stop is replay: a party that saved a sealed record
// can write it back, under the same key, after a change, until its sealed
// expiry, at most [Options].TTL after it was cached. Such a party can undo
// a revocation for that long: keep the TTL short if Redis is less trusted
// than the database. Sealing does not hide records: whoever reads Redis
// reads them, keys' hashes included (keyed hashes, of no use without the
// server secret).
package rediscache
