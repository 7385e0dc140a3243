package ui_test

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
	"github.com/keycaphq/keycap/ui"
)

// userKey holds the request's user, from its X-User header in these tests.
type userKey struct{}

func sessionsFromHeader() session.Sessions {
	return session.Func(func(ctx context.Context) (string, error) {
		id, _ := ctx.Value(userKey{}).(string)
		return id, nil
	})
}

func withUser(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), userKey{}, r.Header.Get("X-User")))
}

func testManager(t *testing.T) *keys.Manager {
	m, err := keys.NewManager(keys.Config{Store: memstore.New(), Secret: []byte("0123456789abcdef0123456789abcdef"),
		Policy:   policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read", "files:write")}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil })})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	m := testManager(t)
	for name, tc := range map[string]struct {
		o    ui.Options
		want string
	}{
		"no manager":  {ui.Options{Sessions: sessionsFromHeader()}, "Manager is required"},
		"no sessions": {ui.Options{Manager: m}, "Sessions is required"},
		"api slash":   {ui.Options{Manager: m, Sessions: sessionsFromHeader(), API: "/api-keys/"}, "Options.API"},
		"assets":      {ui.Options{Manager: m, Sessions: sessionsFromHeader(), Assets: "/static"}, "Options.Assets"},
		"try":         {ui.Options{Manager: m, Sessions: sessionsFromHeader(), Try: []ui.Route{{Permission: "files", Path: "/x"}}}, "Options.Try"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ui.New(tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// serve mounts page at /keys and answers a GET of path as user ("": nobody).
func serve(t *testing.T, page *ui.Page, path, user string) (*http.Response, string) {
	t.Helper()
	mux := http.NewServeMux()
	page.Mount(mux, "/keys")
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("X-User", user)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, withUser(r))
	body, _ := io.ReadAll(w.Result().Body)
	return w.Result(), string(body)
}

// The whole page: labels overridden, the cap shown, assets below the
// page, no inline script or style (a strict CSP works), and the script
// finds its settings on the element.
func TestServeWholePage(t *testing.T) {
	t.Parallel()
	page, err := ui.New(ui.Options{Manager: testManager(t), Sessions: sessionsFromHeader(), API: "/v1/keys",
		Labels: ui.Labels{Title: "Jetons d’API"}, CapSource: func(*http.Request) string { return "your plan" }})
	require.NoError(t, err)
	resp, body := serve(t, page, "/keys/", "alice")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Contains(t, body, "<h1>Jetons d’API</h1>")
	assert.Contains(t, body, "Create key", "the other labels keep their defaults")
	assert.Contains(t, body, `<span id="kc-cap">read and write files</span>`)
	assert.Contains(t, body, `<script src="/keys/assets/keycap.js" defer></script>`)
	assert.Contains(t, body, `<link rel="stylesheet" href="/keys/assets/keycap.css">`)
	assert.Contains(t, body, `data-keycap data-user="alice" data-api="/v1/keys" data-cap-source="your plan"`)
	assert.NotContains(t, body, "style=")
	assert.NotRegexp(t, `<script(?:\s[^>]*)?>[^<]`, body, "no inline script")
	assert.NotRegexp(t, `\son[a-z]+=`, body, "no inline handlers")

	for path, want := range map[string]int{"/keys/assets/keycap.js": 200, "/keys/assets/keycap-manage.js": 200, "/keys/assets/keycap.css": 200,
		"/keys/assets/": 404, "/keys/assets/page.html": 404} {
		resp, _ := serve(t, page, path, "")
		assert.Equal(t, want, resp.StatusCode, path)
	}
}

func TestServeNobody(t *testing.T) {
	t.Parallel()
	page, err := ui.New(ui.Options{Manager: testManager(t), Sessions: sessionsFromHeader()})
	require.NoError(t, err)
	resp, _ := serve(t, page, "/keys/", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	page, err = ui.New(ui.Options{Manager: testManager(t), Sessions: sessionsFromHeader(), LoginURL: "/login"})
	require.NoError(t, err)
	resp, _ = serve(t, page, "/keys/", "")
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/login", resp.Header.Get("Location"))
}

// Layout mode: the app's template gets the pieces.
func TestLayout(t *testing.T) {
	t.Parallel()
	layout := template.Must(template.New("").Parse(`<html><head>{{.Head}}</head><body><nav>my app</nav><main {{.Attrs}}>{{.Body}}</main></body></html>`))
	page, err := ui.New(ui.Options{Manager: testManager(t), Sessions: sessionsFromHeader(), Layout: layout, Assets: "/static/keycap/"})
	require.NoError(t, err)
	_, body := serve(t, page, "/keys/", "alice")
	assert.True(t, strings.HasPrefix(body, "<html><head><link rel=\"stylesheet\" href=\"/static/keycap/keycap.css\">"), body[:80])
	assert.Contains(t, body, `<nav>my app</nav><main data-keycap data-user="alice"`)
	assert.Contains(t, body, `id="kc-create-form"`)
}

func ExamplePage_Mount() {
	m, _ := keys.NewManager(keys.Config{Store: memstore.New(), Secret: []byte("0123456789abcdef0123456789abcdef"),
		Policy:   policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil })})
	defer m.Close()
	page, err := ui.New(ui.Options{Manager: m, Sessions: sessionsFromHeader(), LoginURL: "/login"})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	page.Mount(mux, "/account/keys") // the page at /account/keys/, its assets below it
	r := httptest.NewRequest(http.MethodGet, "/account/keys/", nil)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Location"))
	// Output: 303 /login
}
