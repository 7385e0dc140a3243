package middleware_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// An organization admin creates a key of the organization: it acts for
// the organization, within its cap, and the record says who made it.
func TestOrgKeyCreatedByAdmin(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	resp := f.bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", createBody(`{"files": ["read", "write"]}`))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k keyBody
	resp.JSON(t, &k)
	assert.Equal(t, "org:acme", k.OwnerID)
	assert.Equal(t, "bob", k.CreatedBy)
	assert.Equal(t, "/api-keys/"+k.ID, resp.Header.Get("Location"))

	who, p := f.whoami(t, k.Key)
	require.Equal(t, http.StatusOK, who.StatusCode, "%s", who.Body)
	assert.Equal(t, "org:acme", p.OwnerID)
	assert.True(t, p.Organization)
	assert.Equal(t, policy.Permissions{"files": {"read", "write"}}, p.Permissions)

	// Listed under the organization, not under bob.
	var orgList, own listBody
	f.bob.Get(t, "/api-keys?owner=org:acme").JSON(t, &orgList)
	f.bob.Get(t, "/api-keys").JSON(t, &own)
	assert.Equal(t, []string{k.ID}, ids(orgList.Keys))
	assert.NotContains(t, ids(own.Keys), k.ID)

	// What bob may grant for Acme: its cap within his rights in it.
	var g struct {
		Permissions policy.Permissions `json:"permissions"`
	}
	f.bob.Get(t, "/api-keys/grantable?owner=org:acme").JSON(t, &g)
	assert.Equal(t, policy.Permissions{"files": {"read", "write"}, "projects": {"read"}}, g.Permissions)
	g.Permissions = nil
	f.carol.Get(t, "/api-keys/grantable?owner=org:acme").JSON(t, &g)
	assert.Equal(t, policy.Permissions{"files": {"read"}}, g.Permissions)
}

// Each bound of an organization key's permissions is named in the refusal.
func TestOrgKeyBounds(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	for _, tt := range []struct {
		name   string
		client func() *keycaptest.Client
		perms  string
		bounds []string
	}{
		{"beyond the organization's cap", func() *keycaptest.Client { return f.bob }, `{"files": ["delete"]}`, []string{"organization"}},
		{"beyond the member's rights", func() *keycaptest.Client { return f.carol }, `{"files": ["write"]}`, []string{"user"}},
		{"beyond both", func() *keycaptest.Client { return f.carol }, `{"billing": ["read"]}`, []string{"organization", "user"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			writes := f.store.writes()
			resp := tt.client().DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", createBody(tt.perms))
			keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
			d := details[keycap.ExceedsMaximumDetails](t, resp)
			assert.Equal(t, tt.bounds, d.Bounds)
			assert.Equal(t, writes, f.store.writes(), "nothing written")
		})
	}
	// On PATCH too.
	k := f.acmeKey(t, `{"files": ["read"]}`)
	resp := f.carol.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"permissions": map[string][]string{"files": {"read", "write"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	assert.Equal(t, []string{"user"}, details[keycap.ExceedsMaximumDetails](t, resp).Bounds)
	resp = f.bob.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"permissions": map[string][]string{"files": {"delete"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	assert.Equal(t, []string{"organization"}, details[keycap.ExceedsMaximumDetails](t, resp).Bounds)
}

// A plain member may not manage the organization's keys (403 naming the
// permission); a non-member is refused like for any other owner, whether
// the organization exists or not.
func TestOrgKeyRefusedToMembersAndOthers(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	k := f.acmeKey(t, `{"files": ["read"]}`)
	writes := f.store.writes()
	for _, do := range []func() *keycaptest.Response{
		func() *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", createBody(`{"files": ["read"]}`))
		},
		func() *keycaptest.Response { return f.alice.Get(t, "/api-keys?owner=org:acme") },
		func() *keycaptest.Response { return f.alice.Get(t, "/api-keys/"+k.ID+"?owner=org:acme") },
		func() *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID+"?owner=org:acme", nil)
		},
	} {
		resp := do()
		keycaptest.RequireCode(t, resp, keycap.CodeCannotManageKeys)
		assert.Equal(t, keycap.ManageKeysDetails{Owner: "org:acme", Permission: "keys:manage"}, details[keycap.ManageKeysDetails](t, resp))
	}
	for _, owner := range []string{"org:acme", "org:nowhere", "alice"} {
		keycaptest.RequireCode(t, f.root.Get(t, "/api-keys?owner="+owner), keycap.CodeForbidden)
		keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodPost, "/api-keys?owner="+owner, createBody(`{"files": ["read"]}`)), keycap.CodeForbidden)
	}
	// The organization's own key may not name another owner either.
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).Get(t, "/api-keys?owner=bob"), keycap.CodeDelegationNotAllowed)
	assert.Equal(t, writes, f.store.writes())
}

