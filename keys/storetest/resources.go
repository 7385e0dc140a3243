package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// members is the app's side of records in these tests: who is a member of
// which project; a member may do their roles' project actions on it.
// Safe for concurrent use.
type members struct {
	mu    sync.Mutex
	of    map[string]map[string]bool // project to member to true
	roles map[string]policy.Permissions
	asked int // calls of actions
}

func newMembers(roles map[string]policy.Permissions, of map[string][]string) *members {
	m := &members{of: map[string]map[string]bool{}, roles: roles}
	for project, users := range of {
		for _, u := range users {
			m.set(project, u, true)
		}
	}
	return m
}

func (m *members) set(project, user string, member bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.of[project] == nil {
		m.of[project] = map[string]bool{}
	}
	m.of[project][user] = member
}

// may is the oracle: whether user, with roles, may do action on project now.
func (m *members) may(user string, roles []string, project, action string) bool {
	m.mu.Lock()
	member := m.of[project][user]
	m.mu.Unlock()
	for _, r := range roles {
		if member && m.roles[r].Has("projects", action) {
			return true
		}
	}
	return false
}

func (m *members) actions(_ context.Context, s policy.Subject, _, id string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked++
	if !m.of[id][s.ID] {
		return nil, nil
	}
	var out []string
	for _, r := range s.Roles {
		out = append(out, m.roles[r]["projects"]...)
	}
	return out, nil
}

// recordsRoles: members read and write projects, viewers read them.
var recordsRoles = map[string]policy.Permissions{
	"member": policy.MustParse("projects:read", "projects:write", "files:read"),
	"viewer": policy.MustParse("projects:read", "files:read"),
}

// newRecordsManager returns a Manager over s whose policy asks m about
// projects; users named "viewer…" are viewers, the others members. cache
// turns the in-process cache on (one instance).
func newRecordsManager(t *testing.T, s keys.Store, m *members, cache bool) *keys.Manager {
	t.Helper()
	cc := keys.CacheConfig{Disabled: true}
	if cache {
		cc = keys.CacheConfig{SingleInstance: true}
	}
	mgr, err := keys.NewManager(keys.Config{
		Store: s,
		Policy: policy.MustNew(policy.Config{AllowClientPermissions: true, Roles: recordsRoles, MaxKeys: -1,
			Records: &policy.Records{Resources: []string{"projects"}, Actions: m.actions}}),
		Subjects:         policy.SubjectsFunc(recordsSubject),
		Secret:           []byte("storetest-secret-0123456789abcdef"),
		Cache:            cc,
		LastUsedInterval: -1,
	})
	require.NoError(t, err)
	return mgr
}

func recordsSubject(_ context.Context, id string) (policy.Subject, error) {
	if len(id) >= 6 && id[:6] == "viewer" {
		return policy.Subject{ID: id, Roles: []string{"viewer"}}, nil
	}
	return policy.Subject{ID: id, Roles: []string{"member"}}, nil
}

// admitted is what a record guard decides for v: the policy asked now.
func admitted(t *testing.T, mgr *keys.Manager, v keys.Verified, action, project string) bool {
	t.Helper()
	live, checked, err := mgr.Policy().RecordActions(t.Context(), v.Subject, "projects", project)
	require.NoError(t, err)
	return policy.RecordAllowed(v.Permissions, v.Resources, "projects", action, project, live, checked)
}

