package middleware_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Builders of escalation requests, and checks of their refusals.

func opts(o ...keycaptest.AppOption) []keycaptest.AppOption { return o }

// createBody is a create request for perms, given as JSON.
func createBody(perms string) []byte {
	return []byte(`{"name": "escalate", "permissions": ` + perms + `}`)
}

// create posts a create request for perms as alice.
func create(perms string) func(*testing.T, *fixture, map[string]keycaptest.CreatedKey) *keycaptest.Response {
	return rawCreate(string(createBody(perms)))
}

// rawCreate posts body as is to /api-keys as alice.
func rawCreate(body string) func(*testing.T, *fixture, map[string]keycaptest.CreatedKey) *keycaptest.Response {
	return func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
		return f.alice.DoJSON(t, http.MethodPost, "/api-keys", []byte(body))
	}
}

// rawWith sends body with a Content-Type as alice.
func rawWith(method, path, contentType, body string) func(*testing.T, *fixture, map[string]keycaptest.CreatedKey) *keycaptest.Response {
	return func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
		req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		return f.alice.Do(t, req)
	}
}

// patchAlice patches alice's key with body, as alice.
func patchAlice(body string) func(*testing.T, *fixture, map[string]keycaptest.CreatedKey) *keycaptest.Response {
	return func(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
		return f.alice.DoJSON(t, http.MethodPatch, "/api-keys/"+f.aliceKey.ID, []byte(body))
	}
}

func useAliceKey(t *testing.T, f *fixture, _ map[string]keycaptest.CreatedKey) *keycaptest.Response {
	return f.keyClient(t, f.aliceKey.Key).DoJSON(t, http.MethodGet, "/api/files", nil)
}

func manyResources(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"r%d": ["read"]`, i)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func manyActions(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"a%d"`, i)
	}
	return `{"files": [` + strings.Join(parts, ", ") + `]}`
}

// Checks of details and headers.

func exceeds(exceeded, maximum policy.Permissions) func(*testing.T, *fixture, *keycaptest.Response) {
	return func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
		d := details[keycap.ExceedsMaximumDetails](t, resp)
		assert.Equal(t, exceeded, d.Exceeded, "details.exceeded")
		assert.Equal(t, maximum, d.Maximum, "details.maximum")
	}
}

func invalidAt(path string) func(*testing.T, *fixture, *keycaptest.Response) {
	return func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
		d := details[keycap.InvalidPermissionsDetails](t, resp)
		assert.Equal(t, path, d.Path, "details.path")
		assert.NotEmpty(t, d.Reason)
	}
}

func bodyField(field string) func(*testing.T, *fixture, *keycaptest.Response) {
	return func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
		d := details[keycap.InvalidBodyDetails](t, resp)
		assert.Equal(t, field, d.Field, "details.field")
		assert.NotEmpty(t, d.Reason)
	}
}

func reason(part string) func(*testing.T, *fixture, *keycaptest.Response) {
	return func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
		assert.Contains(t, details[keycap.InvalidBodyDetails](t, resp).Reason, part)
	}
}

func missing(permissions ...string) func(*testing.T, *fixture, *keycaptest.Response) {
	return func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
		assert.Equal(t, permissions, details[keycap.InsufficientDetails](t, resp).Missing, "details.missing")
		assert.Equal(t, strings.Join(permissions, ", "), resp.Header.Get("X-Accepted-Permissions"))
	}
}

func allow(methods string) func(*testing.T, *fixture, *keycaptest.Response) {
	return func(t *testing.T, _ *fixture, resp *keycaptest.Response) {
		assert.Equal(t, methods, resp.Header.Get("Allow"))
	}
}

// delegationExpiry checks that DELEGATION_EXCEEDS_KEY names the expiry of
// the calling key extra[name].
func delegationExpiry(name string) func(*testing.T, *fixture, *keycaptest.Response) {
	return func(t *testing.T, f *fixture, resp *keycaptest.Response) {
		d := details[keycap.DelegationDetails](t, resp)
		assert.NotEmpty(t, d.Reason)
		at, err := time.Parse(time.RFC3339, d.ExpiresAt)
		require.NoError(t, err, "details.expires_at %q", d.ExpiresAt)
		var calling *keys.Key
		for _, k := range f.store.snapshot(t, "alice") {
			if k.Name == "alice key" && !k.ExpiresAt.IsZero() {
				calling = k
			}
		}
		require.NotNil(t, calling, "the calling key %s", name)
		assert.WithinDuration(t, calling.ExpiresAt, at, time.Second)
	}
}

// sameAsMissing checks that the answer about another user's key is, byte
// for byte, the answer about an id that does not exist.
func sameAsMissing(method, suffix, body string) func(*testing.T, *fixture, *keycaptest.Response) {
	return func(t *testing.T, f *fixture, resp *keycaptest.Response) {
		id := keyforge.ID(time.Now())
		var b any
		if body != "" {
			b = []byte(body)
		}
		other := f.alice.DoJSON(t, method, "/api-keys/"+id+suffix, b)
		assert.Equal(t, other.StatusCode, resp.StatusCode)
		assert.Equal(t, string(other.Body), string(resp.Body))
	}
}
