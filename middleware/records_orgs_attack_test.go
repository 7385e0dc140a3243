package middleware_test

// Attack tests of records (#13) and organization keys, metadata and kinds
// (#17), written by an attacker who did not write the code. A test passes
// when the attack fails; a test that found a bug is kept failing-on-bug
// behind t.Skip("BUG: ...").

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// createRestricted creates, with client c, a projects key limited to ids
// (none: no restriction) and returns it.
func createRestricted(t *testing.T, c *keycaptest.Client, perms string, ids ...string) keycaptest.CreatedKey {
	t.Helper()
	body := map[string]any{"name": "k", "permissions": policy.MustParse(perms)}
	if len(ids) > 0 {
		body["resources"] = map[string][]string{"projects": ids}
	}
	resp := c.DoJSON(t, http.MethodPost, "/api-keys", body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k keycaptest.CreatedKey
	resp.JSON(t, &k)
	return k
}

// The owner's session widens (or lifts) a delegated child's restriction by
// PATCH: whatever the record says, the child stays cut to its parent's
// restriction at every request.
func TestAttackRecordOwnerWidensChild(t *testing.T) {
	t.Parallel()
	app, _, srv := recordsApp(t)
	bob := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, app.Sessions, keycaptest.SessionKey, "bob"))
	parent := createRestricted(t, bob, "projects:read", "1")
	kid := createRestricted(t, bob.KeyOnly(t, parent.Key), "projects:read")
	kidKey := bob.KeyOnly(t, kid.Key)
	require.Equal(t, http.StatusNoContent, kidKey.DoJSON(t, http.MethodGet, "/api/projects/1", nil).StatusCode)

	admitted := 0
	for _, patch := range []any{map[string][]string{"projects": {"1", "3"}}, map[string][]string{"projects": {"3"}}, nil, map[string][]string{"files": {"x"}}} {
		resp := bob.DoJSON(t, http.MethodPatch, "/api-keys/"+kid.ID, map[string]any{"resources": patch})
		t.Logf("PATCH child resources %v: %d %s", patch, resp.StatusCode, resp.Body)
		if kidKey.DoJSON(t, http.MethodGet, "/api/projects/3", nil).StatusCode < 300 {
			admitted++
		}
	}
	assert.Zero(t, admitted, "the child must never reach project 3, outside its parent's restriction")
}

// A restricted key PATCHes permissions onto an unrestricted key of the same
// owner without naming resources: the result must not reach records beyond
// the calling key's restriction.
func TestAttackRecordRestrictedKeyGrantsToUnrestricted(t *testing.T) {
	t.Parallel()
	app, _, srv := recordsApp(t)
	bob := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, app.Sessions, keycaptest.SessionKey, "bob"))
	restricted := createRestricted(t, bob, "projects:read", "1")
	wide := createRestricted(t, bob, "files:read") // no restriction, no projects
	wideKey := bob.KeyOnly(t, wide.Key)
	rk := bob.KeyOnly(t, restricted.Key)

	resp := rk.DoJSON(t, http.MethodPatch, "/api-keys/"+wide.ID, map[string]any{"permissions": policy.MustParse("projects:read")})
	t.Logf("restricted key PATCH permissions on unrestricted key: %d %s", resp.StatusCode, resp.Body)
	assert.NotEqual(t, http.StatusNoContent, wideKey.DoJSON(t, http.MethodGet, "/api/projects/3", nil).StatusCode,
		"a key limited to project 1 must not give another key project 3")

	// Rotating the unrestricted key through the restricted one.
	resp = rk.DoJSON(t, http.MethodPost, "/api-keys/"+wide.ID+"/rotate", nil)
	t.Logf("restricted key rotates unrestricted key: %d %s", resp.StatusCode, resp.Body)
	if resp.StatusCode < 300 {
		var k keycaptest.CreatedKey
		resp.JSON(t, &k)
		assert.NotEqual(t, http.StatusNoContent, bob.KeyOnly(t, k.Key).DoJSON(t, http.MethodGet, "/api/projects/3", nil).StatusCode)
	}
}

