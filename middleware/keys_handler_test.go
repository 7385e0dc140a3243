package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/openapicheck"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

func TestListPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	want := []string{f.aliceKey.ID}
	for i := range 6 {
		f.clock.Advance(time.Millisecond) // ids are time-ordered to the millisecond
		want = append(want, f.alice.CreateKey(t, "/api-keys", "k"+strconv.Itoa(i), policy.Permissions{"files": {"read"}}).ID)
	}
	for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
		want[i], want[j] = want[j], want[i] // newest first
	}

	var got []string
	cursor, pages := "", 0
	for {
		resp := f.alice.DoJSON(t, http.MethodGet, "/api-keys?limit=3&cursor="+cursor, nil)
		keycaptest.RequireCode(t, resp, "")
		var page listBody
		resp.JSON(t, &page)
		assert.LessOrEqual(t, len(page.Keys), 3)
		for _, k := range page.Keys {
			assert.Equal(t, "alice", k.OwnerID)
			assert.Empty(t, k.Key, "a listing never holds a key")
		}
		got = append(got, ids(page.Keys)...)
		pages++
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		require.Less(t, pages, 10, "pagination does not end")
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages, "7 keys in pages of 3")

	// Without a limit, everything (up to the default page size) at once.
	resp := f.alice.DoJSON(t, http.MethodGet, "/api-keys", nil)
	var all listBody
	resp.JSON(t, &all)
	assert.Equal(t, want, ids(all.Keys))
	assert.Empty(t, all.NextCursor)

	// An exact page: no next cursor.
	resp = f.alice.DoJSON(t, http.MethodGet, "/api-keys?limit=7", nil)
	resp.JSON(t, &all)
	assert.Len(t, all.Keys, 7)
	assert.Empty(t, all.NextCursor)

	// Another user's list, and a cursor from alice's list, show only theirs.
	resp = f.bob.DoJSON(t, http.MethodGet, "/api-keys?cursor="+want[0], nil)
	var bobs listBody
	resp.JSON(t, &bobs)
	assert.Equal(t, []string{f.bobKey.ID}, ids(bobs.Keys))
	// A cursor is an id: anything else is refused before the store is asked.
	for _, cursor := range []string{want[0] + "z", "%00", "%FF"} {
		resp = f.alice.DoJSON(t, http.MethodGet, "/api-keys?cursor="+cursor, nil)
		keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
		assert.Equal(t, "cursor", details[keycap.InvalidFieldDetails](t, resp).Field)
	}

	for _, limit := range []string{"0", "-1", "201", "abc", "1.5", "%20"} {
		resp := f.alice.DoJSON(t, http.MethodGet, "/api-keys?limit="+limit, nil)
		keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
		assert.Equal(t, "limit", details[keycap.InvalidFieldDetails](t, resp).Field, "limit=%s", limit)
	}
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodGet, "/api-keys?limit=200", nil), "")
}

