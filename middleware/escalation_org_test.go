package middleware_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// orgEscalation is an attempt to get more than the caller may have through
// an organization's keys. Every attempt is refused with its code (and
// details, where check says), and writes nothing.
type orgEscalation struct {
	name   string
	opts   []keycaptest.AppOption
	before func(t *testing.T, f *orgFixture) // changes the directory before the attempt
	do     func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response
	code   keycap.Code
	bounds []string // for PERMISSIONS_EXCEED_MAXIMUM: the bounds named
}

func TestOrgEscalation(t *testing.T) {
	t.Parallel()
	for _, tt := range orgEscalations() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newOrgFixture(t, tt.opts...)
			acme := f.acmeKey(t, `{"files": ["read"]}`)
			if tt.before != nil {
				tt.before(t, f)
			}
			writes, before := f.store.writes(), f.store.snapshot(t, f.owners...)

			resp := tt.do(t, f, acme)

			keycaptest.RequireCode(t, resp, tt.code)
			if tt.code == keycap.CodeExceedsMaximum {
				assert.Equal(t, tt.bounds, details[keycap.ExceedsMaximumDetails](t, resp).Bounds)
			}
			if tt.code == keycap.CodeCannotManageKeys {
				assert.Equal(t, keycap.ManageKeysDetails{Owner: "org:acme", Permission: "keys:manage"}, details[keycap.ManageKeysDetails](t, resp))
			}
			assert.Equal(t, writes, f.store.writes(), "a refusal must not write to the store")
			assert.Equal(t, before, f.store.snapshot(t, f.owners...), "a refusal must leave every record as it was")
		})
	}
}

// TestOrgEscalationCount keeps the table honest.
func TestOrgEscalationCount(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, tt := range orgEscalations() {
		require.False(t, names[tt.name], "duplicate case %q", tt.name)
		require.NotEmpty(t, tt.code, "case %q must be refused", tt.name)
		names[tt.name] = true
	}
	require.GreaterOrEqual(t, len(names), 30)
}

type orgDo = func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response

// as sends method path body as the client who picks from f.
func as(who func(f *orgFixture) *keycaptest.Client, method, path string, body any) orgDo {
	return func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response {
		return who(f).DoJSON(t, method, expand(path, f, acme), body)
	}
}

// expand replaces {acme} and {globex} in path by the keys' ids.
func expand(path string, f *orgFixture, acme keycaptest.CreatedKey) string {
	out := []byte{}
	for i := 0; i < len(path); i++ {
		switch {
		case len(path[i:]) >= 6 && path[i:i+6] == "{acme}":
			out, i = append(out, acme.ID...), i+5
		case len(path[i:]) >= 8 && path[i:i+8] == "{globex}":
			out, i = append(out, f.globex.ID...), i+7
		default:
			out = append(out, path[i])
		}
	}
	return string(out)
}

func bob(f *orgFixture) *keycaptest.Client   { return f.bob }
func carol(f *orgFixture) *keycaptest.Client { return f.carol }
func alice(f *orgFixture) *keycaptest.Client { return f.alice }
func root(f *orgFixture) *keycaptest.Client  { return f.root }

func perms(p string) []byte { return createBody(p) }

func patchPerms(p policy.Permissions) map[string]any { return map[string]any{"permissions": p} }

