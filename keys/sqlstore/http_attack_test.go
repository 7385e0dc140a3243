package sqlstore_test

// Attack tests of the atomic-changes work, written by an attacker who did
// not write the code: each TestAttack* once broke a guarantee (fixed since)
// or probed one that held; all are kept as regression tests.

import (
	"testing"

	"github.com/stretchr/testify/assert"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
)

// Claim 7: "Bad input always gets a clear 4xx". A logged-in user (or any
// delegated key) names a key id or a list cursor holding a NUL byte or
// invalid UTF-8, percent-encoded in the URL. The handler passes it to the
// Store as is; Postgres refuses the parameter (SQLSTATE 22021, "invalid
// byte sequence for encoding UTF8") and the error, neither a sentinel nor
// "unavailable", is answered 500 INTERNAL.
func TestAttackBadBytesInPathAnswer500(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			store := newStore(t, d.open(t), d.dialect)
			srv := keycaptest.NewApp(t, keycaptest.WithStore(store),
				keycaptest.WithManager(func(c *keys.Config) { c.Cache.Disabled = true }))
			alice := srv.LogIn(t, "alice")
			for _, req := range []struct{ method, path string }{
				{"GET", "/api-keys/%00"},
				{"GET", "/api-keys/%FF"},
				{"GET", "/api-keys/06h2zk006swxany%00"},
				{"PATCH", "/api-keys/%FF"},
				{"DELETE", "/api-keys/%00"},
				{"POST", "/api-keys/%FF/rotate"},
				{"GET", "/api-keys?cursor=%00"},
				{"GET", "/api-keys?cursor=%FF"},
			} {
				var body any
				if req.method == "PATCH" {
					body = map[string]any{"name": "x"}
				}
				resp := alice.DoJSON(t, req.method, req.path, body)
				assert.Less(t, resp.StatusCode, 500, "%s %s: %d %s", req.method, req.path, resp.StatusCode, resp.Body)
			}
		})
	}
}

// The same class through a body: DELETE's free-text "reason" is not
// checked for NUL (names are: control characters are refused), so
// {"reason": "a\u0000b"} reaches Postgres as a TEXT parameter and is
// answered 500 INTERNAL instead of 400; the key stays unrevoked. Emoji in
// names and reasons are probed too (MySQL utf8mb3 tables would refuse
// them).
func TestAttackNulInRevokeReasonAnswers500(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			store := newStore(t, d.open(t), d.dialect)
			srv := keycaptest.NewApp(t, keycaptest.WithStore(store),
				keycaptest.WithManager(func(c *keys.Config) { c.Cache.Disabled = true }))
			alice := srv.LogIn(t, "alice")
			emoji := alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "deploy 🚀👩\u200d💻", "permissions": map[string][]string{"files": {"read"}}})
			assert.Equal(t, 201, emoji.StatusCode, "%s", emoji.Body)
			k := alice.CreateKey(t, "/api-keys", "k", map[string][]string{"files": {"read"}})
			resp := alice.DoJSON(t, "DELETE", "/api-keys/"+k.ID, `{"reason":"🚀 leaked"}`)
			assert.Equal(t, 200, resp.StatusCode, "emoji reason: %s", resp.Body)
			k = alice.CreateKey(t, "/api-keys", "k2", map[string][]string{"files": {"read"}})
			resp = alice.DoJSON(t, "DELETE", "/api-keys/"+k.ID, `{"reason":"a\u0000b"}`)
			assert.Less(t, resp.StatusCode, 500, "NUL in reason: %d %s", resp.StatusCode, resp.Body)
		})
	}
}