func TestGrantable(t *testing.T) {
	t.Parallel()
	c := testPolicy()
	c.MaxLifetime = 90 * 24 * time.Hour
	c.MaxLifetimeFor = map[string]time.Duration{"files:delete": 7 * 24 * time.Hour}
	f := newFixture(t, keycaptest.WithPolicy(c), keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))

	type grantable struct {
		Permissions            policy.Permissions `json:"permissions"`
		Known                  policy.Permissions `json:"known"`
		AllowClientPermissions bool               `json:"allow_client_permissions"`
		MaxLifetimeSeconds     int64              `json:"max_lifetime_seconds"`
	}
	get := func(c *keycaptest.Client) grantable {
		resp := c.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil)
		keycaptest.RequireCode(t, resp, "")
		var g grantable
		resp.JSON(t, &g)
		return g
	}
	known := policy.Union(viewerRole, memberRole, ownerRole, adminRole)

	assert.Equal(t, grantable{memberRole, known, true, 90 * 24 * 3600}, get(f.alice))
	assert.Equal(t, grantable{ownerRole, known, true, 7 * 24 * 3600}, get(f.bob), "delete shortens the lifetime")
	assert.Equal(t, grantable{policy.Permissions{"files": {"read", "write"}}, known, true, 90 * 24 * 3600}, get(f.keyClient(t, f.aliceKey.Key)),
		"a key may grant only what it holds")

	f.srv.Users.Set("alice", "viewer")
	assert.Equal(t, viewerRole, get(f.alice).Permissions, "the cap is the current one")
	assert.Equal(t, policy.Permissions{"files": {"read"}}, get(f.keyClient(t, f.aliceKey.Key)).Permissions)

	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPost, "/api-keys/grantable", nil), keycap.CodeMethodNotAllowed)
	keycaptest.RequireCode(t, f.anon.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil), keycap.CodeUnauthenticated)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withLifetime(30*24*time.Hour))
	created := f.alice.CreateKey(t, "/api-keys", "original", policy.Permissions{"files": {"read", "write"}})
	path := "/api-keys/" + created.ID
	key := f.keyClient(t, created.Key)
	patch := func(body map[string]any) keyBody {
		t.Helper()
		resp := f.alice.DoJSON(t, http.MethodPatch, path, body)
		keycaptest.RequireCode(t, resp, "")
		var k keyBody
		resp.JSON(t, &k)
		assert.Empty(t, k.Key, "an update never shows the key")
		return k
	}

	assert.Equal(t, "renamed", patch(map[string]any{"name": " renamed "}).Name)

	// Lowering permissions takes effect at once.
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")
	k := patch(map[string]any{"permissions": map[string][]string{"files": {"read"}}})
	assert.Equal(t, policy.Permissions{"files": {"read"}}, k.Permissions)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), keycap.CodeInsufficientPermissions)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), "")
	// Raising again within the cap is allowed: the owner may grant it.
	assert.Equal(t, memberRole, patch(map[string]any{"permissions": memberRole}).Permissions)

	// expires_in: from now, within the maximum counted from creation.
	k = patch(map[string]any{"expires_in": 3600})
	require.NotNil(t, k.ExpiresAt)
	assert.WithinDuration(t, f.clock.Now().Add(time.Hour), *k.ExpiresAt, time.Second)
	k = patch(map[string]any{"expires_in": 30 * 24 * 3600})
	assert.WithinDuration(t, f.clock.Now().Add(30*24*time.Hour), *k.ExpiresAt, time.Second)

	// disabled: the key stops, and comes back.
	k = patch(map[string]any{"disabled": true})
	assert.Equal(t, "disabled", k.Status)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	assert.Equal(t, "disabled", patch(map[string]any{"disabled": true}).Status, "idempotent")
	k = patch(map[string]any{"disabled": false, "name": "back"})
	assert.Equal(t, "active", k.Status)
	assert.Equal(t, "back", k.Name)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), "")

	// Every field at once.
	k = patch(map[string]any{"name": "all", "permissions": map[string][]string{"projects": {"read"}}, "expires_in": 60, "disabled": true})
	assert.Equal(t, "all", k.Name)
	assert.Equal(t, policy.Permissions{"projects": {"read"}}, k.Permissions)
	assert.Equal(t, "disabled", k.Status)
	assert.WithinDuration(t, f.clock.Now().Add(time.Minute), *k.ExpiresAt, time.Second)

	// Other refusals.
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPatch, path, map[string]any{"name": ""}), keycap.CodeInvalidField)
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPatch, path, nil), keycap.CodeInvalidBody)
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPatch, "/api-keys/0000000000000000", map[string]any{"name": "x"}), keycap.CodeKeyNotFound)
}

