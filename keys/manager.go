package keys

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"regexp"
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
	// out of the database. Changing it invalidates every key.
	Secret []byte
	// Prefix starts every key: 1 to 16 lower-case letters and digits,
	// starting with a letter; "" means "kc". Keys with another prefix are
	// refused as malformed, so changing it invalidates every key.
	Prefix string
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

// Manager creates, verifies and manages keys. Create one with [NewManager];
// it is safe for concurrent use. Call [Manager.Close] to flush last-used
// bookkeeping before the process exits.
type Manager struct {
	store    Store
	policy   *policy.Policy
	subjects policy.Subjects
	hasher   *hasher
	prefix   string
	cache    *recordCache // nil: off
	usage    *usageRecorder
	maxGrace time.Duration
	quota    Quota
	auditor  audit.Auditor  // nil: none
	observer audit.Observer // nil: none
	denials  denials
	now      func() time.Time
}

// NewManager validates c and returns a Manager.
func NewManager(c Config) (*Manager, error) {
	switch {
	case c.Store == nil:
		return nil, errors.New("keys: Config.Store is required")
	case c.Policy == nil:
		return nil, errors.New("keys: Config.Policy is required")
	case c.Subjects == nil:
		return nil, errors.New("keys: Config.Subjects is required")
	case c.Prefix != "" && !validPrefix(c.Prefix):
		return nil, errors.New("keys: Config.Prefix must be 1 to 16 lower-case letters and digits, starting with a letter")
	case c.Cache.Size < 0 || c.Cache.MaxStale < 0 || c.MaxRotationGrace < 0:
		return nil, errors.New("keys: Cache.Size, Cache.MaxStale and MaxRotationGrace must not be negative")
	}
	if !c.Quota.isZero() {
		if c.Quota.Remaining < 1 || c.Quota.RefillAmount < 0 || c.Quota.RefillInterval < 0 || (c.Quota.RefillAmount > 0) != (c.Quota.RefillInterval > 0) {
			return nil, errors.New("keys: Config.Quota needs Remaining >= 1, and RefillAmount and RefillInterval both set or both zero")
		}
	}
	hasher, err := newHasher(c.Secret)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		store:    c.Store,
		policy:   c.Policy,
		subjects: c.Subjects,
		hasher:   hasher,
		prefix:   c.Prefix,
		maxGrace: c.MaxRotationGrace,
		auditor:  c.Auditor,
		observer: c.Observer,
		quota:    c.Quota,
		now:      c.Now,
	}
	if m.prefix == "" {
		m.prefix = defaultPrefix
	}
	if m.maxGrace == 0 {
		m.maxGrace = 24 * time.Hour
	}
	if m.now == nil {
		m.now = time.Now
	}
	if cc := c.Cache; !cc.Disabled {
		if single := cc.SingleInstance; single || cc.MaxStale > 0 {
			size := cc.Size
			if size == 0 {
				size = 10_000
			}
			maxAge := cc.MaxStale
			if single {
				maxAge = 0
			}
			m.cache = newRecordCache(size, maxAge)
		}
	}
	interval := c.LastUsedInterval
	if interval == 0 {
		interval = time.Minute
	}
	if interval > 0 {
		m.usage = newUsageRecorder(c.Store, interval, m.now, cmp.Or(c.Logger, slog.Default()))
	}
	// Denials are coalesced per interval, also with the bookkeeping off.
	m.denials.interval = cmp.Or(max(interval, 0), time.Minute)
	return m, nil
}

// Policy returns the policy the Manager grants through (Config.Policy).
func (m *Manager) Policy() *policy.Policy { return m.policy }

// Prefix returns the prefix of the keys this Manager creates and accepts
// (Config.Prefix, or "kc").
func (m *Manager) Prefix() string { return m.prefix }

// Pattern returns a regular expression that matches this Manager's keys
// and nothing else of their form, for secret scanners: register it, with
// an app-specific Prefix, with GitHub's secret scanning and your own
// scanners. For the default prefix it is
//
//	\bkc_[0-9a-hjkmnp-tv-z]{16}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}\b
func (m *Manager) Pattern() *regexp.Regexp { return pattern(m.prefix) }

// Now returns the Manager's current time (Config.Now): the clock its
// decisions use (expiry, rotation grace, quota refills), so that tests can
// move one clock.
func (m *Manager) Now() time.Time { return m.now() }

// Cap returns what the subject with id may grant now, within extra bounds
// (such as a calling key's permissions): [policy.Policy.Cap] for the
// subject the Config's Subjects return. The result may be shared with the
// policy: do not modify it. Errors are the Subjects' (such as
// [policy.ErrUnknownSubject]) and [policy.ErrSubjectDisabled].
func (m *Manager) Cap(ctx context.Context, id string, bounds ...policy.Permissions) (policy.Permissions, error) {
	s, err := m.subjects.Subject(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.policy.Cap(ctx, s, bounds...)
}

// Close writes pending last-used bookkeeping to the Store now, and returns
// the errors of those writes. The Manager stays usable, and later uses are
// recorded as before; Close may be called more than once.
func (m *Manager) Close() error {
	if m.usage != nil {
		return m.usage.flush(context.Background())
	}
	return nil
}

// forget drops id from the cache after a change made through m.
func (m *Manager) forget(id string) {
	if m.cache != nil {
		m.cache.drop(id)
	}
}
