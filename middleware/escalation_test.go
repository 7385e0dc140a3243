package middleware_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// escalation is one attempt to get more than the caller may have. Every
// attempt is refused with its code and details, and leaves the store as it
// was: no Create or Update call, every record unchanged.
type escalation struct {
	name  string
	opts  []keycaptest.AppOption                                          // more server options
	setup func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey // runs before the store is snapshot
	do    func(t *testing.T, f *fixture, extra map[string]keycaptest.CreatedKey) *keycaptest.Response
	code  keycap.Code
	check func(t *testing.T, f *fixture, resp *keycaptest.Response) // details and headers
}

func TestEscalation(t *testing.T) {
	t.Parallel()
	for _, tt := range escalations() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.opts...)
			var extra map[string]keycaptest.CreatedKey
			if tt.setup != nil {
				extra = tt.setup(t, f)
			}
			writes, before := f.store.writes(), f.store.snapshot(t, f.owners...)

			resp := tt.do(t, f, extra)

			keycaptest.RequireCode(t, resp, tt.code)
			if tt.check != nil {
				tt.check(t, f, resp)
			}
			assert.Equal(t, writes, f.store.writes(), "a refusal must not write to the store")
			assert.Equal(t, before, f.store.snapshot(t, f.owners...), "a refusal must leave every record as it was")
		})
	}
}

// TestEscalationCount keeps the table honest.
func TestEscalationCount(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, tt := range escalations() {
		require.False(t, names[tt.name], "duplicate case %q", tt.name)
		require.NotEmpty(t, tt.code, "case %q must be refused", tt.name)
		names[tt.name] = true
	}
	require.GreaterOrEqual(t, len(names), 40)
}

func escalations() []escalation {
	return append(requestEscalations(), accessEscalations()...)
}