func TestRotate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.keyClient(t, f.aliceKey.Key)

	// With a grace period, both secrets work until it ends.
	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", map[string]any{"grace_seconds": 60})
	keycaptest.RequireCode(t, resp, "")
	var rotated keyBody
	resp.JSON(t, &rotated)
	require.NotEmpty(t, rotated.Key)
	assert.NotEqual(t, f.aliceKey.Key, rotated.Key)
	assert.Equal(t, f.aliceKey.ID, rotated.ID, "the key keeps its id")
	assert.Equal(t, f.aliceKey.Permissions, rotated.Permissions)
	require.NotNil(t, rotated.PreviousExpiresAt)
	assert.WithinDuration(t, f.clock.Now().Add(time.Minute), *rotated.PreviousExpiresAt, time.Second)

	current := f.keyClient(t, rotated.Key)
	keycaptest.RequireCode(t, current.DoJSON(t, http.MethodGet, "/api/files", nil), "")
	keycaptest.RequireCode(t, old.DoJSON(t, http.MethodGet, "/api/files", nil), "")
	f.clock.Advance(time.Minute)
	keycaptest.RequireCode(t, old.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	keycaptest.RequireCode(t, current.DoJSON(t, http.MethodGet, "/api/files", nil), "")

	// Without one, the old secret stops at once.
	resp = f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", nil)
	keycaptest.RequireCode(t, resp, "")
	var again keyBody
	resp.JSON(t, &again)
	assert.Nil(t, again.PreviousExpiresAt)
	keycaptest.RequireCode(t, current.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	keycaptest.RequireCode(t, f.keyClient(t, again.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "")

	// A rotation cuts the key to the owner's current cap.
	f.srv.Users.Set("alice", "viewer")
	resp = f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", map[string]any{"grace_seconds": 0})
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &again)
	assert.Equal(t, policy.Permissions{"files": {"read"}}, again.Permissions)

	// Nothing left to grant: refused, nothing written.
	only := f.mint(t, "bob", policy.Permissions{"billing": {"read"}}, 0)
	f.srv.Users.Set("bob", "viewer")
	writes := f.store.writes()
	resp = f.bob.DoJSON(t, http.MethodPost, "/api-keys/"+only.ID+"/rotate", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeInvalidPermissions)
	assert.Equal(t, writes, f.store.writes())
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", map[string]any{"grace_seconds": -1}), keycap.CodeInvalidBody)
}

func TestAdmin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AdminPermission = "keys:admin" }))
	aliceKey := f.keyClient(t, f.aliceKey.Key)
	q := "?owner=alice"

	// List and read another user's keys.
	resp := f.root.DoJSON(t, http.MethodGet, "/api-keys"+q, nil)
	keycaptest.RequireCode(t, resp, "")
	var list listBody
	resp.JSON(t, &list)
	assert.Equal(t, []string{f.aliceKey.ID}, ids(list.Keys))
	keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodGet, "/api-keys/"+f.aliceKey.ID+q, nil), "")
	// Without ?owner= an admin sees only their own keys.
	keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodGet, "/api-keys/"+f.aliceKey.ID, nil), keycap.CodeKeyNotFound)

	// Disable and enable.
	resp = f.root.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID+q, map[string]any{"disabled": true})
	keycaptest.RequireCode(t, resp, "")
	var k keyBody
	resp.JSON(t, &k)
	assert.Equal(t, "disabled", k.Status)
	keycaptest.RequireCode(t, aliceKey.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	// The admin's disable holds against the owner.
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, map[string]any{"disabled": false}), keycap.CodeForbidden)
	keycaptest.RequireCode(t, aliceKey.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)
	keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID+q, map[string]any{"disabled": false}), "")
	keycaptest.RequireCode(t, aliceKey.DoJSON(t, http.MethodGet, "/api/files", nil), "")

	// Revoke, with the admin on the record.
	resp = f.root.DoJSON(t, http.MethodDelete, "/api-keys/"+f.aliceKey.ID+q, map[string]any{"reason": "offboarding"})
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &k)
	assert.Equal(t, "revoked", k.Status)
	assert.Equal(t, "root", k.RevokedBy)
	assert.Equal(t, "offboarding", k.RevokedReason)
	keycaptest.RequireCode(t, aliceKey.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeKeyInvalid)

	// ?owner= naming oneself is one's own keys, admin or not.
	keycaptest.RequireCode(t, f.bob.DoJSON(t, http.MethodGet, "/api-keys?owner=bob", nil), "")
	keycaptest.RequireCode(t, f.bob.DoJSON(t, http.MethodPost, "/api-keys?owner=bob", map[string]any{"name": "x", "permissions": map[string][]string{"files": {"read"}}}), "")

	// Losing the role loses the power at once.
	f.srv.Users.Set("root", "viewer")
	keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodGet, "/api-keys"+q, nil), keycap.CodeForbidden)
}

func TestKeysRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.aliceKey.ID
	tests := []struct {
		method, path string
		want         keycap.Code
		allow        string
	}{
		{http.MethodDelete, "/api-keys", keycap.CodeMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodPut, "/api-keys/", keycap.CodeMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodDelete, "/api-keys/grantable", keycap.CodeMethodNotAllowed, "GET, HEAD"},
		{http.MethodPost, "/api-keys/" + id, keycap.CodeMethodNotAllowed, "DELETE, GET, HEAD, PATCH"},
		{http.MethodGet, "/api-keys/" + id + "/rotate", keycap.CodeMethodNotAllowed, "POST"},
		{http.MethodGet, "/api-keys/" + id + "/other", keycap.CodeNotFound, ""},
		{http.MethodGet, "/api-keys/" + id + "/rotate/x", keycap.CodeNotFound, ""},
		{http.MethodGet, "/api-keys/" + id + "/", "", ""},
		{http.MethodGet, "/api-keys/unknown", keycap.CodeKeyNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			resp := f.alice.DoJSON(t, tt.method, tt.path, nil)
			keycaptest.RequireCode(t, resp, tt.want)
			assert.Equal(t, tt.allow, resp.Header.Get("Allow"))
		})
	}

	// Mounted where it also gets other paths, the handler answers 404 to them.
	server := httptest.NewServer(f.srv.Sessions.LoadAndSave(f.srv.Keycap.KeysHandler()))
	t.Cleanup(server.Close)
	alice := keycaptest.NewClient(t, server.URL).AddCookie(t, keycaptest.SessionCookie(t, f.srv.Sessions, keycaptest.SessionKey, "alice"))
	for _, path := range []string{"/", "/api-keys-extra", "/api", "/other/api-keys"} {
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, path, nil), keycap.CodeNotFound)
	}
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api-keys", nil), "")
}

func TestCustomPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.Path = "/settings/keys/" }))
	resp := f.alice.DoJSON(t, http.MethodPost, "/settings/keys", map[string]any{"name": "x", "permissions": map[string][]string{"files": {"read"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k keyBody
	resp.JSON(t, &k)
	assert.Equal(t, "/settings/keys/"+k.ID, resp.Header.Get("Location"))
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodGet, "/settings/keys/"+k.ID, nil), "")
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodGet, "/settings/keys/grantable", nil), "")
	assert.Equal(t, http.StatusNotFound, f.alice.WithHeader(openapicheck.SkipHeader, "the app's own 404").DoJSON(t, http.MethodGet, "/api-keys", nil).StatusCode)

	// The OpenAPI document describes the routes where they are.
	resp = f.anon.Get(t, "/settings/keys/openapi.json")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, f.srv.Keycap.OpenAPI(), resp.Body)
	var doc struct{ Paths map[string]any }
	resp.JSON(t, &doc)
	assert.Contains(t, doc.Paths, "/settings/keys/{id}/rotate")
	assert.Contains(t, doc.Paths, "/settings/keys")
	assert.NotContains(t, string(resp.Body), `"/api-keys`)
	_, err := openapicheck.New(resp.Body, "/settings/keys")
	assert.NoError(t, err, "a valid OpenAPI 3.1 document")
}

