package keys

import (
	"log/slog"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// Config describes a [Manager]. Store, Policy, Subjects and Secret are
// required; zero values of the rest mean the documented defaults.
// [NewManager] copies what it needs: changing a Config afterwards has no
// effect on the Manager.
type Config struct {
	// Store keeps the key records; required. The Manager calls it from many
	// goroutines: it must be safe for concurrent use, as [Store] says.
	Store Store
	// Policy decides what keys may carry, at creation, on every change and
	// again at every verification; required.
	Policy *policy.Policy
	// Subjects tells who a key's owner is now (roles, disabled, gone); it is
	// asked at creation, on changes and at every verification, so it should
	// be fast. Required.
	Subjects policy.Subjects
	// Secret keys the HMAC of stored keys: at least 32 random bytes, kept
	// out of the database. It is the newest server secret: new keys are
	// hashed under it. To replace it without invalidating every key, give
	// the new one here under a new SecretID and move the old one to
	// OldSecrets (see the README's "Rotating the server secret").
	Secret []byte
	// SecretID names Secret in the records it hashes ([Key].SecretID): 1
	// to 32 letters, digits, '.', '_' or '-'; "" means "1".
	SecretID string
	// OldSecrets are the server secrets Secret replaced, by id, still
	// accepted: a key hashed under one of them works, and is hashed again
	// under Secret at its next successful use (one write, off the request
	// path). Removing one retires it: the keys still on it are refused like
	// a wrong key. [Manager.SecretCounts] tells beforehand how many that
	// would be. nil: none. Each at least 32 bytes, none equal to another or
	// to Secret.
	OldSecrets map[string][]byte
	// Prefix starts every key: 1 to 16 lower-case letters and digits,
	// starting with a letter; "" means "kc". Keys with another prefix are
	// refused as malformed, so changing it invalidates every key.
	Prefix string
	// Kinds are kinds of keys besides the default one (Prefix, Policy),
	// by name (1 to 32 lower-case letters, digits, '_' or '-'), such as
	// "live" and "test": each with its own prefix and bounds. nil: one kind.
	Kinds map[string]Kind
	// Cache configures the in-process cache of key records. The zero value
	// caches nothing: set SingleInstance or MaxStale to turn it on.
	Cache CacheConfig
	// LastUsedInterval coalesces last-used bookkeeping: at most one write
	// per key per interval, off the request path. 0 means one minute;
	// negative turns the bookkeeping off.
	LastUsedInterval time.Duration
	// MaxRotationGrace bounds how long a rotated key's old secret keeps
	// working. 0 means 24 hours.
	MaxRotationGrace time.Duration
	// Quota is the default quota of new keys; clients may ask for a
	// stricter one, never a looser one. The zero value: keys have no quota
	// unless their client asks for one.
	Quota Quota
	// Auditor receives an event for every change and refusal. nil: none.
	// Denied verifications are audited once per key and reason per
	// LastUsedInterval (a minute by default), so that a revoked key used in
	// a loop cannot turn every request into an audit write.
	Auditor audit.Auditor
	// Observer sees every verification: its outcome, the key's id and
	// owner and how long it took, never the key (metrics, tracing; see
	// audit/promaudit). nil: none.
	Observer audit.Observer
	// Logger receives what the Manager logs: failed last-used writes.
	// nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// CacheConfig configures the in-process cache of key records. Whatever it
// says, the owner's cap is re-checked at every verification, and changes
// made through this Manager drop the cached record at once.
type CacheConfig struct {
	// Disabled turns the cache off: every verification asks the Store.
	Disabled bool
	// Size bounds the number of cached records; 0 means 10,000.
	Size int
	// SingleInstance declares this Manager the only writer of its Store
	// (one process, such as a memstore or a SQLite file only this process
	// opens), so cached records need no other invalidation.
	SingleInstance bool
	// MaxStale, for a Store shared by several instances, lets a cached
	// record serve for this long after it was read: a key revoked through
	// another instance can be accepted here for up to MaxStale. 0, the
	// default, means no staleness: without SingleInstance the cache is off
	// (use a shared cache such as keys/rediscache instead).
	MaxStale time.Duration
}
