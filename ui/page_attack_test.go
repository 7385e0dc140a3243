package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/ui"
)

// render serves page for alice at a request whose path is exactly path,
// as a router that does not clean paths (chi, a catch-all, StripPrefix)
// hands it over; it returns the response and its body.
func render(t *testing.T, page *ui.Page, path string) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/keys/", nil)
	r.URL.Path = path
	r.Header.Set("X-User", "alice")
	w := httptest.NewRecorder()
	page.ServeHTTP(w, withUser(r))
	body, _ := io.ReadAll(w.Result().Body)
	return w.Result(), string(body)
}

var assetRef = regexp.MustCompile(`(?:src|href)="([^"]*)"`)

// The page's script and stylesheet are referenced below the request's
// path: a path that starts with "//" (a link to https://app//evil.example/,
// through a router that does not clean paths) made them
// "//evil.example/assets/keycap.js", a script from another host running as
// the page, with the user's session.
func TestAttackAssetsStayOnOrigin(t *testing.T) {
	t.Parallel()
	page, err := ui.New(ui.Options{Manager: testManager(t), Sessions: sessionsFromHeader()})
	require.NoError(t, err)
	for path, want := range map[string]string{
		"//evil.example/keys/":    "/evil.example/keys/assets/",
		"//evil.example":          "/assets/",
		"///evil.example/x/":      "/evil.example/x/assets/",
		"/keys//evil.example/":    "/keys/evil.example/assets/",
		"/keys/../../x/":          "/x/assets/",
		"/\\evil.example/":        "/%5cevil.example/assets/",
		"/keys/":                  "/keys/assets/",
		"/keys":                   "/assets/",
		"/account/settings/keys/": "/account/settings/keys/assets/",
	} {
		t.Run(path, func(t *testing.T) {
			res, body := render(t, page, path)
			require.Equal(t, http.StatusOK, res.StatusCode)
			refs := assetRef.FindAllStringSubmatch(body, -1)
			require.Len(t, refs, 3, body)
			for _, ref := range refs {
				u := ref[1]
				assert.True(t, strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"), "%s: %q is not a path on this origin", path, u)
				assert.True(t, strings.HasPrefix(u, want), "%s: %q, want it below %q", path, u, want)
			}
		})
	}
}

// The page is not framed by other sites (clickjacking: "Turn off" is one
// click): X-Frame-Options SAMEORIGIN, unless the app set its own; in
// layout mode too. The assets are served with nosniff.
func TestAttackPageNotFramed(t *testing.T) {
	t.Parallel()
	page, err := ui.New(ui.Options{Manager: testManager(t), Sessions: sessionsFromHeader()})
	require.NoError(t, err)
	res, _ := render(t, page, "/keys/")
	assert.Equal(t, "SAMEORIGIN", res.Header.Get("X-Frame-Options"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))

	// An app's own choice stands.
	r := httptest.NewRequest(http.MethodGet, "/keys/", nil)
	r.Header.Set("X-User", "alice")
	w := httptest.NewRecorder()
	w.Header().Set("X-Frame-Options", "DENY")
	page.ServeHTTP(w, withUser(r))
	assert.Equal(t, []string{"DENY"}, w.Result().Header.Values("X-Frame-Options"))

	for _, name := range []string{"keycap.js", "keycap-manage.js", "keycap.css"} {
		w := httptest.NewRecorder()
		page.Assets().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/keys/assets/"+name, nil))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "nosniff", w.Result().Header.Get("X-Content-Type-Options"), name)
	}
}

// Options.API is where the page sends the user's session: a
// protocol-relative "//other.example/api-keys" or a backslash (which
// browsers read as a slash) would send it to another host. Refused in New.
func TestAttackAPIOffOrigin(t *testing.T) {
	t.Parallel()
	m := testManager(t)
	for _, api := range []string{"//evil.example/api-keys", "/\\evil.example/api-keys", "/api\\keys"} {
		_, err := ui.New(ui.Options{Manager: m, Sessions: sessionsFromHeader(), API: api})
		require.Error(t, err, api)
		assert.Contains(t, err.Error(), "Options.API", api)
	}
}
