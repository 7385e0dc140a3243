package keys_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

const day = 24 * time.Hour

// testSecret keys the HMAC in tests, so digests can be recomputed.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// testPolicy lets clients choose within their roles; keys live 30 days by
// default, 90 at most, and 7 if they can delete.
var testPolicy = policy.MustNew(policy.Config{
	AllowClientPermissions: true,
	Roles: map[string]policy.Permissions{
		"admin":  policy.MustParse("files:read", "files:write", "files:delete", "invoices:read", "invoices:write"),
		"editor": policy.MustParse("files:read", "files:write"),
		"viewer": policy.MustParse("files:read"),
	},
	Default:         policy.MustParse("files:read"),
	DefaultLifetime: 30 * day,
	MaxLifetime:     90 * day,
	MaxLifetimeFor:  map[string]time.Duration{"*:delete": 7 * day},
})

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// directory is a user database the tests change between requests: a
// demotion or deletion must take effect at the next verification.
type directory struct {
	mu    sync.Mutex
	users map[string]policy.Subject
	calls int
	err   error // returned by every lookup when set
}

func newDirectory() *directory {
	return &directory{users: map[string]policy.Subject{
		"alice": {Roles: []string{"admin"}},
		"bob":   {Roles: []string{"editor"}},
		"carol": {Roles: []string{"viewer"}},
		"dave":  {Roles: []string{"admin"}, Disabled: true},
		"erin":  {}, // no role: may grant nothing
	}}
}

func (d *directory) lookup(_ context.Context, id string) (policy.Subject, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if d.err != nil {
		return policy.Subject{}, d.err
	}
	s, ok := d.users[id]
	if !ok {
		return policy.Subject{}, policy.ErrUnknownSubject
	}
	s.ID = id
	return s, nil
}

func (d *directory) set(id string, s policy.Subject) {
	d.mu.Lock()
	d.users[id] = s
	d.mu.Unlock()
}

func (d *directory) remove(id string) {
	d.mu.Lock()
	delete(d.users, id)
	d.mu.Unlock()
}

func (d *directory) lookups() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// countingStore wraps a Store and counts its calls, so tests can prove a
// refusal stored nothing and a verification wrote nothing. Embedding the
// interface hides memstore's Local method: the Manager's cache is on only
// where a test asks for it.
type countingStore struct {
	keys.Store
	mu       sync.Mutex
	calls    map[string]int
	lastPage keys.Page
	getErr   error           // returned by Get when set
	writeErr error           // returned by Create, Change, Consume, Touch and List when set
	afterGet func(id string) // called after the inner Get, outside the lock
}

func newCountingStore(inner keys.Store) *countingStore {
	return &countingStore{Store: inner, calls: map[string]int{}}
}

func (s *countingStore) Create(ctx context.Context, k *keys.Key, maxLive int) error {
	if err := s.fail("Create"); err != nil {
		return err
	}
	return s.Store.Create(ctx, k, maxLive)
}

func (s *countingStore) Get(ctx context.Context, id string) (*keys.Key, error) {
	s.mu.Lock()
	s.calls["Get"]++
	getErr, afterGet := s.getErr, s.afterGet
	s.mu.Unlock()
	if getErr != nil {
		return nil, getErr
	}
	k, err := s.Store.Get(ctx, id)
	if afterGet != nil {
		afterGet(id)
	}
	return k, err
}

func (s *countingStore) List(ctx context.Context, owner string, page keys.Page) ([]*keys.Key, error) {
	if err := s.fail("List"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.lastPage = page
	s.mu.Unlock()
	return s.Store.List(ctx, owner, page)
}

func (s *countingStore) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	if err := s.fail("Change"); err != nil {
		return nil, err
	}
	return s.Store.Change(ctx, id, c)
}

func (s *countingStore) Consume(ctx context.Context, ids []string, now time.Time) (int64, bool, error) {
	if err := s.fail("Consume"); err != nil {
		return 0, false, err
	}
	return s.Store.Consume(ctx, ids, now)
}

func (s *countingStore) Touch(ctx context.Context, id string, t time.Time, ip string) error {
	if err := s.fail("Touch"); err != nil {
		return err
	}
	return s.Store.Touch(ctx, id, t, ip)
}

// fail counts a call to method and returns writeErr.
func (s *countingStore) fail(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	return s.writeErr
}

// setWriteErr makes every write (and List) fail with err; nil heals.
func (s *countingStore) setWriteErr(err error) {
	s.mu.Lock()
	s.writeErr = err
	s.mu.Unlock()
}

// setAfterGet installs (or, with nil, removes) the hook run after each Get.
func (s *countingStore) setAfterGet(f func(id string)) {
	s.mu.Lock()
	s.afterGet = f
	s.mu.Unlock()
}

// snapshot returns a copy of the call counts.
func (s *countingStore) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

