package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// admin is a user other than the owner who stops the owner's keys.
var admin = audit.User("admin")

// newManager returns a Manager over s for the race tests: every read goes
// to s (no cache), nothing writes behind the test's back (no last-used
// bookkeeping), every user may grant files:read, files:write and
// invoices:read, and an owner may hold maxKeys live keys (0: no limit).
func newManager(t *testing.T, s keys.Store, maxKeys int) *keys.Manager {
	t.Helper()
	m, err := keys.NewManager(keys.Config{
		Store: s,
		Policy: policy.MustNew(policy.Config{
			AllowClientPermissions: true,
			Roles:                  map[string]policy.Permissions{"member": policy.MustParse("files:read", "files:write", "invoices:read")},
			Default:                policy.MustParse("files:read"),
			MaxKeys:                new(maxKeys), // 0: no limit
		}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			return policy.Subject{ID: id, Roles: []string{"member"}}, nil
		}),
		Secret:           []byte("storetest-secret-0123456789abcdef"),
		Cache:            keys.CacheConfig{Disabled: true},
		LastUsedInterval: -1,
	})
	require.NoError(t, err)
	return m
}

// readWrite is what the race tests' keys start with; readOnly narrows it.
var (
	readWrite = policy.MustParse("files:read", "files:write")
	readOnly  = policy.MustParse("files:read")
)

// createKey creates a read-write key of owner through m, with a quota of
// quota requests (0: none), and returns it and its secret.
func createKey(t *testing.T, m *keys.Manager, owner string, quota int64) (*keys.Key, string) {
	t.Helper()
	req := keys.CreateRequest{Owner: owner, Name: "race", Permissions: readWrite}
	if quota > 0 {
		req.Quota = &keys.Quota{Remaining: quota}
	}
	k, secret, err := m.Create(t.Context(), req)
	require.NoError(t, err)
	return k, secret
}

// works reports whether secret verifies through m.
func works(t *testing.T, m *keys.Manager, secret string) bool {
	_, err := m.Verify(t.Context(), secret, "")
	return err == nil
}

// gatedStore holds the next n reads (Get) until all n have read, so that n
// decisions are made on the same version of a record.
type gatedStore struct {
	keys.Store
	mu      sync.Mutex
	waiting int
	open    chan struct{}
}

// hold makes the next n calls to Get wait for each other.
func (g *gatedStore) hold(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting, g.open = n, make(chan struct{})
}

func (g *gatedStore) Get(ctx context.Context, id string) (*keys.Key, error) {
	k, err := g.Store.Get(ctx, id)
	g.mu.Lock()
	if g.waiting == 0 {
		g.mu.Unlock()
		return k, err
	}
	g.waiting--
	open := g.open
	if g.waiting == 0 {
		close(open)
	}
	g.mu.Unlock()
	select {
	case <-open:
	case <-ctx.Done():
	case <-time.After(10 * time.Second): // a party never came: the counts will say so
	}
	return k, err
}

// watchedStore tallies the changes the Store refused: each is a decision
// that was in flight when another write landed, the interleaving a race
// test is after.
type watchedStore struct {
	keys.Store
	c *tally
}

func (w watchedStore) Change(ctx context.Context, id string, c keys.Change) (*keys.Key, error) {
	k, err := w.Store.Change(ctx, id, c)
	switch {
	case errors.Is(err, keys.ErrAlreadyRevoked):
		w.c.add("in flight, refused by the store: revoked")
	case errors.Is(err, keys.ErrConflict):
		w.c.add("in flight, refused by the store: conflict")
	}
	return k, err
}
