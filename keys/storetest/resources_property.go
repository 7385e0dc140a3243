package storetest

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// testResourcesProperty: for random users, memberships, keys (some created
// by keys), restrictions, PATCHes and requests, through a Manager with its
// cache on, a record guard's decision is exactly the model's: admitted ⇔
// (the action in the key's permissions and its ancestors' ∧ the project in
// the key's restriction and its ancestors' ∧ the owner may do the action
// on the project now). A key created by a key naming no restriction gets
// a copy of its parent's, which the parent widening later does not widen.
// A restriction stored at creation or by PATCH names
// only projects the owner could do the key's actions on then, and a
// delegated key's only projects within its parent's.
func testResourcesProperty(t *testing.T, s keys.Store) {
	ctx := t.Context()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	users := []string{"alice", "bob", "viewer-c"}
	projects := []string{"1", "2", "3", "4"}
	m := newMembers(recordsRoles, nil)
	for _, p := range projects {
		for _, u := range users {
			m.set(p, u, rng.IntN(2) == 0)
		}
	}
	mgr := newRecordsManager(t, s, m, true)
	randomPerms := func() policy.Permissions {
		switch rng.IntN(3) {
		case 0:
			return policy.MustParse("projects:read")
		case 1:
			return policy.MustParse("projects:write")
		}
		return policy.MustParse("projects:read", "projects:write")
	}
	randomRes := func() policy.Resources {
		if rng.IntN(3) == 0 {
			return nil
		}
		var ids []string
		for _, p := range projects {
			if rng.IntN(2) == 0 {
				ids = append(ids, p)
			}
		}
		if len(ids) == 0 {
			ids = []string{projects[rng.IntN(len(projects))]}
		}
		return policy.Resources{"projects": ids}
	}
	roles := func(owner string) []string { s, _ := recordsSubject(ctx, owner); return s.Roles }
	// reachable checks what a stored restriction may name.
	reachable := func(owner string, perms policy.Permissions, res policy.Resources) {
		for _, id := range res["projects"] {
			for _, a := range perms["projects"] {
				require.True(t, m.may(owner, roles(owner), id, a), "stored %s of %s, who may not %s it", id, owner, a)
			}
		}
	}

	var model []*modelKey
	trials, counts := 600, map[string]int{}
	if testing.Short() {
		trials = 200
	}
	for range trials {
		switch op := rng.IntN(8); {
		case op == 0 || (op == 1 && len(model) == 0): // a person creates a key
			owner, perms, res := users[rng.IntN(len(users))], randomPerms(), randomRes()
			k, secret, err := mgr.Create(ctx, keys.CreateRequest{Owner: owner, Name: "p", Permissions: perms, Resources: res})
			if err != nil {
				requireRefusal(t, err)
				counts["create refused"]++
				continue
			}
			reachable(owner, perms, k.Resources)
			model = append(model, &modelKey{id: k.ID, owner: owner, secret: secret, perms: perms, res: res})
		case op == 1: // a key creates a key
			parent := model[rng.IntN(len(model))]
			pv, err := mgr.Verify(ctx, parent.secret, "")
			require.NoError(t, err)
			perms, res := randomPerms(), randomRes()
			k, secret, err := mgr.Create(ctx, keys.CreateRequest{Owner: parent.owner, Name: "c", Permissions: perms, Resources: res, Caller: pv})
			if err != nil {
				requireRefusal(t, err)
				counts["delegated create refused"]++
				continue
			}
			reachable(parent.owner, perms, res)
			for _, id := range k.Resources["projects"] {
				require.True(t, pv.Resources.Allows("projects", id), "a child's project %s outside its parent's %v", id, pv.Resources)
			}
			if res == nil {
				// Naming none, a child gets its parent's restriction as it is now:
				// a copy, which the parent widening later does not widen.
				res = parent.effective()
			}
			model = append(model, &modelKey{id: k.ID, owner: parent.owner, secret: secret, perms: perms, res: res, parent: parent})
		case op == 2: // the app changes a membership
			m.set(projects[rng.IntN(len(projects))], users[rng.IntN(len(users))], rng.IntN(2) == 0)
		case op == 3 && len(model) > 0: // the owner changes a key's restriction
			k := model[rng.IntN(len(model))]
			res := randomRes()
			after, err := mgr.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: k.owner, ID: k.id}, Resources: &res})
			if err != nil {
				requireRefusal(t, err)
				counts["patch refused"]++
				continue
			}
			reachable(k.owner, k.perms, after.Resources)
			k.res = res
		case len(model) > 0: // a request on a project
			k := model[rng.IntN(len(model))]
			v, err := mgr.Verify(ctx, k.secret, "")
			require.NoError(t, err)
			action, project := []string{"read", "write"}[rng.IntN(2)], projects[rng.IntN(len(projects))]
			got := admitted(t, mgr, *v, action, project)
			want := k.allows(action, project) && m.may(k.owner, roles(k.owner), project, action)
			require.Equal(t, want, got, "key %s (%v %v, parent %v) %s on project %s", k.id, k.perms, k.res, k.parent != nil, action, project)
			if got {
				counts["admitted"]++
			} else {
				counts["refused"]++
			}
		}
	}
	t.Logf("%d keys; %v", len(model), counts)
	assert.Positive(t, counts["admitted"], "no request admitted: the property was not exercised")
	assert.Positive(t, counts["refused"], "no request refused: the property was not exercised")
}

// requireRefusal fails t unless err is a refusal of the policy.
func requireRefusal(t *testing.T, err error) {
	t.Helper()
	var records *policy.RecordsError
	var exceeds *policy.ExceedsError
	require.True(t, errors.As(err, &records) || errors.As(err, &exceeds), "unexpected error: %v", err)
}

// testRaceResources: owners' PATCHes of one key's restriction, racing,
// lose none of each other: every write that succeeded holds its own
// version, and the record ends as the last of them wrote it.
func testRaceResources(t *testing.T, s keys.Store) {
	ctx := t.Context()
	m := newMembers(recordsRoles, map[string][]string{"1": {"alice"}, "2": {"alice"}, "3": {"alice"}, "4": {"alice"}})
	mgr := newRecordsManager(t, s, m, false)
	trials, writers := 20, 4
	if testing.Short() {
		trials = 6
	}
	lost, conflicts, written := 0, 0, 0
	for range trials {
		k, _, err := mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "r", Permissions: policy.MustParse("projects:read"),
			Resources: policy.Resources{"projects": {"1"}}})
		require.NoError(t, err)
		var mu sync.Mutex
		byVersion := map[int64]policy.Resources{}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range 3 {
					res := policy.Resources{"projects": {strconv.Itoa(w + 1), strconv.Itoa((w+i)%4 + 1)}}
					after, err := mgr.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}, Resources: &res})
					mu.Lock()
					switch {
					case errors.Is(err, keys.ErrConflict):
						conflicts++
					case err != nil:
						t.Errorf("update: %v", err)
					default:
						if other, twice := byVersion[after.Version]; twice && !other.Equal(after.Resources) {
							lost++ // two writes at one version: one of them was lost
						}
						byVersion[after.Version] = after.Resources
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		last := int64(0)
		for v := range byVersion {
			last = max(last, v)
		}
		stored := get(t, s, k.ID)
		if last > 0 && (stored.Version != last || !stored.Resources.Equal(byVersion[last])) {
			lost++
		}
		written += len(byVersion)
	}
	t.Logf("%d of %d trials lost a write; %d writes, %d answered CONFLICT", lost, trials, written, conflicts)
	assert.Zero(t, lost)
	assert.Positive(t, written)
}
