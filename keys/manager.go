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

// Manager creates, verifies and manages keys. Create one with [NewManager];
// it is safe for concurrent use. Call [Manager.Close] to flush last-used
// bookkeeping before the process exits.
type Manager struct {
	store    Store
	policy   *policy.Policy
	subjects policy.Subjects
	hasher   *hasher  // the newest secret's: secrets.newest
	secrets  *keyring // every configured secret's, by id
	prefix   string
	kinds    kinds        // by name ("" the default, of prefix) and by prefix
	cache    *recordCache // nil: off
	usage    *usageRecorder
	rehashes *rehasher // keys on an older secret, moving to the newest
	maxGrace time.Duration
	quota    Quota
	auditor  audit.Auditor  // nil: none
	observer audit.Observer // nil: none
	denials  denials
	logger   *slog.Logger
	now      func() time.Time
	coarse   bool // Config.Now is nil: cache hits may read the coarse clock
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
		if c.Quota.Remaining < 1 || c.Quota.RefillAmount < 0 || c.Quota.RefillInterval < 0 || (c.Quota.RefillAmount > 0) != (c.Quota.RefillInterval > 0) ||
			!wholeSeconds(c.Quota.RefillInterval) {
			return nil, errors.New("keys: Config.Quota needs Remaining >= 1, and RefillAmount and RefillInterval both set (RefillInterval a whole number of seconds) or both zero")
		}
	}
	secrets, err := newKeyring(c)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		store:    c.Store,
		policy:   c.Policy,
		subjects: c.Subjects,
		hasher:   secrets.newest,
		secrets:  secrets,
		prefix:   cmp.Or(c.Prefix, defaultPrefix),
		maxGrace: cmp.Or(c.MaxRotationGrace, 24*time.Hour),
		auditor:  c.Auditor,
		observer: c.Observer,
		quota:    c.Quota,
		logger:   cmp.Or(c.Logger, slog.Default()),
		now:      c.Now,
	}
	if m.kinds, err = newKinds(c, m.prefix); err != nil {
		return nil, err
	}
	if m.now == nil {
		m.now, m.coarse = time.Now, true
	}
	if cc := c.Cache; !cc.Disabled {
		if single := cc.SingleInstance; single || cc.MaxStale > 0 {
			size := cmp.Or(cc.Size, 10_000)
			maxAge := cc.MaxStale
			if single {
				maxAge = 0
			}
			m.cache = newRecordCache(size, maxAge)
		}
	}
	interval := cmp.Or(c.LastUsedInterval, time.Minute)
	if interval > 0 {
		m.usage = newUsageRecorder(c.Store, interval, m.now, m.logger)
	}
	// Denials and re-hashes are coalesced per interval, also with the
	// bookkeeping off.
	m.denials.interval = cmp.Or(max(interval, 0), time.Minute)
	m.rehashes = newRehasher(m, m.denials.interval)
	return m, nil
}

// Policy returns the policy the Manager grants through (Config.Policy).
func (m *Manager) Policy() *policy.Policy { return m.policy }

// Pattern returns a regular expression that matches this Manager's keys,
// of every kind ([Config].Kinds), and nothing else of their form, for
// secret scanners: register it, with app-specific prefixes, with GitHub's
// secret scanning and your own scanners. For the default prefix alone it
// is
//
//	\bkc_[0-9a-hjkmnp-tv-z]{16}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}\b
func (m *Manager) Pattern() *regexp.Regexp { return m.kinds.pattern() }

// Now returns the Manager's current time (Config.Now): the clock its
// decisions use (expiry, rotation grace, quota refills), so that tests can
// move one clock.
func (m *Manager) Now() time.Time { return m.now() }

// capOf returns what the subject with id may grant now, within extra
// bounds (such as a calling key's permissions): [policy.Policy.Cap] for the
// subject the Config's Subjects return. The result may be shared with the
// policy: do not modify it.
func (m *Manager) capOf(ctx context.Context, id string, bounds ...policy.Permissions) (policy.Permissions, error) {
	s, err := m.subjects.Subject(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.policy.Cap(ctx, s, bounds...)
}

// Subject returns the subject with id as the Config's Subjects say they
// are now: what a record guard asks the policy's [policy.Records] about
// for a logged-in user. Errors are the Subjects' (such as
// [policy.ErrUnknownSubject]).
func (m *Manager) Subject(ctx context.Context, id string) (policy.Subject, error) {
	return m.subjects.Subject(ctx, id)
}

// Close writes pending last-used bookkeeping and moves of keys to the
// newest server secret to the Store now, and returns the errors of those
// writes. The Manager stays usable, and later uses are recorded as
// before; Close may be called more than once.
func (m *Manager) Close() error {
	err := m.rehashes.flush(context.Background())
	if m.usage != nil {
		err = errors.Join(err, m.usage.flush(context.Background()))
	}
	return err
}

// forget drops id from the cache after a change made through m.
func (m *Manager) forget(id string) {
	if m.cache != nil {
		m.cache.drop(id)
	}
}
