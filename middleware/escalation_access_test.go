package middleware_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// accessEscalations reach for what is not the caller's: raising existing
// keys, other users' keys, admin powers, keys managing keys, keys of users
// who lost power, forged or spent keys, and routing tricks.
func accessEscalations() []escalation {
	delegation := keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true })
	admin := keycaptest.WithMiddleware(func(o *middleware.Options) { o.AdminPermission = "keys:admin" })

	// A narrow key and a key that expires in an hour, both alice's.
	narrow := func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
		return map[string]keycaptest.CreatedKey{
			"narrow":   f.mint(t, "alice", policy.Permissions{"files": {"read"}}, 0),
			"expiring": f.mint(t, "alice", policy.Permissions{"files": {"read"}}, time.Hour),
		}
	}
	revoked := func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
		k := f.mint(t, "alice", policy.Permissions{"files": {"read"}}, 0)
		_, err := f.srv.Manager.Revoke(t.Context(), keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: k.ID}})
		require.NoError(t, err)
		return map[string]keycaptest.CreatedKey{"revoked": k}
	}
	demote := func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
		f.srv.Users.Set("alice", "viewer")
		return nil
	}

	return []escalation{
		// Raising an existing key.
		{name: "update/add a beyond-cap action", do: patchAlice(`{"permissions": {"files": ["read", "write", "delete"]}}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"files": {"delete"}}, memberRole)},
		{name: "update/add a beyond-cap resource", do: patchAlice(`{"permissions": {"files": ["read"], "billing": ["read"]}}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"billing": {"read"}}, memberRole)},
		{name: "update/wildcard", do: patchAlice(`{"permissions": {"files": ["*"]}}`), code: keycap.CodeInvalidPermissions, check: invalidAt("files[0]")},
		{name: "update/no permission at all", do: patchAlice(`{"permissions": {}}`), code: keycap.CodeInvalidPermissions, check: invalidAt("permissions")},
		{name: "update/unknown field owner_id", do: patchAlice(`{"owner_id": "bob"}`), code: keycap.CodeInvalidBody, check: bodyField("owner_id")},
		{name: "update/unknown field revoked_at", do: patchAlice(`{"revoked_at": null, "name": "x"}`), code: keycap.CodeInvalidBody, check: bodyField("revoked_at")},
		{name: "update/capitalized Permissions", do: patchAlice(`{"Permissions": {"files": ["delete"]}}`), code: keycap.CodeInvalidBody, check: bodyField("Permissions")},
		{name: "update/disabled as a string", do: patchAlice(`{"disabled": "false"}`), code: keycap.CodeInvalidBody, check: bodyField("disabled")},
		{name: "update/nothing to change", do: patchAlice(`{}`), code: keycap.CodeInvalidBody},
		{name: "update/expires_in beyond the maximum lifetime", opts: opts(withLifetime(24 * time.Hour)),
			do: patchAlice(`{"expires_in": 172800}`), code: keycap.CodeLifetimeExceedsMaximum,
			check: func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
				assert.Equal(t, int64(86400), details[keycap.LifetimeDetails](t, resp).MaximumSeconds)
			}},
		{name: "update/a revoked key", setup: revoked, do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+extra["revoked"].ID, map[string]any{"permissions": map[string][]string{"files": {"read", "write"}}})
		}, code: keycap.CodeKeyRevoked},
		{name: "update/re-enable a revoked key", setup: revoked, do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+extra["revoked"].ID, map[string]any{"disabled": false})
		}, code: keycap.CodeKeyRevoked},
		{name: "update/demoted user keeps what they lost", setup: demote, do: patchAlice(`{"permissions": {"files": ["read", "write"]}}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"files": {"write"}}, viewerRole)},

		// Another user's keys answer 404, exactly like a missing one.
		{name: "other user/PATCH bob's key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+f.bobKey.ID, map[string]any{"permissions": map[string][]string{"files": {"read"}}})
		}, code: keycap.CodeKeyNotFound, check: sameAsMissing(http.MethodPatch, "", `{"permissions": {"files": ["read"]}}`)},
		{name: "other user/disable bob's key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+f.bobKey.ID, map[string]any{"disabled": true})
		}, code: keycap.CodeKeyNotFound, check: sameAsMissing(http.MethodPatch, "", `{"disabled": true}`)},
		{name: "other user/revoke bob's key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodDelete, "/api-keys/"+f.bobKey.ID, nil)
		}, code: keycap.CodeKeyNotFound, check: sameAsMissing(http.MethodDelete, "", "")},
		{name: "other user/rotate bob's key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.bobKey.ID+"/rotate", nil)
		}, code: keycap.CodeKeyNotFound, check: sameAsMissing(http.MethodPost, "/rotate", "")},
		{name: "other user/read bob's key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodGet, "/api-keys/"+f.bobKey.ID, nil)
		}, code: keycap.CodeKeyNotFound, check: sameAsMissing(http.MethodGet, "", "")},
		{name: "other user/create with ?owner=bob", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPost, "/api-keys?owner=bob", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeForbidden},
		{name: "other user/PATCH with ?owner=bob", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+f.bobKey.ID+"?owner=bob", map[string]any{"disabled": true})
		}, code: keycap.CodeForbidden},
		{name: "other user/list with ?owner= and no admin permission", opts: opts(admin), do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.bob.DoJSON(t, http.MethodGet, "/api-keys?owner=alice", nil)
		}, code: keycap.CodeForbidden},
		{name: "other user/?owner= where no admin permission is configured", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.root.DoJSON(t, http.MethodDelete, "/api-keys/"+f.aliceKey.ID+"?owner=alice", nil)
		}, code: keycap.CodeForbidden},
		{name: "other user/grantable of bob", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodGet, "/api-keys/grantable?owner=bob", nil)
		}, code: keycap.CodeForbidden},

		// Admins manage others' keys but do not create or shape them.
		{name: "admin/create for another user", opts: opts(admin), do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.root.DoJSON(t, http.MethodPost, "/api-keys?owner=alice", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeForbidden},
		{name: "admin/raise another user's key", opts: opts(admin), do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.root.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID+"?owner=alice", map[string]any{"permissions": map[string][]string{"files": {"read", "write"}}})
		}, code: keycap.CodeForbidden},
		{name: "admin/extend another user's key", opts: opts(admin), do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.root.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID+"?owner=alice", map[string]any{"expires_in": 3600, "disabled": false})
		}, code: keycap.CodeForbidden},
		{name: "admin/rotate another user's key", opts: opts(admin), do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.root.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate?owner=alice", nil)
		}, code: keycap.CodeForbidden},
		{name: "admin/key id of another owner than ?owner=", opts: opts(admin), do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.root.DoJSON(t, http.MethodDelete, "/api-keys/"+f.bobKey.ID+"?owner=alice", nil)
		}, code: keycap.CodeKeyNotFound},

		// A key-authenticated request may not mint, raise or revoke keys.
		{name: "key/mint a key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeDelegationNotAllowed},
		{name: "key/mint a key with X-API-Key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.srv.Anonymous(t).WithHeader("X-API-Key", f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeDelegationNotAllowed},
		{name: "key/mint a key with a lower-case bearer scheme", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.srv.Anonymous(t).WithHeader("Authorization", "bearer "+f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeDelegationNotAllowed},
		{name: "key/mint a key beside the owner's session cookie", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithKey(f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeDelegationNotAllowed},
		{name: "key/raise itself", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, map[string]any{"permissions": map[string][]string{"files": {"read"}}})
		}, code: keycap.CodeDelegationNotAllowed},
		{name: "key/rotate itself", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", nil)
		}, code: keycap.CodeDelegationNotAllowed},
		{name: "key/admin's key revoking another user's key", opts: opts(admin), setup: func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
			return map[string]keycaptest.CreatedKey{"root": f.mint(t, "root", adminRole, 0)}
		}, do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, extra["root"].Key).DoJSON(t, http.MethodDelete, "/api-keys/"+f.aliceKey.ID+"?owner=alice", nil)
		}, code: keycap.CodeDelegationNotAllowed},

		// With delegation: within the calling key, and never longer-lived.
		{name: "delegation/mint beyond the calling key", opts: opts(delegation), setup: narrow,
			do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, extra["narrow"].Key).DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read", "write"]}`))
			}, code: keycap.CodeExceedsMaximum, check: exceeds(policy.Permissions{"files": {"write"}}, policy.Permissions{"files": {"read"}})},
		{name: "delegation/raise itself", opts: opts(delegation), setup: narrow,
			do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, extra["narrow"].Key).DoJSON(t, http.MethodPatch, "/api-keys/"+extra["narrow"].ID,
					map[string]any{"permissions": map[string][]string{"files": {"read", "write"}}})
			}, code: keycap.CodeExceedsMaximum, check: exceeds(policy.Permissions{"files": {"write"}}, policy.Permissions{"files": {"read"}})},
		{name: "delegation/raise a sibling key beyond itself", opts: opts(delegation), setup: narrow,
			do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, extra["narrow"].Key).DoJSON(t, http.MethodPatch, "/api-keys/"+extra["expiring"].ID,
					map[string]any{"permissions": map[string][]string{"files": {"write"}}})
			}, code: keycap.CodeKeyNotFound},
		{name: "delegation/mint a key that outlives the calling key", opts: opts(delegation), setup: narrow,
			do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, extra["expiring"].Key).DoJSON(t, http.MethodPost, "/api-keys",
					map[string]any{"name": "longer", "permissions": map[string][]string{"files": {"read"}}, "expires_in": 7200})
			}, code: keycap.CodeDelegationExceedsKey, check: delegationExpiry("expiring")},
		{name: "delegation/extend its own expiry", opts: opts(delegation), setup: narrow,
			do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, extra["expiring"].Key).DoJSON(t, http.MethodPatch, "/api-keys/"+extra["expiring"].ID, map[string]any{"expires_in": 7200})
			}, code: keycap.CodeDelegationExceedsKey, check: delegationExpiry("expiring")},
		{name: "delegation/extend a sibling past itself", opts: opts(delegation), setup: narrow,
			do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, extra["expiring"].Key).DoJSON(t, http.MethodPatch, "/api-keys/"+extra["narrow"].ID, map[string]any{"expires_in": 7200})
			}, code: keycap.CodeKeyNotFound},
		{name: "delegation/rotate a never-expiring sibling to obtain it", opts: opts(delegation), setup: narrow,
			do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, extra["expiring"].Key).DoJSON(t, http.MethodPost, "/api-keys/"+extra["narrow"].ID+"/rotate", nil)
			}, code: keycap.CodeKeyNotFound},
		{name: "delegation/re-enable a disabled broader sibling", opts: opts(delegation), setup: func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
			extra := narrow(t, f)
			_, err := f.srv.Manager.Update(t.Context(), keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: f.aliceKey.ID}, Disabled: ptr(true)})
			require.NoError(t, err)
			return extra
		}, do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, extra["narrow"].Key).DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, map[string]any{"disabled": false})
		}, code: keycap.CodeKeyNotFound},
		{name: "delegation/re-enable a disabled longer-lived sibling", opts: opts(delegation), setup: func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
			extra := narrow(t, f)
			_, err := f.srv.Manager.Update(t.Context(), keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: extra["narrow"].ID}, Disabled: ptr(true)})
			require.NoError(t, err)
			return extra
		}, do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, extra["expiring"].Key).DoJSON(t, http.MethodPatch, "/api-keys/"+extra["narrow"].ID, map[string]any{"disabled": false})
		}, code: keycap.CodeKeyNotFound},
		{name: "delegation/demoted owner's key mints what it held", opts: opts(delegation), setup: demote,
			do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read", "write"]}`))
			}, code: keycap.CodeExceedsMaximum, check: exceeds(policy.Permissions{"files": {"write"}}, policy.Permissions{"files": {"read"}})},
		{name: "delegation/create for another user", opts: opts(delegation), do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api-keys?owner=bob", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeForbidden},
		{name: "delegation/revoke another user's key", opts: opts(delegation), do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodDelete, "/api-keys/"+f.bobKey.ID, nil)
		}, code: keycap.CodeKeyNotFound},

		// Existing keys of users who lost power, and keys that are not valid.
		{name: "use/demoted user's key on a route it no longer opens", setup: demote,
			do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
				return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodPost, "/api/files", map[string]any{})
			}, code: keycap.CodeInsufficientPermissions, check: missing("files:write")},
		{name: "use/disabled user's key", setup: func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
			f.srv.Users.Disable("alice", true)
			return nil
		}, do: useAliceKey, code: keycap.CodeKeyInvalid},
		{name: "use/deleted user's key", setup: func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
			f.srv.Users.Delete("alice")
			return nil
		}, do: useAliceKey, code: keycap.CodeKeyInvalid},
		{name: "use/revoked key", setup: revoked, do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, extra["revoked"].Key).DoJSON(t, http.MethodGet, "/api/files", nil)
		}, code: keycap.CodeKeyInvalid},
		{name: "use/key disabled by its owner", setup: func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
			_, err := f.srv.Manager.Update(t.Context(), keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: f.aliceKey.ID}, Disabled: ptr(true)})
			require.NoError(t, err)
			return nil
		}, do: useAliceKey, code: keycap.CodeKeyInvalid},
		{name: "use/expired key", setup: narrow, do: func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response {
			f.clock.Advance(time.Hour)
			return f.keyClient(t, extra["expiring"].Key).DoJSON(t, http.MethodGet, "/api/files", nil)
		}, code: keycap.CodeKeyExpired},
		{name: "use/right id and checksum, another secret", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			forged := keyforge.Key("kc", f.bobKey.ID)
			return f.keyClient(t, forged).DoJSON(t, http.MethodGet, "/api/billing", nil)
		}, code: keycap.CodeKeyInvalid},
		{name: "use/wrong checksum", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			k := f.bobKey.Key
			last := "A"
			if k[len(k)-1] == 'A' {
				last = "B"
			}
			return f.keyClient(t, k[:len(k)-1]+last).DoJSON(t, http.MethodGet, "/api/billing", nil)
		}, code: keycap.CodeKeyInvalid},
		{name: "use/truncated key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.bobKey.Key[:20]).DoJSON(t, http.MethodGet, "/api/billing", nil)
		}, code: keycap.CodeKeyInvalid},
		{name: "use/another app's prefix in X-API-Key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.srv.Anonymous(t).WithHeader("X-API-Key", "zz"+strings.TrimPrefix(f.bobKey.Key, "kc")).DoJSON(t, http.MethodGet, "/api/billing", nil)
		}, code: keycap.CodeKeyInvalid},
		{name: "use/a foreign bearer token is no login", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.srv.Anonymous(t).WithHeader("Authorization", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.").DoJSON(t, http.MethodGet, "/api/billing", nil)
		}, code: keycap.CodeUnauthenticated},
		{name: "use/key in the query string is ignored", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.anon.DoJSON(t, http.MethodGet, "/api/billing?api_key="+f.bobKey.Key, nil)
		}, code: keycap.CodeUnauthenticated},
		{name: "use/bad key beside a valid session is refused, not ignored", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.bob.WithHeader("X-API-Key", "kc_forged").DoJSON(t, http.MethodGet, "/api/billing", nil)
		}, code: keycap.CodeKeyInvalid},
		{name: "use/bad key beside a valid session on the keys handler", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithKey("kc_forged").DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeKeyInvalid},
		{name: "use/key on another resource", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodGet, "/api/billing", nil)
		}, code: keycap.CodeInsufficientPermissions, check: missing("billing:read")},
		{name: "use/key holding one of two required", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodGet, "/api/report", nil)
		}, code: keycap.CodeInsufficientPermissions, check: missing("billing:read")},
		{name: "use/session user beyond their own cap", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodDelete, "/api/files/1", nil)
		}, code: keycap.CodeInsufficientPermissions, check: missing("files:delete")},

		// Routing tricks.
		{name: "route/PUT a key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPut, "/api-keys/"+f.aliceKey.ID, map[string]any{"permissions": map[string][]string{"files": {"delete"}}})
		}, code: keycap.CodeMethodNotAllowed, check: allow("DELETE, GET, HEAD, PATCH")},
		{name: "route/method override header", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithHeader("X-HTTP-Method-Override", "DELETE").DoJSON(t, http.MethodPost, "/api-keys/"+f.bobKey.ID, map[string]any{})
		}, code: keycap.CodeMethodNotAllowed, check: allow("DELETE, GET, HEAD, PATCH")},
		{name: "route/suffix after rotate", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate/again", nil)
		}, code: keycap.CodeNotFound},
		{name: "route/rotate grace beyond the maximum", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodPost, "/api-keys/"+f.aliceKey.ID+"/rotate", map[string]any{"grace_seconds": 86401})
		}, code: keycap.CodeInvalidField},
		{name: "route/revoke reason over 500 bytes", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodDelete, "/api-keys/"+f.aliceKey.ID, map[string]any{"reason": strings.Repeat("x", 501)})
		}, code: keycap.CodeInvalidField},
		{name: "route/list limit beyond the maximum", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.DoJSON(t, http.MethodGet, "/api-keys?limit=100000", nil)
		}, code: keycap.CodeInvalidField},
	}
}