// Record id tricks on the path: a key limited to project 1 asks for other
// spellings; none is admitted, and none is a 5xx.
func TestAttackRecordIDSpellings(t *testing.T) {
	t.Parallel()
	app, _, srv := recordsApp(t)
	bob := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, app.Sessions, keycaptest.SessionKey, "bob"))
	k := createRestricted(t, bob, "projects:read", "1")
	key := bob.KeyOnly(t, k.Key)
	admitted, fivexx := 0, 0
	for _, p := range []string{"3", "%33", "1%2F..%2F3", "1%2f3", "..%2F3", "01", "1.", "1%00", "%EF%BC%91", "%EF%BC%93", "1%20", "%201",
		"3?x=1", "1;3", "1,3", strings.Repeat("1", 65), "1%0A3", "+1"} {
		resp := key.DoJSON(t, http.MethodGet, "/api/projects/"+p, nil)
		switch {
		case resp.StatusCode < 300:
			admitted++
			t.Logf("admitted %q: %d", p, resp.StatusCode)
		case resp.StatusCode >= 500:
			fivexx++
			t.Logf("5xx %q: %d %s", p, resp.StatusCode, resp.Body)
		}
	}
	assert.Zero(t, admitted)
	assert.Zero(t, fivexx)

	// Create with lookalike or duplicate ids is refused or normalized, never widened.
	for _, ids := range [][]string{{"1", "1"}, {"1", "１"}, {"../3"}, {"1/3"}, {""}, {"*"}, {"%"}, {"1 "}} {
		resp := bob.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": policy.MustParse("projects:read"),
			"resources": map[string][]string{"projects": ids}})
		if resp.StatusCode == http.StatusCreated {
			var c keycaptest.CreatedKey
			resp.JSON(t, &c)
			assert.NotEqual(t, http.StatusNoContent, bob.KeyOnly(t, c.Key).DoJSON(t, http.MethodGet, "/api/projects/3", nil).StatusCode, "ids %q", ids)
		} else {
			assert.Less(t, resp.StatusCode, 500, "ids %q: %s", ids, resp.Body)
		}
	}
}

// The owner loses access to a record the key is limited to: the key stops
// at the next request.
func TestAttackRecordOwnerLosesAccess(t *testing.T) {
	t.Parallel()
	app, acl, srv := recordsApp(t)
	bob := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, app.Sessions, keycaptest.SessionKey, "bob"))
	k := createRestricted(t, bob, "projects:read", "3")
	kid := createRestricted(t, bob.KeyOnly(t, k.Key), "projects:read")
	require.Equal(t, http.StatusNoContent, bob.KeyOnly(t, kid.Key).DoJSON(t, http.MethodGet, "/api/projects/3", nil).StatusCode)
	acl.mu.Lock()
	delete(acl.on["3"], "bob")
	acl.mu.Unlock()
	for _, key := range []string{k.Key, kid.Key} {
		keycaptest.RequireCode(t, bob.KeyOnly(t, key).DoJSON(t, http.MethodGet, "/api/projects/3", nil), keycap.CodeInsufficientPermissions)
	}
	// Nor can bob now create a key limited to project 3.
	resp := bob.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": policy.MustParse("projects:read"),
		"resources": map[string][]string{"projects": {"3"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
}

// A refused PATCH that also renames writes nothing.
func TestAttackRecordRefusedPatchWritesNothing(t *testing.T) {
	t.Parallel()
	app, _, srv := recordsApp(t)
	bob := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, app.Sessions, keycaptest.SessionKey, "bob"))
	parent := createRestricted(t, bob, "projects:read", "1")
	pk := bob.KeyOnly(t, parent.Key)
	kid := createRestricted(t, pk, "projects:read")
	resp := pk.DoJSON(t, http.MethodPatch, "/api-keys/"+kid.ID, map[string]any{"name": "renamed", "metadata": map[string]any{}, "resources": map[string][]string{"projects": {"1", "3"}}})
	require.GreaterOrEqual(t, resp.StatusCode, 400, "%s", resp.Body)
	var got keyBody
	bob.Get(t, "/api-keys/"+kid.ID).JSON(t, &got)
	assert.Equal(t, "k", got.Name)
}