func TestDelegation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	expiring := f.mint(t, "alice", policy.Permissions{"files": {"read", "write"}}, time.Hour)
	caller := f.keyClient(t, expiring.Key)

	// Within the calling key: created, owned by the same user, no later expiry.
	resp := caller.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "child", "permissions": map[string][]string{"files": {"read"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var child keyBody
	resp.JSON(t, &child)
	assert.Equal(t, "alice", child.OwnerID)
	assert.Equal(t, "key:"+expiring.ID, child.CreatedBy)
	require.NotNil(t, child.ExpiresAt, "the default lifetime is cut to the caller's")
	assert.WithinDuration(t, f.clock.Now().Add(time.Hour), *child.ExpiresAt, time.Second)
	keycaptest.RequireCode(t, f.keyClient(t, child.Key).DoJSON(t, http.MethodGet, "/api/files", nil), "")

	resp = caller.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "shorter", "permissions": map[string][]string{"files": {"write"}}, "expires_in": 60})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)

	// Managing keys, within the caller.
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodGet, "/api-keys", nil), "")
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodPatch, "/api-keys/"+child.ID, map[string]any{"name": "renamed"}), "")
	// A key may rotate a key that expires no later than itself, and itself.
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodPost, "/api-keys/"+child.ID+"/rotate", nil), "")
	resp = caller.DoJSON(t, http.MethodPost, "/api-keys/"+expiring.ID+"/rotate", map[string]any{"grace_seconds": 5})
	keycaptest.RequireCode(t, resp, "")
	var self keyBody
	resp.JSON(t, &self)
	keycaptest.RequireCode(t, f.keyClient(t, self.Key).DoJSON(t, http.MethodDelete, "/api-keys/"+child.ID, nil), "")
	// The old secret, in its grace period, still calls the API but no
	// longer manages keys: a leaked old secret cannot lock the new one out.
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodGet, "/api/files", nil), "")
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodPost, "/api-keys/"+expiring.ID+"/rotate", map[string]any{"grace_seconds": 0}),
		keycap.CodeDelegationNotAllowed)
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "late"}), keycap.CodeDelegationNotAllowed)
	caller = f.keyClient(t, self.Key)

	// A key reaches only itself and the keys it created: re-enabling its own
	// child works; the owner's other keys answer 404 like another user's,
	// whatever the request would do to them.
	resp = caller.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "narrow", "permissions": map[string][]string{"files": {"read"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var narrow keyBody
	resp.JSON(t, &narrow)
	for _, id := range []string{narrow.ID, f.aliceKey.ID} {
		_, err := f.srv.Manager.Update(t.Context(), keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: id}, Disabled: ptr(true)})
		require.NoError(t, err)
	}
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodPatch, "/api-keys/"+narrow.ID, map[string]any{"disabled": false}), "")
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, map[string]any{"disabled": false}), keycap.CodeKeyNotFound)
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodGet, "/api-keys/"+f.aliceKey.ID, nil), keycap.CodeKeyNotFound)
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodDelete, "/api-keys/"+f.aliceKey.ID, nil), keycap.CodeKeyNotFound)
	keycaptest.RequireCode(t, caller.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", nil), keycap.CodeKeyNotFound)
	resp = caller.DoJSON(t, http.MethodGet, "/api-keys", nil)
	keycaptest.RequireCode(t, resp, "")
	var listed struct{ Keys []keyBody }
	resp.JSON(t, &listed)
	var ids []string
	for _, k := range listed.Keys {
		ids = append(ids, k.ID)
	}
	assert.Subset(t, ids, []string{narrow.ID, expiring.ID, child.ID}, "the caller and its descendants")
	assert.NotContains(t, ids, f.aliceKey.ID, "the owner's other keys are out of the caller's reach")
	assert.Len(t, ids, 4, "itself, child, shorter and narrow")

	// A never-expiring key delegates without an expiry bound.
	resp = f.keyClient(t, f.bobKey.Key).DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "forever", "permissions": map[string][]string{"files": {"read"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	resp.JSON(t, &child)
	assert.Nil(t, child.ExpiresAt)
}