// testResources: a key limited to records is stored and verified with its
// restriction; one naming a record its owner cannot reach with its actions
// is refused naming it, with nothing written; PATCH replaces, refuses and
// lifts the restriction; the owner's live access decides at every use.
func testResources(t *testing.T, s keys.Store) {
	ctx := t.Context()
	m := newMembers(recordsRoles, map[string][]string{"1": {"alice"}, "2": {"alice"}, "3": {"bob"}})
	mgr := newRecordsManager(t, s, m, false)
	read := policy.MustParse("projects:read")

	k, secret, err := mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "p1", Permissions: read, Resources: policy.Resources{"projects": {"2", "1", "2"}}})
	require.NoError(t, err)
	want := policy.Resources{"projects": {"1", "2"}}
	assert.Equal(t, want, k.Resources, "normalized")
	assert.Equal(t, want, get(t, s, k.ID).Resources)
	v, err := mgr.Verify(ctx, secret, "")
	require.NoError(t, err)
	assert.Equal(t, want, v.Resources)
	assert.True(t, admitted(t, mgr, *v, "read", "1"))
	assert.False(t, admitted(t, mgr, *v, "read", "3"), "outside the restriction")
	assert.False(t, admitted(t, mgr, *v, "write", "1"), "not in the key's permissions")
	m.set("1", "alice", false)
	assert.False(t, admitted(t, mgr, *v, "read", "1"), "alice was taken off project 1")
	m.set("1", "alice", true)

	for _, tt := range []struct {
		name    string
		perms   policy.Permissions
		res     policy.Resources
		records policy.Resources
	}{
		{"a project of another", read, policy.Resources{"projects": {"1", "3"}}, policy.Resources{"projects": {"3"}}},
		{"a project that does not exist", read, policy.Resources{"projects": {"9"}}, policy.Resources{"projects": {"9"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "x", Permissions: tt.perms, Resources: tt.res})
			var re *policy.RecordsError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.records, re.Records)
			assert.Equal(t, read, re.Exceeded)
		})
	}
	_, _, err = mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "x", Permissions: read, Resources: policy.Resources{"projects": {"a/b"}}})
	var invalid *policy.InvalidError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "resources.projects[0]", invalid.Path)
	list, err := s.List(ctx, "alice", keys.Page{})
	require.NoError(t, err)
	assert.Len(t, list, 1, "nothing written by the refusals")

	ref := keys.Ref{Owner: "alice", ID: k.ID}
	_, err = mgr.Update(ctx, keys.UpdateRequest{Ref: ref, Resources: &policy.Resources{"projects": {"3"}}})
	var re *policy.RecordsError
	require.ErrorAs(t, err, &re)
	requireStored(t, s, k)
	m.set("2", "viewer-v", true)
	narrowed, err := mgr.Update(ctx, keys.UpdateRequest{Ref: ref, Resources: &policy.Resources{"projects": {"2"}}})
	require.NoError(t, err)
	assert.Equal(t, policy.Resources{"projects": {"2"}}, narrowed.Resources)
	assert.Equal(t, k.Version+1, narrowed.Version)
	lifted, err := mgr.Update(ctx, keys.UpdateRequest{Ref: ref, Resources: &policy.Resources{}})
	require.NoError(t, err)
	assert.Nil(t, lifted.Resources)
	assert.Nil(t, get(t, s, k.ID).Resources)
	v, err = mgr.Verify(ctx, secret, "")
	require.NoError(t, err)
	assert.True(t, admitted(t, mgr, *v, "read", "2"))
	assert.False(t, admitted(t, mgr, *v, "read", "3"), "lifted: every project alice can reach, not more")

	// New permissions are checked against a kept restriction.
	viewer, _, err := mgr.Create(ctx, keys.CreateRequest{Owner: "viewer-v", Name: "v", Permissions: read, Resources: policy.Resources{"projects": {"2"}}})
	require.NoError(t, err)
	_, err = mgr.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "viewer-v", ID: viewer.ID}, Permissions: policy.MustParse("projects:write")})
	require.Error(t, err, "a viewer may not write projects at all")
	requireStored(t, s, viewer)
}