// Kinds: a key presented under the other kind's prefix never verifies,
// also after its real form was used (a warm cache), in either direction.
func TestAttackKindPrefixSwap(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithManager(func(c *keys.Config) {
		c.Now = time.Now
		c.Kinds = map[string]keys.Kind{"live": {Prefix: "live"}, "test": {Prefix: "test", Max: policy.MustParse("files:read")}}
	}))
	mk := func(kind string) string {
		resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": kind, "kind": kind, "permissions": map[string][]string{"files": {"read"}}})
		keycaptest.RequireCode(t, resp, "")
		var k keyBody
		resp.JSON(t, &k)
		return k.Key
	}
	admitted := 0
	for _, c := range []struct{ kind, other string }{{"test", "live"}, {"live", "test"}} {
		token := mk(c.kind)
		for i := 0; i < 3; i++ {
			_, p := (&orgFixture{fixture: f}).whoami(t, token)
			require.Equal(t, c.kind, p.KeyKind)
		}
		rest := strings.TrimPrefix(token, c.kind)
		for _, forged := range []string{c.other + rest, strings.ToUpper(c.other) + rest, strings.ToUpper(c.kind) + rest, c.kind + strings.ToUpper(rest), c.kind + "-" + strings.TrimPrefix(rest, "_")} {
			for i := 0; i < 2; i++ {
				resp, p := (&orgFixture{fixture: f}).whoami(t, forged)
				if resp.StatusCode == http.StatusOK {
					admitted++
					t.Logf("%s key admitted as %q (kind %q)", c.kind, forged[:8], p.KeyKind)
				}
			}
		}
	}
	assert.Zero(t, admitted)
}