// Another organization's key answers 404 through one's own organization,
// whatever the route.
func TestOrgKeyOfAnotherOrgIsNotFound(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	id := f.globex.ID
	writes := f.store.writes()
	for _, resp := range []*keycaptest.Response{
		f.bob.Get(t, "/api-keys/"+id+"?owner=org:acme"),
		f.bob.DoJSON(t, http.MethodPatch, "/api-keys/"+id+"?owner=org:acme", map[string]any{"name": "mine"}),
		f.bob.DoJSON(t, http.MethodDelete, "/api-keys/"+id+"?owner=org:acme", nil),
		f.bob.DoJSON(t, http.MethodPost, "/api-keys/"+id+"/rotate?owner=org:acme", nil),
		f.bob.Get(t, "/api-keys/"+id),
	} {
		keycaptest.RequireCode(t, resp, keycap.CodeKeyNotFound)
	}
	var list listBody
	f.bob.Get(t, "/api-keys?owner=org:acme").JSON(t, &list)
	assert.NotContains(t, ids(list.Keys), id)
	assert.Equal(t, writes, f.store.writes())
}

// The key keeps working when the member who made it is demoted, removed
// from the organization and deleted; the demoted member can no longer
// manage it.
func TestOrgKeySurvivesCreator(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	k := f.acmeKey(t, `{"files": ["read", "write"]}`)

	f.members.Set("org:acme", "bob", acmeAlice) // demoted: no keys:manage
	resp, p := f.whoami(t, k.Key)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Equal(t, policy.Permissions{"files": {"read", "write"}}, p.Permissions)
	keycaptest.RequireCode(t, f.bob.Get(t, "/api-keys?owner=org:acme"), keycap.CodeCannotManageKeys)
	keycaptest.RequireCode(t, f.bob.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID+"?owner=org:acme", nil), keycap.CodeCannotManageKeys)

	f.members.Remove("org:acme", "bob")
	f.srv.Users.Delete("bob")
	resp, p = f.whoami(t, k.Key)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Equal(t, policy.Permissions{"files": {"read", "write"}}, p.Permissions)

	// Another admin of the organization takes over, and the record says
	// who created and who changed it.
	f.members.Set("org:acme", "carol", policy.Union(acmeCarol, policy.Permissions{"files": {"write"}}))
	resp = f.carol.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"name": "ci"})
	keycaptest.RequireCode(t, resp, "")
	var rec keyBody
	resp.JSON(t, &rec)
	assert.Equal(t, "bob", rec.CreatedBy)
	assert.Equal(t, "carol", rec.ChangedBy)
}

// Shrinking the organization's cap narrows its keys at the next request;
// disabling or removing it stops them, and its keys can no longer be made.
func TestOrgKeyFollowsTheOrganization(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	k := f.acmeKey(t, `{"files": ["read", "write"]}`)
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).DoJSON(t, http.MethodPost, "/api/files", nil), "")

	f.srv.Users.Put(policy.Subject{ID: "org:acme", Roles: []string{"viewer"}, Organization: true}) // files:read, projects:read
	_, p := f.whoami(t, k.Key)
	assert.Equal(t, policy.Permissions{"files": {"read"}}, p.Permissions)
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).DoJSON(t, http.MethodPost, "/api/files", nil), keycap.CodeInsufficientPermissions)

	f.srv.Users.Disable("org:acme", true)
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).Get(t, "/api/files"), keycap.CodeKeyInvalid)
	writes := f.store.writes()
	keycaptest.RequireCode(t, f.bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", createBody(`{"files": ["read"]}`)), keycap.CodeSubjectDisabled)
	assert.Equal(t, writes, f.store.writes())

	f.srv.Users.Disable("org:acme", false)
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).Get(t, "/api/files"), "")
	f.srv.Users.Delete("org:acme")
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).Get(t, "/api/files"), keycap.CodeKeyInvalid)
	keycaptest.RequireCode(t, f.bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", createBody(`{"files": ["read"]}`)), keycap.CodeForbidden)
}

