package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// orgDirectory is a mutable directory of subjects (users and
// organizations) and of members' rights, for the organization tests.
type orgDirectory struct {
	mu       sync.RWMutex
	subjects map[string]policy.Subject
	rights   map[string]policy.Permissions // "org user"
}

func (d *orgDirectory) Subject(_ context.Context, id string) (policy.Subject, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.subjects[id]
	if !ok {
		return policy.Subject{}, policy.ErrUnknownSubject
	}
	return s, nil
}

func (d *orgDirectory) members(_ context.Context, org policy.Subject, user string) (policy.Permissions, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.rights[org.ID+" "+user]
	if !ok {
		return nil, policy.ErrNotMember
	}
	return r, nil
}

func (d *orgDirectory) put(s policy.Subject) {
	d.mu.Lock()
	d.subjects[s.ID] = s
	d.mu.Unlock()
}

func (d *orgDirectory) setRights(org, user string, r policy.Permissions) {
	d.mu.Lock()
	if r == nil {
		delete(d.rights, org+" "+user)
	} else {
		d.rights[org+" "+user] = r
	}
	d.mu.Unlock()
}

func (d *orgDirectory) remove(id string) {
	d.mu.Lock()
	delete(d.subjects, id)
	d.mu.Unlock()
}

// Rights in org "acme" (cap: files:read, files:write, invoices:read):
// bob may manage its keys and holds files:*; carol may manage them with
// files:read only; alice is a plain member.
var (
	bobRights   = policy.MustParse("files:read", "files:write", "files:delete", "keys:manage")
	carolRights = policy.MustParse("files:read", "keys:manage")
	aliceRights = policy.MustParse("files:read", "invoices:read")
)

// newOrgManager returns a Manager over s with org "acme", its members and
// users bob, carol and alice, and the directory to change them.
func newOrgManager(t *testing.T, s keys.Store, maxKeys int) (*keys.Manager, *orgDirectory) {
	t.Helper()
	d := &orgDirectory{subjects: map[string]policy.Subject{}, rights: map[string]policy.Permissions{}}
	for _, u := range []string{"bob", "carol", "alice"} {
		d.put(policy.Subject{ID: u, Roles: []string{"member"}})
	}
	d.put(policy.Subject{ID: "acme", Roles: []string{"member"}, Organization: true})
	d.setRights("acme", "bob", bobRights)
	d.setRights("acme", "carol", carolRights)
	d.setRights("acme", "alice", aliceRights)
	m, err := keys.NewManager(keys.Config{
		Store: s,
		Policy: policy.MustNew(policy.Config{
			AllowClientPermissions: true,
			Roles: map[string]policy.Permissions{"member": policy.MustParse("files:read", "files:write", "invoices:read"),
				"viewer": policy.MustParse("files:read")},
			MaxKeys: new(maxKeys), Members: d.members, ManageKeys: "keys:manage",
		}),
		Subjects:         d,
		Secret:           []byte("storetest-secret-0123456789abcdef"),
		Cache:            keys.CacheConfig{Disabled: true},
		LastUsedInterval: -1,
	})
	require.NoError(t, err)
	return m, d
}

