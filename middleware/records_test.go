package middleware_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// projectACL answers policy.Records for the tests: alice is on projects 1
// and 2, bob on 1, 2 and 3; a member's role's project actions apply there.
// It counts the questions per request (by the X-Request header).
type projectACL struct {
	mu    sync.Mutex
	on    map[string]map[string]bool
	asked map[string]int // request to questions
}

func newProjectACL() *projectACL {
	return &projectACL{on: map[string]map[string]bool{
		"1": {"alice": true, "bob": true}, "2": {"alice": true, "bob": true}, "3": {"bob": true}}, asked: map[string]int{}}
}

type requestIDKey struct{}

func (a *projectACL) actions(ctx context.Context, s policy.Subject, _, id string) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := ctx.Value(requestIDKey{}).(string); ok {
		a.asked[r]++
	}
	if _, exists := a.on[id]; !exists {
		return nil, policy.ErrNoRecord
	}
	if !a.on[id][s.ID] {
		return nil, nil
	}
	var out []string
	for _, r := range s.Roles {
		out = append(out, keycaptest.DefaultPolicy().Roles[r]["projects"]...)
	}
	return out, nil
}

// recordsApp serves, through chi, GET and DELETE /api/projects/{id} behind
// RequireRecord (reading chi.URLParam), and GET /api/projects/{id}/twice
// behind two record guards and a Principal.Can of the same record.
func recordsApp(t *testing.T) (*keycaptest.App, *projectACL, *httptest.Server) {
	acl := newProjectACL()
	pc := keycaptest.DefaultPolicy()
	pc.Records = &policy.Records{Resources: []string{"projects"}, Actions: acl.actions}
	app := keycaptest.NewApp(t, keycaptest.WithPolicy(pc), keycaptest.WithMiddleware(func(o *middleware.Options) { o.AllowDelegation = true }))
	kc := app.Keycap
	project := func(r *http.Request) string { return chi.URLParam(r, "id") }
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, r.Header.Get("X-Request"))))
		})
	}, app.Sessions.LoadAndSave, kc.Authenticate)
	r.Handle("/api-keys", kc.KeysHandler())
	r.Handle("/api-keys/*", kc.KeysHandler())
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	r.With(middleware.RequireRecord("projects:read", project)).Get("/api/projects/{id}", ok)
	r.With(middleware.RequireRecord("projects:delete", project)).Delete("/api/projects/{id}", ok)
	r.With(middleware.RequireRecord("projects:read", project), middleware.RequireRecord("projects:read", project)).
		Get("/api/projects/{id}/twice", func(w http.ResponseWriter, r *http.Request) {
			p := middleware.MustPrincipal(r.Context())
			can, err := p.Can(r.Context(), "projects:read", chi.URLParam(r, "id"))
			require.NoError(t, err)
			other, err := p.Can(r.Context(), "projects:read", "2")
			require.NoError(t, err)
			ids, limited := p.Restricted("projects")
			_ = json.NewEncoder(w).Encode(map[string]any{"can": can, "other": other, "restricted": ids, "limited": limited})
		})
	r.With(middleware.RequireRecord("projects:read", func(*http.Request) string { return "" })).Get("/api/misconfigured", ok)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return app, acl, srv
}

func TestRequireRecordChi(t *testing.T) {
	t.Parallel()
	app, acl, srv := recordsApp(t)
	alice := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, app.Sessions, keycaptest.SessionKey, "alice"))
	bob := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, app.Sessions, keycaptest.SessionKey, "bob"))

	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "p1", "permissions": policy.MustParse("projects:read"),
		"resources": map[string][]string{"projects": {"1"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k keycaptest.CreatedKey
	resp.JSON(t, &k)
	key := alice.KeyOnly(t, k.Key)

	assert.Equal(t, http.StatusNoContent, key.DoJSON(t, http.MethodGet, "/api/projects/1", nil).StatusCode)
	resp = key.DoJSON(t, http.MethodGet, "/api/projects/2", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	assert.JSONEq(t, `{"missing":["projects:read"],"records":{"projects":["2"]}}`, string(resp.Error(t).Details))
	assert.Equal(t, "projects:read", resp.Header.Get("X-Accepted-Permissions"))
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodDelete, "/api/projects/1", nil), keycap.CodeInsufficientPermissions)

	// Sessions are checked against their own live access.
	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/api/projects/3", nil), keycap.CodeInsufficientPermissions)
	assert.Equal(t, http.StatusNoContent, bob.DoJSON(t, http.MethodGet, "/api/projects/3", nil).StatusCode)
	keycaptest.RequireCode(t, bob.WithHeader("Origin", "https://evil.example").WithHeader("Sec-Fetch-Site", "cross-site").
		DoJSON(t, http.MethodDelete, "/api/projects/3", nil), keycap.CodeCSRF)
	keycaptest.RequireCode(t, bob.DoJSON(t, http.MethodGet, "/api/projects/99", nil), keycap.CodeNotFound)
	keycaptest.RequireCode(t, bob.DoJSON(t, http.MethodGet, "/api/misconfigured", nil), keycap.CodeMisconfigured)
	keycaptest.RequireCode(t, keycaptest.NewClient(t, srv.URL).DoJSON(t, http.MethodGet, "/api/projects/1", nil), keycap.CodeUnauthenticated)

	// One question per request and record, whatever asks again.
	resp = key.WithHeader("X-Request", "twice").DoJSON(t, http.MethodGet, "/api/projects/1/twice", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.JSONEq(t, `{"can":true,"other":false,"restricted":["1"],"limited":true}`, string(resp.Body))
	acl.mu.Lock()
	assert.Equal(t, 1, acl.asked["twice"], "project 2 is outside the key's restriction: not asked")
	acl.mu.Unlock()
	resp = bob.WithHeader("X-Request", "bob-twice").DoJSON(t, http.MethodGet, "/api/projects/1/twice", nil)
	assert.JSONEq(t, `{"can":true,"other":true,"restricted":null,"limited":false}`, string(resp.Body))
	acl.mu.Lock()
	assert.Equal(t, 2, acl.asked["bob-twice"], "projects 1 and 2, once each")
	acl.mu.Unlock()

	// Taken off project 1, the key is refused at its next request.
	acl.mu.Lock()
	acl.on["1"]["alice"] = false
	acl.mu.Unlock()
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodGet, "/api/projects/1", nil), keycap.CodeInsufficientPermissions)
}