// testResourcesDelegation: a key created by a key stays within its
// restriction: refused outside it, given it when naming none of its own,
// and cut to it again at every verification, so narrowing the parent
// narrows the child at its next use.
func testResourcesDelegation(t *testing.T, s keys.Store) {
	ctx := t.Context()
	m := newMembers(recordsRoles, map[string][]string{"1": {"alice"}, "2": {"alice"}, "3": {"alice"}})
	mgr := newRecordsManager(t, s, m, true)
	read := policy.MustParse("projects:read")
	parent, parentSecret, err := mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "parent", Permissions: read, Resources: policy.Resources{"projects": {"1", "2"}}})
	require.NoError(t, err)
	pv, err := mgr.Verify(ctx, parentSecret, "")
	require.NoError(t, err)

	_, _, err = mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "child", Permissions: read, Resources: policy.Resources{"projects": {"2", "3"}}, Caller: pv})
	var re *policy.RecordsError
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Delegation)
	assert.Equal(t, policy.Resources{"projects": {"3"}}, re.Records)
	list, err := s.List(ctx, "alice", keys.Page{})
	require.NoError(t, err)
	assert.Len(t, list, 1, "nothing written")

	inherited, inheritedSecret, err := mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "inherits", Permissions: read, Caller: pv})
	require.NoError(t, err)
	assert.Equal(t, policy.Resources{"projects": {"1", "2"}}, inherited.Resources)
	_, twoSecret, err := mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "two", Permissions: read, Resources: policy.Resources{"projects": {"2"}}, Caller: pv})
	require.NoError(t, err)

	// A PATCH by the parent key widening the child is refused too.
	_, err = mgr.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: inherited.ID, Caller: pv}, Resources: &policy.Resources{}})
	require.NoError(t, err, "lifting the child's own restriction gives it the parent's")
	requireStoredResources(t, s, inherited.ID, policy.Resources{"projects": {"1", "2"}})

	_, err = mgr.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: parent.ID}, Resources: &policy.Resources{"projects": {"1"}}})
	require.NoError(t, err)
	v, err := mgr.Verify(ctx, inheritedSecret, "")
	require.NoError(t, err)
	assert.Equal(t, policy.Resources{"projects": {"1"}}, v.Resources, "cut to the narrowed parent at the next use")
	assert.False(t, admitted(t, mgr, *v, "read", "2"))
	assert.True(t, admitted(t, mgr, *v, "read", "1"))
	v, err = mgr.Verify(ctx, twoSecret, "")
	require.NoError(t, err)
	assert.Equal(t, policy.Resources{"projects": {}}, v.Resources, "no project left to it")
	assert.False(t, admitted(t, mgr, *v, "read", "2"))

	// The parent lifting its restriction does not widen a child beyond its own.
	_, err = mgr.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: parent.ID}, Resources: &policy.Resources{}})
	require.NoError(t, err)
	v, err = mgr.Verify(ctx, twoSecret, "")
	require.NoError(t, err)
	assert.Equal(t, policy.Resources{"projects": {"2"}}, v.Resources)
	assert.False(t, admitted(t, mgr, *v, "read", "3"))
}

func requireStoredResources(t *testing.T, s keys.Store, id string, want policy.Resources) {
	t.Helper()
	assert.Equal(t, want, get(t, s, id).Resources)
}

// modelKey is what testResourcesProperty asked a key to be.
type modelKey struct {
	id, owner, secret string
	perms             policy.Permissions
	res               policy.Resources // as asked; nil entries: not limited
	parent            *modelKey
}

// effective is the model's restriction of k: its own cut to each
// ancestor's.
func (k *modelKey) effective() policy.Resources {
	var out policy.Resources
	for c := k; c != nil; c = c.parent {
		out = policy.IntersectResources(out, c.res)
	}
	return out
}

// allows is the model's side of the property: the action in the key's
// permissions and in each ancestor's, the project in the key's own
// restriction (as asked, or its parent's effective one when it was
// created by a key naming none) and in each ancestor's.
func (k *modelKey) allows(action, project string) bool {
	for c := k; c != nil; c = c.parent {
		if !c.perms.Has("projects", action) || !c.res.Allows("projects", project) {
			return false
		}
	}
	return true
}