// requestEscalations ask for too much in the request itself: beyond the
// cap, wildcards, lookalike names, malformed bodies, no or forged login,
// cross-origin requests.
func requestEscalations() []escalation {
	wildcardPolicy := testPolicy()
	wildcardPolicy.Max = policy.Union(wildcardPolicy.Max, policy.Permissions{"admin": {"*"}})
	wildcardPolicy.Roles["super"] = policy.Permissions{"admin": {"*"}}

	return []escalation{
		// Beyond the cap at creation.
		{name: "create/beyond-cap action", do: create(`{"files": ["delete"]}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"files": {"delete"}}, memberRole)},
		{name: "create/beyond-cap resource", do: create(`{"billing": ["read"]}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"billing": {"read"}}, memberRole)},
		{name: "create/resource the app does not know", do: create(`{"secrets": ["read"]}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"secrets": {"read"}}, memberRole)},
		{name: "create/the whole cap plus one action", do: create(`{"files": ["read", "write", "delete"], "projects": ["read"]}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"files": {"delete"}}, memberRole)},
		{name: "create/another role's admin permission", do: create(`{"keys": ["admin"]}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"keys": {"admin"}}, memberRole)},
		{name: "create/everything the app knows", do: create(`{"files": ["read", "write", "delete"], "projects": ["read", "write", "delete"], "billing": ["read"], "keys": ["admin"]}`),
			code:  keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"files": {"delete"}, "projects": {"delete", "write"}, "billing": {"read"}, "keys": {"admin"}}, memberRole)},
		{name: "create/duplicates hiding a beyond-cap action", do: create(`{"files": ["read", "read", "delete", "read"]}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"files": {"delete"}}, memberRole)},

		// "*" is a literal, never a wildcard.
		{name: "wildcard/action *", do: create(`{"files": ["*"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt("files[0]")},
		{name: "wildcard/resource *", do: create(`{"*": ["read"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt("*")},
		{name: "wildcard/*:*", do: create(`{"*": ["*"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt("*")},
		{name: "wildcard/glob in an action", do: create(`{"files": ["de*"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt("files[0]")},
		{name: "wildcard/undefined * where the policy defines admin:*", opts: opts(keycaptest.WithPolicy(wildcardPolicy)),
			do: create(`{"files": ["*"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt("files[0]")},
		{name: "wildcard/defined admin:* beyond the cap", opts: opts(keycaptest.WithPolicy(wildcardPolicy)),
			do: create(`{"admin": ["*"]}`), code: keycap.CodeExceedsMaximum, check: exceeds(policy.Permissions{"admin": {"*"}}, memberRole)},

		// Case variants and lookalikes are not the names they resemble.
		{name: "case/capitalized resource", do: create(`{"Files": ["read"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt(`"Files"`)},
		{name: "case/upper-case action", do: create(`{"files": ["READ"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt("files[0]")},
		{name: "case/upper-case beyond-cap", do: create(`{"FILES": ["DELETE"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt(`"FILES"`)},
		{name: "case/Cyrillic e in delete", do: create(`{"files": ["read", "del\u0435te"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt("files[1]")},
		{name: "case/trailing space in a resource", do: create(`{"files ": ["read"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt(`"files "`)},
		{name: "case/resource:action smuggled as a resource", do: create(`{"files:delete": ["read"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt(`"files:delete"`)},
		{name: "case/NUL in an action", do: create(`{"files": ["read\u0000delete"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt("files[0]")},
		{name: "case/empty resource name", do: create(`{"": ["read"]}`), code: keycap.CodeInvalidPermissions, check: invalidAt(`""`)},
		{name: "case/capitalized field name", do: rawCreate(`{"name": "x", "Permissions": {"files": ["delete"]}}`), code: keycap.CodeInvalidBody, check: bodyField("Permissions")},

		// Unknown fields, arrays, wrong types, huge bodies.
		{name: "body/unknown field owner_id", do: rawCreate(`{"name": "x", "permissions": {"files": ["read"]}, "owner_id": "bob"}`), code: keycap.CodeInvalidBody, check: bodyField("owner_id")},
		{name: "body/unknown field admin", do: rawCreate(`{"name": "x", "admin": true}`), code: keycap.CodeInvalidBody, check: bodyField("admin")},
		{name: "body/permissions twice, the second beyond cap", do: rawCreate(`{"name": "x", "permissions": {"files": ["read"]}, "permissions": {"files": ["delete"]}}`),
			code: keycap.CodeInvalidBody, check: bodyField("permissions")},
		{name: "body/permissions as an array of strings", do: create(`["files:delete"]`), code: keycap.CodeInvalidBody, check: bodyField("permissions")},
		{name: "body/permissions as a string", do: create(`"files:delete"`), code: keycap.CodeInvalidBody, check: bodyField("permissions")},
		{name: "body/permissions null", do: create(`null`), code: keycap.CodeInvalidBody, check: bodyField("permissions")},
		{name: "body/actions as a string", do: create(`{"files": "delete"}`), code: keycap.CodeInvalidBody, check: bodyField("permissions")},
		{name: "body/actions nested in arrays", do: create(`{"files": [["delete"]]}`), code: keycap.CodeInvalidBody, check: bodyField("permissions")},
		{name: "body/action as a number", do: create(`{"files": [1]}`), code: keycap.CodeInvalidBody, check: bodyField("permissions")},
		{name: "body/action as an object", do: create(`{"files": [{"action": "delete"}]}`), code: keycap.CodeInvalidBody, check: bodyField("permissions")},
		{name: "body/top-level array", do: rawCreate(`[{"name": "x", "permissions": {"files": ["delete"]}}]`), code: keycap.CodeInvalidBody},
		{name: "body/two objects", do: rawCreate(`{"name": "x"} {"name": "y", "permissions": {"files": ["delete"]}}`), code: keycap.CodeInvalidBody},
		{name: "body/truncated JSON", do: rawCreate(`{"name": "x", "permissions": {"files": ["read"]`), code: keycap.CodeInvalidBody},
		{name: "body/over the 64 KiB limit", do: rawCreate(`{"name": "` + strings.Repeat("a", 70_000) + `"}`), code: keycap.CodeInvalidBody,
			check: reason("larger than 65536 bytes")},
		{name: "body/over a configured limit", opts: opts(keycaptest.WithMiddleware(func(o *middleware.Options) { o.MaxBodyBytes = 100 })),
			do:   create(`{"files": ["read", "write", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}`),
			code: keycap.CodeInvalidBody, check: reason("larger than 100 bytes")},
		{name: "body/deeply nested arrays", do: create(`{"files": ` + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + `}`), code: keycap.CodeInvalidBody},
		{name: "body/a resource twice, the second beyond cap", do: create(`{"files": ["read"], "files": ["delete"]}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"files": {"delete"}}, memberRole)},
		{name: "body/escaped field name is still the field", do: rawCreate(`{"name": "x", "permi\u0073sions": {"files": ["delete"]}}`), code: keycap.CodeExceedsMaximum,
			check: exceeds(policy.Permissions{"files": {"delete"}}, memberRole)},
		{name: "body/65 resources", do: create(manyResources(65)), code: keycap.CodeInvalidPermissions, check: invalidAt("permissions")},
		{name: "body/33 actions", do: create(manyActions(33)), code: keycap.CodeInvalidPermissions, check: invalidAt("files")},
		{name: "body/resource name of 65 bytes", do: create(`{"` + strings.Repeat("f", 65) + `": ["read"]}`), code: keycap.CodeInvalidPermissions,
			check: invalidAt(strconv.Quote(strings.Repeat("f", 64) + "…"))},
		{name: "body/no permission at all", do: create(`{}`), code: keycap.CodeInvalidPermissions, check: invalidAt("permissions")},
		{name: "body/only empty action lists", do: create(`{"files": [], "billing": []}`), code: keycap.CodeInvalidPermissions, check: invalidAt("permissions")},
		{name: "body/text/plain (a CORS-simple request)", do: rawWith(http.MethodPost, "/api-keys", "text/plain", `{"name": "x", "permissions": {"files": ["read"]}}`),
			code: keycap.CodeInvalidBody, check: reason("Content-Type")},
		{name: "body/form-encoded", do: rawWith(http.MethodPost, "/api-keys", "application/x-www-form-urlencoded", `name=x&permissions=files:delete`),
			code: keycap.CodeInvalidBody},
		{name: "body/name missing", do: rawCreate(`{"permissions": {"files": ["read"]}}`), code: keycap.CodeInvalidBody, check: bodyField("name")},
		{name: "body/expires_in as a string", do: rawCreate(`{"name": "x", "expires_in": "3600"}`), code: keycap.CodeInvalidBody, check: bodyField("expires_in")},
		{name: "body/expires_in negative", do: rawCreate(`{"name": "x", "expires_in": -1}`), code: keycap.CodeInvalidBody, check: bodyField("expires_in")},
		{name: "body/expires_in fractional", do: rawCreate(`{"name": "x", "expires_in": 1.5}`), code: keycap.CodeInvalidBody, check: bodyField("expires_in")},
		{name: "body/expires_in zero", do: rawCreate(`{"name": "x", "expires_in": 0}`), code: keycap.CodeInvalidBody, check: bodyField("expires_in")},
		{name: "body/expires_in beyond the maximum lifetime", opts: opts(withLifetime(24 * time.Hour)),
			do: rawCreate(`{"name": "x", "permissions": {"files": ["read"]}, "expires_in": 90000}`), code: keycap.CodeLifetimeExceedsMaximum,
			check: func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
				assert.Equal(t, keycap.LifetimeDetails{RequestedSeconds: 90000, MaximumSeconds: 86400}, details[keycap.LifetimeDetails](t, resp))
			}},
		{name: "body/name of control characters", do: rawCreate(`{"name": "a\u0007b", "permissions": {"files": ["read"]}}`), code: keycap.CodeInvalidField,
			check: func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
				assert.Equal(t, "name", details[keycap.InvalidFieldDetails](t, resp).Field)
			}},

		// Who is asking.
		{name: "auth/nobody logged in", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.anon.DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeUnauthenticated},
		{name: "auth/forged session cookie", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			c := f.srv.Anonymous(t).AddCookie(t, &http.Cookie{Name: f.srv.Sessions.Cookie.Name, Value: "alice", Path: "/"})
			return c.DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeUnauthenticated},
		{name: "auth/disabled user's session", setup: func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
			f.srv.Users.Disable("alice", true)
			return nil
		}, do: create(`{"files": ["read"]}`), code: keycap.CodeSubjectDisabled},
		{name: "auth/deleted user's session", setup: func(t *testing.T, f *fixture) map[string]keycaptest.CreatedKey {
			f.srv.Users.Delete("alice")
			return nil
		}, do: create(`{"files": ["read"]}`), code: keycap.CodeUnauthenticated},
		{name: "auth/RequireKey refuses the session", opts: opts(keycaptest.WithMiddleware(func(o *middleware.Options) { o.RequireKey = true })),
			do: create(`{"files": ["read"]}`), code: keycap.CodeUnauthenticated},

		// Cross-origin requests riding on the session cookie.
		{name: "csrf/cross-origin POST", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithHeader("Origin", "https://evil.example").DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeCSRF},
		{name: "csrf/Sec-Fetch-Site cross-site", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithHeader("Sec-Fetch-Site", "cross-site").DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeCSRF},
		{name: "csrf/Sec-Fetch-Site same-site (a sibling subdomain)", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithHeader("Sec-Fetch-Site", "same-site").DoJSON(t, http.MethodPost, "/api-keys", createBody(`{"files": ["read"]}`))
		}, code: keycap.CodeCSRF},
		{name: "csrf/cross-origin PATCH raising a key", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithHeader("Origin", "https://evil.example").DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, map[string]any{"name": "pwned"})
		}, code: keycap.CodeCSRF},
		{name: "csrf/cross-origin DELETE", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithHeader("Origin", "https://evil.example").DoJSON(t, http.MethodDelete, "/api-keys/"+f.aliceKey.ID, nil)
		}, code: keycap.CodeCSRF},
		{name: "csrf/cross-origin POST to a guarded route", do: func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
			return f.alice.WithHeader("Origin", "https://evil.example").DoJSON(t, http.MethodPost, "/api/files", map[string]any{})
		}, code: keycap.CodeCSRF},
	}
}
