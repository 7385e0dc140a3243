package middleware_test

// Attack tests of the atomic-changes work, written by an attacker who did
// not write the code: each TestAttack* once broke a guarantee (fixed since)
// or probed one that held; all are kept as regression tests.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// Claim 10: "no user id can be mistaken for a key or an admin". The Go
// types are typed, but the HTTP answers render a user actor as the bare
// user id (actorJSON) and a key actor as "key:<id>". An admin whose user id
// is "key:<id of one of alice's keys>" revokes alice's other key: alice's
// record then says revoked_by "key:<her own key>", exactly what a
// revocation made by that key shows. Same for created_by and the activity
// feed's actor.
func TestAttackUserIDRendersAsKeyActor(t *testing.T) {
	f := newFixture(t, keycaptest.WithMiddleware(func(o *middleware.Options) { o.AdminPermission = "keys:admin" }))
	impostor := "key:" + f.aliceKey.ID
	f.srv.Users.Set(impostor, "admin")
	admin := f.srv.LogIn(t, impostor)
	victim := f.mint(t, "alice", policy.Permissions{"files": {"read"}}, 0)

	resp := admin.DoJSON(t, "DELETE", "/api-keys/"+victim.ID+"?owner=alice", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(resp.Body))

	var rec struct {
		RevokedBy     string `json:"revoked_by"`
		RevokedByKind string `json:"revoked_by_kind"`
	}
	f.alice.DoJSON(t, "GET", "/api-keys/"+victim.ID, nil).JSON(t, &rec)
	// revoked_by reads like alice's key; revoked_by_kind tells them apart.
	assert.Equal(t, impostor, rec.RevokedBy)
	assert.Equal(t, "user", rec.RevokedByKind, "a user's revocation must not read as one made by alice's key %s", f.aliceKey.ID)
}

// Claim 7: "names with invisible characters" are refused. checkName refuses
// format characters (Cf) but lets through characters that render as nothing
// and are letters, marks or symbols: U+3164 HANGUL FILLER (Lo), U+115F,
// U+FFA0 (Lo), U+2800 BRAILLE PATTERN BLANK (So), U+034F COMBINING GRAPHEME
// JOINER (Mn), variation selectors after Latin letters (Mn), U+180B
// MONGOLIAN FREE VARIATION SELECTOR (Mn). A name can look empty, or like
// another key's name ("prod" and "pro\u034Fd").
func TestAttackInvisibleNonFormatCharactersInNames(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"\u3164", "\u115F", "\uFFA0", "\u2800", "pro\u034Fd", "prod\uFE00", "pro\u180Bd", "\u3164\u3164\u3164"} {
		resp := f.alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": name, "permissions": policy.Permissions{"files": {"read"}}})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "name %+q: %d %s", name, resp.StatusCode, resp.Body)
	}
}

// Body tricks on PATCH that were refused with nothing written.
func TestAttackPatchBodyTricksWriteNothing(t *testing.T) {
	f := newFixture(t)
	path := "/api-keys/" + f.aliceKey.ID
	before := f.store.writes()
	for _, body := range []string{
		`{"name":"a","n\u0061me":"b"}`,            // duplicate via escape
		`{"name":"a"}{"name":"b"}`,                // two objects
		`{"name":"a","disabled":null}`,            // null
		`{"name":"a","expires_in":0}`,             // zero
		`{"name":"a","expires_in":-0}`,            // minus zero
		`{"name":"a","expires_in":1e3}`,           // exponent
		`{"name":"a","expires_in":"60"}`,          // string
		`{"name":"a","Name":"b"}`,                 // case
		`{"name":"a","permissions":{"files":[]}}`, // empty
		`{"name":"a","permissions":{"FILES":["READ"]}}`,
		`{"name":"a","permissions":{"files":["read","read"],"files":["delete"]}}`, // duplicate key inside: last wins, beyond cap
		`{"name":"\u202Eevil"}`,
		`{"name":"a\u0000"}`,
		`{"name":"` + strings.Repeat("a", 101) + `"}`,
		`{"name":"a","disabled":"true"}`,
		`["name","a"]`,
		`{"name":"a",}`,
		"{\"name\":\"\xff\"}",
	} {
		resp := f.alice.DoJSON(t, "PATCH", path, body)
		assert.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "%s: %d %s", body, resp.StatusCode, resp.Body)
		e := resp.Error(t)
		assert.NotEmpty(t, e.Code, body)
	}
	assert.Equal(t, before, f.store.writes(), "a refused PATCH writes nothing")
	// The duplicate key inside permissions is decided on the last value,
	// consistently: refused since alice may not delete.
}

// Path tricks on the keys router: none reaches another user's key, and
// none answers 5xx.
func TestAttackRouterPathTricks(t *testing.T) {
	f := newFixture(t)
	bobID := f.bobKey.ID
	for _, p := range []string{
		"/api-keys/" + bobID,
		"/api-keys/" + bobID + "/",
		"/api-keys/" + bobID + "//",
		"/api-keys/" + bobID + "%2F",
		"/api-keys/./" + bobID,
		"/api-keys/x/../" + bobID,
		"/api-keys/%2e%2e/api-keys/" + bobID,
		"/api-keys//" + bobID,
		"/api-keys/" + bobID + "?owner=bob",
		"/api-keys/" + bobID + "?owner=alice&owner=bob",
	} {
		resp := f.alice.DoJSON(t, "DELETE", p, nil)
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, "DELETE %s: %s", p, resp.Body)
		assert.Less(t, resp.StatusCode, 500, "DELETE %s", p)
		req, _ := http.NewRequest("POST", f.srv.URL+p, nil)
		req.Header.Set("X-HTTP-Method-Override", "DELETE")
		resp = f.alice.Do(t, req)
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, "POST+override %s: %s", p, resp.Body)
	}
	assert.True(t, f.get(t, bobID).RevokedAt.IsZero(), "bob's key survives")
}

// CSRF: a cross-site browser request carrying alice's cookie is refused
// on every state-changing route, and writes nothing.
func TestAttackCSRFOnKeysHandler(t *testing.T) {
	f := newFixture(t)
	before := f.store.writes()
	evil := f.alice.WithHeader("Origin", "https://evil.example").WithHeader("Sec-Fetch-Site", "cross-site")
	for _, r := range []struct{ method, path string }{
		{"POST", "/api-keys"}, {"POST", "/api-keys/"}, {"PATCH", "/api-keys/" + f.aliceKey.ID},
		{"DELETE", "/api-keys/" + f.aliceKey.ID}, {"POST", "/api-keys/" + f.aliceKey.ID + "/rotate"},
		{"DELETE", "/api-keys/" + f.aliceKey.ID + "/"},
	} {
		resp := evil.DoJSON(t, r.method, r.path, `{"name":"x","permissions":{"files":["read"]}}`)
		keycaptest.RequireCode(t, resp, keycap.CodeCSRF)
	}
	assert.Equal(t, before, f.store.writes())
}