func orgEscalations() []orgEscalation {
	const acmeKeys = "/api-keys?owner=org:acme"
	admin := keycaptest.WithMiddleware(func(o *middleware.Options) { o.AdminPermission = "keys:admin" })
	delegation := keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true })
	return []orgEscalation{
		// Beyond the bounds at creation.
		{name: "create/beyond the organization's cap", do: as(bob, "POST", acmeKeys, perms(`{"files": ["delete"]}`)), code: keycap.CodeExceedsMaximum, bounds: []string{"organization"}},
		{name: "create/beyond the member's rights", do: as(carol, "POST", acmeKeys, perms(`{"files": ["write"]}`)), code: keycap.CodeExceedsMaximum, bounds: []string{"user"}},
		{name: "create/beyond both", do: as(carol, "POST", acmeKeys, perms(`{"billing": ["read"]}`)), code: keycap.CodeExceedsMaximum, bounds: []string{"organization", "user"}},
		{name: "create/the member's own personal rights do not count", do: as(bob, "POST", acmeKeys, perms(`{"projects": ["write"]}`)), code: keycap.CodeExceedsMaximum, bounds: []string{"organization", "user"}},
		{name: "create/the manage permission itself", do: as(bob, "POST", acmeKeys, perms(`{"keys": ["manage"]}`)), code: keycap.CodeExceedsMaximum, bounds: []string{"organization"}},
		{name: "create/a wildcard action", do: as(bob, "POST", acmeKeys, perms(`{"files": ["*"]}`)), code: keycap.CodeInvalidPermissions},
		{name: "create/a lookalike resource", do: as(bob, "POST", acmeKeys, perms(`{"Files": ["read"]}`)), code: keycap.CodeInvalidPermissions},
		{name: "create/after the organization shrank", before: func(t *testing.T, f *orgFixture) {
			f.srv.Users.Put(policy.Subject{ID: "org:acme", Roles: []string{"viewer"}, Organization: true})
		}, do: as(bob, "POST", acmeKeys, perms(`{"files": ["write"]}`)), code: keycap.CodeExceedsMaximum, bounds: []string{"organization"}},
		{name: "create/after the member's rights shrank", before: func(t *testing.T, f *orgFixture) {
			f.members.Set("org:acme", "bob", policy.Permissions{"files": {"read"}, "keys": {"manage"}})
		}, do: as(bob, "POST", acmeKeys, perms(`{"files": ["write"]}`)), code: keycap.CodeExceedsMaximum, bounds: []string{"user"}},

		// Who may manage.
		{name: "member/plain member creates", do: as(alice, "POST", acmeKeys, perms(`{"files": ["read"]}`)), code: keycap.CodeCannotManageKeys},
		{name: "member/plain member lists", do: as(alice, "GET", acmeKeys, nil), code: keycap.CodeCannotManageKeys},
		{name: "member/plain member reads a key", do: as(alice, "GET", "/api-keys/{acme}?owner=org:acme", nil), code: keycap.CodeCannotManageKeys},
		{name: "member/plain member renames", do: as(alice, "PATCH", "/api-keys/{acme}?owner=org:acme", map[string]any{"name": "x"}), code: keycap.CodeCannotManageKeys},
		{name: "member/plain member revokes", do: as(alice, "DELETE", "/api-keys/{acme}?owner=org:acme", nil), code: keycap.CodeCannotManageKeys},
		{name: "member/plain member rotates", do: as(alice, "POST", "/api-keys/{acme}/rotate?owner=org:acme", nil), code: keycap.CodeCannotManageKeys},
		{name: "member/plain member asks what is grantable", do: as(alice, "GET", "/api-keys/grantable?owner=org:acme", nil), code: keycap.CodeCannotManageKeys},
		{name: "member/demoted admin creates", before: func(t *testing.T, f *orgFixture) { f.members.Set("org:acme", "bob", acmeAlice) },
			do: as(bob, "POST", acmeKeys, perms(`{"files": ["read"]}`)), code: keycap.CodeCannotManageKeys},
		{name: "member/removed admin creates", before: func(t *testing.T, f *orgFixture) { f.members.Remove("org:acme", "bob") },
			do: as(bob, "POST", acmeKeys, perms(`{"files": ["read"]}`)), code: keycap.CodeForbidden},
		{name: "member/removed admin revokes", before: func(t *testing.T, f *orgFixture) { f.members.Remove("org:acme", "bob") },
			do: as(bob, "DELETE", "/api-keys/{acme}?owner=org:acme", nil), code: keycap.CodeForbidden},
		{name: "member/disabled user", before: func(t *testing.T, f *orgFixture) { f.srv.Users.Disable("bob", true) },
			do: as(bob, "POST", acmeKeys, perms(`{"files": ["read"]}`)), code: keycap.CodeSubjectDisabled},
		{name: "other/non-member creates", do: as(root, "POST", acmeKeys, perms(`{"files": ["read"]}`)), code: keycap.CodeForbidden},
		{name: "other/non-member lists", do: as(root, "GET", acmeKeys, nil), code: keycap.CodeForbidden},
		{name: "other/non-member names an organization that does not exist", do: as(root, "GET", "/api-keys?owner=org:nowhere", nil), code: keycap.CodeForbidden},
		{name: "other/admin of another organization creates", do: as(root, "POST", acmeKeys, perms(`{"files": ["read"]}`)), opts: []keycaptest.AppOption{admin}, code: keycap.CodeForbidden},
		{name: "other/admin view renames", opts: []keycaptest.AppOption{admin}, do: as(root, "PATCH", "/api-keys/{acme}?owner=org:acme", map[string]any{"name": "x"}), code: keycap.CodeForbidden},
		{name: "other/admin view rotates", opts: []keycaptest.AppOption{admin}, do: as(root, "POST", "/api-keys/{acme}/rotate?owner=org:acme", nil), code: keycap.CodeForbidden},
		{name: "other/anonymous", do: func(t *testing.T, f *orgFixture, _ keycaptest.CreatedKey) *keycaptest.Response {
			return f.anon.DoJSON(t, "POST", acmeKeys, perms(`{"files": ["read"]}`))
		}, code: keycap.CodeUnauthenticated},

		// Another organization's keys.
		{name: "other org/read through one's own", do: as(bob, "GET", "/api-keys/{globex}?owner=org:acme", nil), code: keycap.CodeKeyNotFound},
		{name: "other org/rename through one's own", do: as(bob, "PATCH", "/api-keys/{globex}?owner=org:acme", map[string]any{"name": "x"}), code: keycap.CodeKeyNotFound},
		{name: "other org/revoke through one's own", do: as(bob, "DELETE", "/api-keys/{globex}?owner=org:acme", nil), code: keycap.CodeKeyNotFound},
		{name: "other org/rotate through one's own", do: as(bob, "POST", "/api-keys/{globex}/rotate?owner=org:acme", nil), code: keycap.CodeKeyNotFound},
		{name: "other org/disable through one's own", do: as(bob, "PATCH", "/api-keys/{globex}?owner=org:acme", map[string]any{"disabled": true}), code: keycap.CodeKeyNotFound},
		{name: "other org/the organization's key as one's own", do: as(bob, "GET", "/api-keys/{acme}", nil), code: keycap.CodeKeyNotFound},

		// Changes beyond the bounds.
		{name: "patch/beyond the organization's cap", do: as(bob, "PATCH", "/api-keys/{acme}?owner=org:acme", patchPerms(policy.Permissions{"files": {"delete"}})), code: keycap.CodeExceedsMaximum, bounds: []string{"organization"}},
		{name: "patch/beyond the member's rights", do: as(carol, "PATCH", "/api-keys/{acme}?owner=org:acme", patchPerms(policy.Permissions{"files": {"read", "write"}})), code: keycap.CodeExceedsMaximum, bounds: []string{"user"}},
		{name: "rotate/a key beyond the member's rights", before: func(t *testing.T, f *orgFixture) {
			f.members.Set("org:acme", "carol", policy.Permissions{"projects": {"read"}, "keys": {"manage"}})
		}, do: as(carol, "POST", "/api-keys/{acme}/rotate?owner=org:acme", nil), code: keycap.CodeExceedsMaximum, bounds: []string{"user"}},
		{name: "enable/a key an admin disabled", opts: []keycaptest.AppOption{admin}, before: func(t *testing.T, f *orgFixture) {
			keycaptest.RequireCode(t, f.root.DoJSON(t, "PATCH", "/api-keys/"+f.acmeID(t)+"?owner=org:acme", map[string]any{"disabled": true}), "")
		}, do: as(bob, "PATCH", "/api-keys/{acme}?owner=org:acme", map[string]any{"disabled": false}), code: keycap.CodeForbidden},

		// The organization disabled or gone.
		{name: "disabled org/create", before: func(t *testing.T, f *orgFixture) { f.srv.Users.Disable("org:acme", true) },
			do: as(bob, "POST", acmeKeys, perms(`{"files": ["read"]}`)), code: keycap.CodeSubjectDisabled},
		{name: "disabled org/patch", before: func(t *testing.T, f *orgFixture) { f.srv.Users.Disable("org:acme", true) },
			do: as(bob, "PATCH", "/api-keys/{acme}?owner=org:acme", map[string]any{"name": "x"}), code: keycap.CodeSubjectDisabled},
		{name: "disabled org/its key", before: func(t *testing.T, f *orgFixture) { f.srv.Users.Disable("org:acme", true) },
			do: func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, acme.Key).Get(t, "/api/files")
			}, code: keycap.CodeKeyInvalid},
		{name: "removed org/its key", before: func(t *testing.T, f *orgFixture) { f.srv.Users.Delete("org:acme") },
			do: func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, acme.Key).Get(t, "/api/files")
			}, code: keycap.CodeKeyInvalid},
		{name: "shrunk org/its key beyond the new cap", before: func(t *testing.T, f *orgFixture) {
			f.srv.Users.Put(policy.Subject{ID: "org:acme", Roles: []string{}, Organization: true})
		}, do: func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, acme.Key).Get(t, "/api/files")
		}, code: keycap.CodeInsufficientPermissions},

		// Keys and cross-origin requests.
		{name: "key/an organization's key names another owner", opts: []keycaptest.AppOption{delegation}, do: func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, acme.Key).DoJSON(t, "POST", "/api-keys?owner=bob", perms(`{"files": ["read"]}`))
		}, code: keycap.CodeForbidden},
		{name: "key/a member's own key names the organization", opts: []keycaptest.AppOption{delegation}, do: func(t *testing.T, f *orgFixture, _ keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.bobKey.Key).DoJSON(t, "POST", acmeKeys, perms(`{"files": ["read"]}`))
		}, code: keycap.CodeForbidden},
		{name: "key/an organization's key beyond itself", opts: []keycaptest.AppOption{delegation}, do: func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, acme.Key).DoJSON(t, "POST", "/api-keys", perms(`{"files": ["write"]}`))
		}, code: keycap.CodeExceedsMaximum},
		{name: "key/without delegation", do: func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, acme.Key).DoJSON(t, "POST", "/api-keys", perms(`{"files": ["read"]}`))
		}, code: keycap.CodeDelegationNotAllowed},
		{name: "csrf/cross-origin create", do: func(t *testing.T, f *orgFixture, _ keycaptest.CreatedKey) *keycaptest.Response {
			return f.bob.WithHeader("Origin", "https://evil.example").DoJSON(t, "POST", acmeKeys, perms(`{"files": ["read"]}`))
		}, code: keycap.CodeCSRF},
		{name: "csrf/cross-site revoke", do: func(t *testing.T, f *orgFixture, acme keycaptest.CreatedKey) *keycaptest.Response {
			return f.bob.WithHeader("Sec-Fetch-Site", "cross-site").DoJSON(t, "DELETE", "/api-keys/"+acme.ID+"?owner=org:acme", nil)
		}, code: keycap.CodeCSRF},
		{name: "input/two owners", do: as(bob, "POST", "/api-keys?owner=org:globex&owner=org:acme", perms(`{"files": ["read"]}`)), code: keycap.CodeForbidden},
		{name: "input/metadata where clients may not set it", do: as(bob, "POST", acmeKeys, map[string]any{"name": "m", "permissions": map[string][]string{"files": {"read"}}, "metadata": map[string]any{"env": "ci"}}), code: keycap.CodeInvalidField},
	}
}

// acmeID returns the id of the only key of org:acme.
func (f *orgFixture) acmeID(t *testing.T) string {
	t.Helper()
	var list listBody
	f.bob.Get(t, "/api-keys?owner=org:acme").JSON(t, &list)
	require.Len(t, list.Keys, 1)
	return list.Keys[0].ID
}