// Rotation and revocation by a member: the new secret never acts beyond
// the member's own rights; the record keeps who revoked it.
func TestOrgKeyRotateAndRevoke(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	k := f.acmeKey(t, `{"files": ["read", "write"]}`)
	writes := f.store.writes()
	resp := f.carol.DoJSON(t, http.MethodPost, "/api-keys/"+k.ID+"/rotate?owner=org:acme", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	assert.Equal(t, []string{"user"}, details[keycap.ExceedsMaximumDetails](t, resp).Bounds)
	assert.Equal(t, writes, f.store.writes())

	resp = f.bob.DoJSON(t, http.MethodPost, "/api-keys/"+k.ID+"/rotate?owner=org:acme", nil)
	keycaptest.RequireCode(t, resp, "")
	var rotated keyBody
	resp.JSON(t, &rotated)
	keycaptest.RequireCode(t, f.keyClient(t, rotated.Key).Get(t, "/api/files"), "")

	resp = f.carol.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"reason": "leaving"})
	keycaptest.RequireCode(t, resp, "")
	var revoked keyBody
	resp.JSON(t, &revoked)
	assert.Equal(t, "carol", revoked.RevokedBy)
	assert.Equal(t, "carol", revoked.ChangedBy)
	keycaptest.RequireCode(t, f.keyClient(t, rotated.Key).Get(t, "/api/files"), keycap.CodeKeyInvalid)
}

// The admin view works on organizations' keys as on users': list and
// disable, not create; a disable by the admin holds against the
// organization's managers.
func TestOrgKeyAdminView(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AdminPermission = "keys:admin" }))
	k := f.acmeKey(t, `{"files": ["read"]}`)
	var list listBody
	f.root.Get(t, "/api-keys?owner=org:acme").JSON(t, &list)
	assert.Equal(t, []string{k.ID}, ids(list.Keys))
	keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", createBody(`{"files": ["read"]}`)), keycap.CodeForbidden)
	keycaptest.RequireCode(t, f.root.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"disabled": true}), "")
	keycaptest.RequireCode(t, f.bob.DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"disabled": false}), keycap.CodeForbidden)
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).Get(t, "/api/files"), keycap.CodeKeyInvalid)
}

// Cross-origin requests are refused on organizations' keys as on one's own.
func TestOrgKeyCSRF(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t)
	k := f.acmeKey(t, `{"files": ["read"]}`)
	writes := f.store.writes()
	evil := f.bob.WithHeader("Origin", "https://evil.example")
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", createBody(`{"files": ["read"]}`)), keycap.CodeCSRF)
	keycaptest.RequireCode(t, evil.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID+"?owner=org:acme", nil), keycap.CodeCSRF)
	keycaptest.RequireCode(t, f.bob.WithHeader("Sec-Fetch-Site", "cross-site").DoJSON(t, http.MethodPatch, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"name": "x"}), keycap.CodeCSRF)
	assert.Equal(t, writes, f.store.writes())
}

// The organization's own keys manage its keys by delegation, within
// themselves, with no ?owner=.
func TestOrgKeyDelegation(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	k := f.acmeKey(t, `{"files": ["read", "write"]}`)
	resp := f.keyClient(t, k.Key).DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
	keycaptest.RequireCode(t, resp, "")
	var child keyBody
	resp.JSON(t, &child)
	assert.Equal(t, "org:acme", child.OwnerID)
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"projects": ["read"]}`)), keycap.CodeExceedsMaximum)
}

// A disabled organization's keys may not be created or changed by its
// members (SUBJECT_DISABLED), but the app's admin, who is not a member,
// may still stop one: stopping a key only takes access away.
func TestOrgKeyStoppedByAdminWhileDisabled(t *testing.T) {
	t.Parallel()
	f := newOrgFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AdminPermission = "keys:admin" }))
	k := f.acmeKey(t, `{"files": ["read"]}`)
	f.srv.Users.Disable("org:acme", true)
	keycaptest.RequireCode(t, f.bob.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID+"?owner=org:acme", nil), keycap.CodeSubjectDisabled)

	resp := f.root.DoJSON(t, http.MethodDelete, "/api-keys/"+k.ID+"?owner=org:acme", map[string]any{"reason": "org closed"})
	keycaptest.RequireCode(t, resp, "")
	var revoked struct {
		Status    string `json:"status"`
		RevokedBy string `json:"revoked_by"`
	}
	resp.JSON(t, &revoked)
	assert.Equal(t, "revoked", revoked.Status)
	assert.Equal(t, "root", revoked.RevokedBy)
	f.srv.Users.Disable("org:acme", false)
	keycaptest.RequireCode(t, f.keyClient(t, k.Key).Get(t, "/api/files"), keycap.CodeKeyInvalid)
}