// testOrgKeys: keys of an organization through a Manager over the store.
// A member who may manage its keys creates them within the organization's
// cap and their rights (a refusal names the bound, writes nothing); a
// plain member or a stranger may not; the key acts for the organization,
// survives its creator's demotion and deletion, is cut to the
// organization's current cap and stops when it is disabled or removed;
// the record keeps who created and who changed it, and its metadata.
func testOrgKeys(t *testing.T, s keys.Store) {
	ctx := t.Context()
	m, d := newOrgManager(t, s, 0)
	bob, carol, alice := audit.User("bob"), audit.User("carol"), audit.User("alice")
	create := func(by audit.Actor, perms policy.Permissions) (*keys.Key, string, error) {
		return m.Create(ctx, keys.CreateRequest{Owner: "acme", Name: "ci", Permissions: perms, Actor: by,
			Metadata: json.RawMessage(`{"env": "ci", "ticket": 17}`)})
	}
	stored := func() int {
		list, err := s.List(ctx, "acme", keys.Page{Limit: 100})
		require.NoError(t, err)
		return len(list)
	}

	for _, tt := range []struct {
		name   string
		by     audit.Actor
		perms  policy.Permissions
		bounds []string
	}{
		{"beyond the organization's cap", bob, policy.MustParse("files:delete"), []string{"organization"}},
		{"beyond the member's rights", carol, policy.MustParse("files:write"), []string{"user"}},
		{"beyond both", carol, policy.MustParse("billing:read"), []string{"organization", "user"}},
	} {
		_, _, err := create(tt.by, tt.perms)
		var exceeds *policy.ExceedsError
		require.ErrorAs(t, err, &exceeds, tt.name)
		assert.Equal(t, tt.bounds, exceeds.Bounds, tt.name)
	}
	_, _, err := create(alice, policy.MustParse("files:read"))
	var manage *policy.ManageError
	require.ErrorAs(t, err, &manage)
	assert.Equal(t, policy.ManageError{Owner: "acme", Permission: "keys:manage"}, *manage)
	_, _, err = create(audit.User("mallory"), policy.MustParse("files:read"))
	require.ErrorIs(t, err, keys.ErrAdminChange)
	require.Zero(t, stored(), "refusals store nothing")

	k, secret, err := create(bob, readWrite)
	require.NoError(t, err)
	assert.Equal(t, "acme", k.OwnerID)
	assert.Equal(t, bob, k.CreatedBy)
	assert.JSONEq(t, `{"env": "ci", "ticket": 17}`, string(get(t, s, k.ID).Metadata))

	d.setRights("acme", "bob", aliceRights) // demoted
	d.remove("bob")                         // and deleted
	v, err := m.Verify(ctx, secret, "")
	require.NoError(t, err)
	assert.Equal(t, readWrite, v.Permissions)
	assert.True(t, v.Subject.Organization)
	_, err = m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "acme", ID: k.ID}, Actor: bob, Name: ptr("mine")})
	require.ErrorAs(t, err, &manage)

	after, err := m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "acme", ID: k.ID}, Actor: carol, Name: ptr("ci 2"),
		Metadata: ptr(json.RawMessage(`{"env": "prod"}`))})
	require.NoError(t, err)
	assert.Equal(t, carol, after.ChangedBy)
	assert.Equal(t, bob, after.CreatedBy)
	requireSame(t, after, get(t, s, k.ID))

	d.put(policy.Subject{ID: "acme", Roles: []string{"viewer"}, Organization: true})
	v, err = m.Verify(ctx, secret, "")
	require.NoError(t, err)
	assert.Equal(t, readOnly, v.Permissions, "cut to the organization's current cap")
	d.put(policy.Subject{ID: "acme", Roles: []string{"member"}, Organization: true, Disabled: true})
	_, err = m.Verify(ctx, secret, "")
	require.ErrorIs(t, err, keys.ErrInvalid)
	_, _, err = create(carol, readOnly)
	require.ErrorIs(t, err, policy.ErrOrganizationDisabled)
	d.remove("acme")
	_, err = m.Verify(ctx, secret, "")
	require.ErrorIs(t, err, keys.ErrInvalid)
}

// testRaceOrgKeyLimit: two members managing an organization's keys
// create 40 at once against its limit of 10: exactly 10, as for a person;
// meanwhile a third member is demoted, and none of their creations after
// the demotion succeeds.
func testRaceOrgKeyLimit(t *testing.T, s keys.Store) {
	n := trials(5, 2)
	var (
		c     tally
		wrong failures
	)
	for trial := range n {
		m, d := newOrgManager(t, s, raceLimit)
		org := fmt.Sprint("org-", trial)
		d.put(policy.Subject{ID: org, Roles: []string{"member"}, Organization: true})
		d.setRights(org, "bob", bobRights)
		d.setRights(org, "carol", carolRights)
		got := created(t, &c, func(i int) error {
			by := audit.User([]string{"bob", "carol"}[i%2])
			_, _, err := m.Create(t.Context(), keys.CreateRequest{Owner: org, Name: "k", Permissions: readOnly, Actor: by})
			return err
		})
		list, err := s.List(t.Context(), org, keys.Page{Limit: 100})
		require.NoError(t, err)
		if got != raceLimit || len(list) != raceLimit {
			wrong.add(trial, fmt.Sprintf("%d created, %d stored", got, len(list)))
		}
		// A demotion racing a member's changes: once it is written, no
		// change by that member lands.
		k := list[0]
		var renamed, finished atomic.Int64
		together(8, func(i int) {
			if i == 0 {
				for renamed.Load() < 3 && finished.Load() < 7 {
					runtime.Gosched()
				}
				d.setRights(org, "carol", aliceRights)
				return
			}
			defer finished.Add(1)
			for range 5 {
				_, err := m.Update(t.Context(), keys.UpdateRequest{Ref: keys.Ref{Owner: org, ID: k.ID}, Actor: audit.User("carol"), Name: ptr(fmt.Sprint("n", i))})
				var manage *policy.ManageError
				switch {
				case err == nil:
					renamed.Add(1)
					c.add("rename before the demotion")
				case errors.As(err, &manage):
					c.add("rename refused: demoted")
				case errors.Is(err, keys.ErrConflict):
					c.add("rename conflict")
				default:
					t.Errorf("rename: %v", err)
				}
			}
		})
		_, err = m.Update(t.Context(), keys.UpdateRequest{Ref: keys.Ref{Owner: org, ID: k.ID}, Actor: audit.User("carol"), Name: ptr("late")})
		if err == nil {
			wrong.add(trial, "a demoted member's change landed")
		}
	}
	wrong.check(t, n, fmt.Sprintf("organization key limits of %d not exact (or demotions not holding) under %d concurrent creations", raceLimit, creators), &c)
}