// Metadata: nesting far beyond the bound, a huge body and server-only mode
// through a key: 4xx, never 5xx, nothing written.
func TestAttackMetadataBounds(t *testing.T) {
	t.Parallel()
	c := testPolicy()
	c.AllowClientMetadata = true
	f := newFixture(t, keycaptest.WithPolicy(c), keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	writes := f.store.writes()
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	many := map[string]any{}
	for i := 0; i < 2000; i++ {
		many["k"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+jsonInt(i)] = 1
	}
	bodies := []string{
		`{"name":"m","permissions":{"files":["read"]},"metadata":` + deep + `}`,
		`{"name":"m","permissions":{"files":["read"]},"metadata":` + mustJSON(t, many) + `}`,
		`{"name":"m","permissions":{"files":["read"]},"metadata":{"a":1},"metadata":{"b":` + strings.Repeat(`[`, 64) + strings.Repeat(`]`, 64) + `}}`,
		`{"name":"m","permissions":{"files":["read"]},"metadata":{"a":"\ud800"}}`,
		`{"name":"m","permissions":{"files":["read"]},"metadata":{"a":1e999}}`,
		`{"name":"m","permissions":{"files":["read"]},"metadata":null}`,
	}
	for i, b := range bodies {
		resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", b)
		t.Logf("body %d: %d %.200s", i, resp.StatusCode, resp.Body)
		assert.Less(t, resp.StatusCode, 500, "body %d", i)
		if resp.StatusCode == http.StatusCreated {
			var k keyBody
			resp.JSON(t, &k)
			assert.LessOrEqual(t, len(k.Metadata), 4096, "body %d stored metadata beyond 4 KiB", i)
			writes = f.store.writes()
		}
	}
	assert.Equal(t, writes, f.store.writes())
}

func jsonInt(i int) string { b, _ := json.Marshal(i); return string(b) }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// Organization keys limited to records: the records checked are the
// organization's (the owner's), not the creating member's personal ones,
// at creation and in the grantable picker.
func TestAttackOrgKeyRecordsAreTheOrganizations(t *testing.T) {
	t.Parallel()
	members := &keycaptest.Members{}
	c := orgPolicy(members)
	on := map[string]map[string]bool{"1": {"org:acme": true, "bob": true}, "2": {"bob": true}, "3": {"bob": true}}
	c.Records = &policy.Records{Resources: []string{"projects"},
		Actions: func(_ context.Context, s policy.Subject, _, id string) ([]string, error) {
			if _, ok := on[id]; !ok {
				return nil, policy.ErrNoRecord
			}
			if on[id][s.ID] {
				return []string{"read"}, nil
			}
			return nil, nil
		},
		List: func(_ context.Context, s policy.Subject, _ string, limit int) ([]policy.Record, error) {
			var out []policy.Record
			for _, id := range []string{"1", "2", "3"} {
				if on[id][s.ID] {
					out = append(out, policy.Record{ID: id, Label: "p" + id, Actions: []string{"read"}})
				}
			}
			return out, nil
		}}
	f := newFixture(t, keycaptest.WithPolicy(c))
	f.srv.Users.Put(policy.Subject{ID: "org:acme", Roles: []string{"member"}, Organization: true})
	members.Set("org:acme", "bob", acmeBob)
	f.owners = append(f.owners, "org:acme")

	writes := f.store.writes()
	resp := f.bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", map[string]any{"name": "x", "permissions": policy.MustParse("projects:read"),
		"resources": map[string][]string{"projects": {"3"}}})
	t.Logf("bob creates an Acme key limited to project 3 (bob's, not Acme's): %d %s", resp.StatusCode, resp.Body)
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	assert.Equal(t, writes, f.store.writes())

	// An Acme key limited to project 1, then PATCHed by bob to project 2.
	resp = f.bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", map[string]any{"name": "x", "permissions": policy.MustParse("projects:read"),
		"resources": map[string][]string{"projects": {"1"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k keyBody
	resp.JSON(t, &k)
	resp = f.bob.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"resources": map[string][]string{"projects": {"1", "2"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	// Without ?owner= the organization's key is not bob's.
	keycaptest.RequireCode(t, f.bob.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID, map[string]any{"resources": nil}), keycap.CodeKeyNotFound)
	// ?owner= spellings of the organization.
	for _, o := range []string{"org:ACME", "org:acme%20", "%20org:acme", "org:acme%00", "ORG:acme", "org:acme/", "bob", "alice"} {
		resp = f.bob.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner="+o, map[string]any{"resources": nil})
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, "owner=%s: %s", o, resp.Body)
		assert.Less(t, resp.StatusCode, 500, "owner=%s: %s", o, resp.Body)
	}
	got := f.get(t, k.ID)
	assert.Equal(t, policy.Resources{"projects": {"1"}}, got.Resources, "no lookalike owner changed it")

	// Was a bug, fixed: the picker listed bob's own projects (1, 2, 3).
	var g struct {
		Records map[string][]policy.Record `json:"records"`
	}
	resp = f.bob.Get(t, "/api-keys/grantable?owner=org:acme")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	resp.JSON(t, &g)
	var ids []string
	for _, r := range g.Records["projects"] {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"1"}, ids, "the picker for Acme's keys lists Acme's projects only")

}

// Metadata keycap accepts must be data an app can read back with plain
// encoding/json (the README says the app reads it from the principal).
func TestAttackMetadataUnreadableNumbers(t *testing.T) {
	t.Parallel()
	c := testPolicy()
	c.AllowClientMetadata = true
	// Was a bug, fixed: {"a":1e999} was stored as written. (Duplicate names
	// are stored once, the last value kept, as encoding/json reads them.)
	f := newFixture(t, keycaptest.WithPolicy(c))
	accepted := 0
	for _, m := range []string{`{"a":1e999}`, `{"a":-1e400}`, `{"a":1,"a":2}`} {
		resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", `{"name":"m","permissions":{"files":["read"]},"metadata":`+m+`}`)
		if resp.StatusCode != http.StatusCreated {
			continue
		}
		var k keyBody
		resp.JSON(t, &k)
		var v map[string]any
		if err := json.Unmarshal(k.Metadata, &v); err != nil {
			accepted++
			t.Logf("accepted %s, stored %s: an app's json.Unmarshal fails: %v", m, k.Metadata, err)
		} else if strings.Count(string(k.Metadata), `"a"`) > 1 {
			accepted++
			t.Logf("accepted %s with a duplicate name, stored %s: parsers disagree on its value", m, k.Metadata)
		}
	}
	assert.Zero(t, accepted)
}