func (s *countingStore) n(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// writes counts the calls that may change the store.
func (s *countingStore) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls["Create"] + s.calls["Change"] + s.calls["Consume"] + s.calls["Touch"]
}

// auditLog records the events a Manager reports.
type auditLog struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *auditLog) auditor() audit.Auditor {
	return audit.Func(func(_ context.Context, e audit.Event) {
		a.mu.Lock()
		a.events = append(a.events, e)
		a.mu.Unlock()
	})
}

func (a *auditLog) all() []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Event(nil), a.events...)
}

func (a *auditLog) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.events)
}

func (a *auditLog) last(t *testing.T) audit.Event {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	require.NotEmpty(t, a.events, "no audit event")
	return a.events[len(a.events)-1]
}

// fixture is a Manager over a counting memstore with a fake clock.
type fixture struct {
	m      *keys.Manager
	config keys.Config
	mem    *memstore.Store
	store  *countingStore
	clock  *fakeClock
	users  *directory
	audit  *auditLog
}

func newFixture(t testing.TB, options ...func(*keys.Config)) *fixture {
	t.Helper()
	f := &fixture{mem: memstore.New(), clock: newFakeClock(), users: newDirectory(), audit: &auditLog{}}
	f.store = newCountingStore(f.mem)
	f.config = keys.Config{
		Store:    f.store,
		Policy:   testPolicy,
		Subjects: policy.SubjectsFunc(f.users.lookup),
		Secret:   testSecret,
		Auditor:  f.audit.auditor(),
		Now:      f.clock.Now,
	}
	for _, o := range options {
		o(&f.config)
	}
	m, err := keys.NewManager(f.config)
	require.NoError(t, err)
	f.m = m
	return f
}

// withPolicy returns another Manager on the same store, clock and users,
// as after a redeploy with a changed policy.
func (f *fixture) withPolicy(t testing.TB, p *policy.Policy) *keys.Manager {
	t.Helper()
	c := f.config
	c.Policy = p
	m, err := keys.NewManager(c)
	require.NoError(t, err)
	return m
}

func withCache(c *keys.Config) { c.Cache = keys.CacheConfig{SingleInstance: true} }

// create makes a key for owner with perms ("" for none named) and the
// policy's default lifetime.
func (f *fixture) create(t testing.TB, owner string, perms ...string) (*keys.Key, string) {
	t.Helper()
	req := keys.CreateRequest{Owner: owner, Name: "test key"}
	if len(perms) > 0 {
		req.Permissions = policy.MustParse(perms...)
	}
	k, token, err := f.m.Create(context.Background(), req)
	require.NoError(t, err)
	return k, token
}

// verified creates a key for owner and verifies it, for delegation.
func (f *fixture) verified(t testing.TB, owner string, lifetime time.Duration, perms ...string) *keys.Verified {
	t.Helper()
	req := keys.CreateRequest{Owner: owner, Name: "calling key", Permissions: policy.MustParse(perms...), Lifetime: lifetime}
	_, token, err := f.m.Create(context.Background(), req)
	require.NoError(t, err)
	v, err := f.m.Verify(context.Background(), token, "")
	require.NoError(t, err)
	return v
}

// stored returns owner's records straight from the memstore.
func (f *fixture) stored(t testing.TB, owner string) []*keys.Key {
	t.Helper()
	list, err := f.mem.List(context.Background(), owner, keys.Page{Limit: 1000})
	require.NoError(t, err)
	return list
}

func digest(token string) []byte {
	mac := hmac.New(sha256.New, testSecret)
	mac.Write([]byte(token))
	return mac.Sum(nil)
}

// errorAs is errors.As for a target type, for table-driven checks.
func errorAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}

// ref names owner's key id, asked by a person.
func ref(owner, id string) keys.Ref { return keys.Ref{Owner: owner, ID: id} }

// record returns the stored record of id, straight from the memstore.
func (f *fixture) record(t testing.TB, id string) *keys.Key {
	t.Helper()
	k, err := f.mem.Get(context.Background(), id)
	require.NoError(t, err)
	return k
}

// verify verifies token, which must work, and returns it as a Caller.
func (f *fixture) verify(t testing.TB, token string) *keys.Verified {
	t.Helper()
	v, err := f.m.Verify(context.Background(), token, "")
	require.NoError(t, err)
	return v
}

// delegate creates a key through caller with perms ("" for the default).
func (f *fixture) delegate(t testing.TB, caller *keys.Verified, perms ...string) (*keys.Key, string) {
	t.Helper()
	req := keys.CreateRequest{Owner: caller.OwnerID, Name: "delegated", Caller: caller}
	if len(perms) > 0 {
		req.Permissions = policy.MustParse(perms...)
	}
	k, token, err := f.m.Create(context.Background(), req)
	require.NoError(t, err)
	return k, token
}
