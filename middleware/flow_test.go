package middleware_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/policy"
)

// TestCreateUseRevoke walks the whole life of a key through real HTTP: a
// logged-in user asks what they may grant, creates a key, uses it on
// guarded routes, finds it in the list and revokes it.
func TestCreateUseRevoke(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	// What may alice grant?
	resp := f.alice.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil)
	keycaptest.RequireCode(t, resp, "")
	var grantable struct {
		Permissions            policy.Permissions `json:"permissions"`
		Known                  policy.Permissions `json:"known"`
		AllowClientPermissions bool               `json:"allow_client_permissions"`
	}
	resp.JSON(t, &grantable)
	assert.Equal(t, memberRole, grantable.Permissions)
	assert.Equal(t, policy.Union(viewerRole, memberRole, ownerRole, adminRole), grantable.Known)
	assert.True(t, grantable.AllowClientPermissions)

	// Create: 201, the key shown once, a Location, no hash in the body.
	resp = f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{
		"name": "  deploy bot  ", "permissions": map[string][]string{"files": {"read", "read"}},
	})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var created keyBody
	resp.JSON(t, &created)
	require.NotEmpty(t, created.Key)
	assert.Regexp(t, "^"+f.srv.Manager.Pattern().String()+"$", created.Key, "the key is well-formed")
	assert.Equal(t, "/api-keys/"+created.ID, resp.Header.Get("Location"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "deploy bot", created.Name, "the name is trimmed")
	assert.Equal(t, policy.Permissions{"files": {"read"}}, created.Permissions, "normalized")
	assert.Equal(t, "alice", created.OwnerID)
	assert.Equal(t, "alice", created.CreatedBy)
	assert.Equal(t, "active", created.Status)
	assert.True(t, strings.HasPrefix(created.Hint, "kc_"+created.ID+"_"), "hint %q", created.Hint)
	assert.NotContains(t, string(resp.Body), `"hash"`)
	assert.NotContains(t, created.Hint, created.Key[len(created.Key)-20:], "the hint shows only the last characters")

	// Use: the key opens what it holds and nothing else.
	key := f.keyClient(t, created.Key)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files", nil), "")
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/files/7", nil), "")
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), keycap.CodeInsufficientPermissions)
	var me principalJSON
	resp = key.DoJSON(t, http.MethodGet, "/api/me", nil)
	resp.JSON(t, &me)
	assert.Equal(t, principalJSON{Kind: "key", KeyID: created.ID, OwnerID: "alice", Permissions: policy.Permissions{"files": {"read"}}}, me)

	// Listed and readable, never with the key itself.
	resp = f.alice.DoJSON(t, http.MethodGet, "/api-keys", nil)
	keycaptest.RequireCode(t, resp, "")
	var list listBody
	resp.JSON(t, &list)
	// Both were made in the same (fake) millisecond: ids, and so the order,
	// are time-ordered only to the millisecond.
	assert.ElementsMatch(t, []string{created.ID, f.aliceKey.ID}, ids(list.Keys), "only alice's")
	assert.True(t, sortedDesc(ids(list.Keys)), "by id, descending")
	assert.NotContains(t, string(resp.Body), created.Key)
	assert.NotContains(t, string(resp.Body), `"key":`)
	resp = f.alice.DoJSON(t, http.MethodGet, "/api-keys/"+created.ID, nil)
	keycaptest.RequireCode(t, resp, "")
	assert.NotContains(t, string(resp.Body), created.Key)

	// Revoke: the record stays, the key stops at once.
	resp = f.alice.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID, map[string]string{"reason": "leaked in a log"})
	keycaptest.RequireCode(t, resp, "")
	var revoked keyBody
	resp.JSON(t, &revoked)
	assert.Equal(t, "revoked", revoked.Status)
	assert.Equal(t, "alice", revoked.RevokedBy)
	assert.Equal(t, "leaked in a log", revoked.RevokedReason)
	require.NotNil(t, revoked.RevokedAt)

	resp = key.DoJSON(t, http.MethodGet, "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeKeyInvalid)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
	assert.NotContains(t, string(resp.Body), created.Key, "a refusal never echoes the key")

	// A revoked key cannot be changed; revoking again answers the record.
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+created.ID, map[string]any{"name": "again"}), keycap.CodeKeyRevoked)
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+created.ID, map[string]any{"disabled": false}), keycap.CodeKeyRevoked)
	keycaptest.RequireCode(t, f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+created.ID+"/rotate", nil), keycap.CodeKeyRevoked)
	resp = f.alice.DoJSON(t, http.MethodDelete, "/api-keys/"+created.ID, nil)
	keycaptest.RequireCode(t, resp, "")
	resp.JSON(t, &revoked)
	assert.Equal(t, "leaked in a log", revoked.RevokedReason, "the first revocation is kept")

	// Alice's other key is untouched.
	keycaptest.RequireCode(t, f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api/files", map[string]any{}), "")
}

// TestCreateDefaults covers a create that names no permissions: the
// policy's default, cut to the cap.
func TestCreateDefaults(t *testing.T) {
	t.Parallel()
	c := testPolicy()
	c.Default = policy.Permissions{"files": {"read", "delete"}}
	f := newFixture(t, keycaptest.WithPolicy(c))

	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "default"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k keyBody
	resp.JSON(t, &k)
	assert.Equal(t, policy.Permissions{"files": {"read"}}, k.Permissions, "the default is cut to alice's cap")

	// Carol's cap shares nothing with a default of {"billing": ["read"]}.
	c.Default = policy.Permissions{"billing": {"read"}}
	f = newFixture(t, keycaptest.WithPolicy(c))
	resp = f.carol.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "default"})
	keycaptest.RequireCode(t, resp, keycap.CodeInvalidPermissions)
	assert.Equal(t, "permissions", details[keycap.InvalidPermissionsDetails](t, resp).Path)
}

// TestClientPermissionsNotAllowed covers a policy where the app, not the
// client, decides what keys hold.
func TestClientPermissionsNotAllowed(t *testing.T) {
	t.Parallel()
	srv := keycaptest.NewApp(t, keycaptest.WithPolicy(policy.Config{
		Roles:   map[string]policy.Permissions{"member": memberRole},
		Default: policy.Permissions{"files": {"read"}},
	}), keycaptest.WithUser("alice", "member"))
	alice := srv.LogIn(t, "alice")
	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "x", "permissions": map[string][]string{"files": {"read"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeInvalidPermissions)
	assert.Equal(t, "permissions", details[keycap.InvalidPermissionsDetails](t, resp).Path)

	k := alice.CreateKey(t, "/api-keys", "app decides", nil)
	assert.Equal(t, policy.Permissions{"files": {"read"}}, k.Permissions)
}