func TestRequireRecordDelegation(t *testing.T) {
	t.Parallel()
	app, _, srv := recordsApp(t)
	alice := keycaptest.NewClient(t, srv.URL).AddCookie(t, keycaptest.SessionCookie(t, app.Sessions, keycaptest.SessionKey, "alice"))
	resp := alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "parent", "permissions": policy.MustParse("projects:read"),
		"resources": map[string][]string{"projects": {"1", "2"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var parent keycaptest.CreatedKey
	resp.JSON(t, &parent)
	parentKey := alice.KeyOnly(t, parent.Key)

	resp = parentKey.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "child", "permissions": policy.MustParse("projects:read"),
		"resources": map[string][]string{"projects": {"3"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
	assert.JSONEq(t, `{"projects":["3"]}`, string(detailField(t, resp, "records")))
	var list struct{ Keys []json.RawMessage }
	alice.DoJSON(t, http.MethodGet, "/api-keys", nil).JSON(t, &list)
	assert.Len(t, list.Keys, 1, "nothing written")

	resp = parentKey.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "child", "permissions": policy.MustParse("projects:read")})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	assert.Contains(t, string(resp.Body), `"resources":{"projects":["1","2"]}`, "the parent's restriction")
	var child keycaptest.CreatedKey
	resp.JSON(t, &child)
	childKey := alice.KeyOnly(t, child.Key)
	assert.Equal(t, http.StatusNoContent, childKey.DoJSON(t, http.MethodGet, "/api/projects/2", nil).StatusCode)

	resp = alice.DoJSON(t, http.MethodPatch, "/api-keys/"+parent.ID, map[string]any{"resources": map[string][]string{"projects": {"1"}}})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	keycaptest.RequireCode(t, childKey.DoJSON(t, http.MethodGet, "/api/projects/2", nil), keycap.CodeInsufficientPermissions)
	assert.Equal(t, http.StatusNoContent, childKey.DoJSON(t, http.MethodGet, "/api/projects/1", nil).StatusCode)

	// A key cannot widen itself, nor its child, beyond its own restriction.
	for _, id := range []string{parent.ID, child.ID} {
		resp = parentKey.DoJSON(t, http.MethodPatch, "/api-keys/"+id, map[string]any{"resources": map[string][]string{"projects": {"1", "2"}}})
		keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
		assert.JSONEq(t, `{"projects":["2"]}`, string(detailField(t, resp, "records")))
	}
	assert.Contains(t, string(alice.DoJSON(t, http.MethodGet, "/api-keys/"+parent.ID, nil).Body), `"resources":{"projects":["1"]}`, "nothing written")
	resp = parentKey.DoJSON(t, http.MethodPatch, "/api-keys/"+parent.ID, map[string]any{"resources": nil})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", resp.Body)
	assert.Contains(t, string(resp.Body), `"resources":{"projects":["1"]}`, "lifting its own restriction gives a key its own restriction")

	var g struct {
		Records map[string][]policy.Record `json:"records"`
	}
	parentKey.DoJSON(t, http.MethodGet, "/api-keys/grantable", nil).JSON(t, &g)
	assert.Equal(t, map[string][]policy.Record{"projects": {}}, g.Records, "no List: nothing to pick")
}

// detailField returns one field of the details of keycap's JSON error.
func detailField(t *testing.T, resp *keycaptest.Response, name string) []byte {
	t.Helper()
	var details map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(resp.Error(t).Details, &details))
	return details[name]
}

func TestRequireRecordPanics(t *testing.T) {
	assert.Panics(t, func() { middleware.RequireRecord("projects", middleware.PathValue("id")) })
	assert.Panics(t, func() { middleware.RequireRecord("projects:read projects:write", middleware.PathValue("id")) })
	assert.Panics(t, func() { middleware.RequireRecord("projects:read", nil) })
}

// TestIntrospectRestricted: introspection tells a resource server the
// records a key is limited to; a key with none says nothing of them.
func TestIntrospectRestricted(t *testing.T) {
	f, _ := introspectionFixture(t, false)
	resp := f.alice.DoJSON(t, http.MethodPost, "/api-keys", map[string]any{"name": "p1", "permissions": policy.MustParse("projects:read"),
		"resources": map[string][]string{"projects": {"7"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k keycaptest.CreatedKey
	resp.JSON(t, &k)
	_, answer := introspect(t, f, k.Key)
	assert.Contains(t, string(answer.Body), `"resources":{"projects":["7"]}`)
	_, answer = introspect(t, f, f.bobKey.Key)
	assert.NotContains(t, string(answer.Body), `"resources"`)
}
