package main

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// The demo's organization: bob (an Acme admin) creates an Acme key; alice
// (a plain member) cannot; the key works after bob is demoted; shrinking
// Acme's cap narrows it at the next request.
func TestAcmeKeys(t *testing.T) {
	a, srv := newTestApp(t)
	bob, alice := mustLogIn(t, srv.URL, "bob"), mustLogIn(t, srv.URL, "alice")
	resp := bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", map[string]any{"name": "acme ci", "kind": "live",
		"permissions": policy.Permissions{"files": {"read", "write"}}, "metadata": map[string]any{"environment": "ci"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k struct {
		ID, Key, OwnerID string
		Kind             string `json:"kind"`
	}
	resp.JSON(t, &k)
	assert.True(t, strings.HasPrefix(k.Key, "kclive_"), k.Key)
	assert.Equal(t, "live", k.Kind)

	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", map[string]any{"name": "x",
		"permissions": policy.Permissions{"files": {"read"}}}), keycap.CodeCannotManageKeys)

	key := alice.KeyOnly(t, k.Key)
	require.Equal(t, http.StatusCreated, key.DoJSON(t, http.MethodPost, "/api/files", map[string]any{"name": "a.txt"}).StatusCode)

	a.orgs.setMember(acmeID, "bob", acmeMember) // demoted
	require.Equal(t, http.StatusOK, key.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode, "the key outlives its maker's rights")
	keycaptest.RequireCode(t, bob.Get(t, "/api-keys?owner=org:acme"), keycap.CodeCannotManageKeys)

	a.orgs.setCap("viewer") // projects:read, files:read
	keycaptest.RequireCode(t, key.DoJSON(t, http.MethodPost, "/api/files", map[string]any{"name": "b.txt"}), keycap.CodeInsufficientPermissions)
	require.Equal(t, http.StatusOK, key.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)

	// A test key may only read.
	a.orgs.setMember(acmeID, "bob", acmeAdmin)
	a.orgs.setCap("acme")
	resp = bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", map[string]any{"name": "t", "kind": "test",
		"permissions": policy.Permissions{"files": {"write"}}})
	keycaptest.RequireCode(t, resp, keycap.CodeExceedsMaximum)
}

// TestBrowserOrgKey: bob's page shows "Your keys" and "Acme's keys"; he
// creates a test key of Acme there, shown once, listed with its kind; the
// key works. alice's page has no Acme section.
func TestBrowserOrgKey(t *testing.T) {
	b := startBrowser(t)
	_, srv := newTestApp(t)
	logIn := func(user string) {
		b.Run(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), user),
			chromedp.Click(chromedp.CSS(`form[action="/login"] button`)), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	}
	logIn("bob")
	assert.Equal(t, "Your keys", b.Text("#kc-keys-title"))
	assert.Equal(t, "Acme's keys", b.Text("#org-keys-title"))
	b.WaitFor(`document.getElementById('org-keys-body').textContent.includes('No keys yet')`)
	b.Run(chromedp.SendKeys(chromedp.ID("org-key-name"), "Acme CI"), chromedp.SetValue(chromedp.ID("org-key-kind"), "test"),
		chromedp.Click(chromedp.CSS(`#org-create-form input[value="files:read"]`)), chromedp.Click(chromedp.ID("org-create-submit")),
		chromedp.WaitVisible(chromedp.ID("org-new-key")))
	b.WaitFor(`document.querySelectorAll('.org-key-list li').length === 1`)
	token, _ := b.Eval(`document.getElementById('org-new-key-value').value`).(string)
	require.True(t, strings.HasPrefix(token, "kctest_"), token)
	assert.Contains(t, b.Text(".org-key-list"), "Acme CI · test · active · files:read · made by bob")
	b.Shot("org-key", chromedp.Screenshot(chromedp.ID("org-keys")))

	c := keycaptest.NewClient(t, srv.URL).KeyOnly(t, token)
	assert.Equal(t, http.StatusOK, c.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)
	b.RequireQuietConsole(quietConsole...)

	b.Run(chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("username")))
	logIn("alice")
	assert.Equal(t, true, b.Eval(`document.getElementById('org-keys') === null`))
}

// TestKeyPageOwners: the key page (package ui) offers bob the keys of
// Acme, whose keys he manages (ui.Options.Owners); alice, a plain member,
// is not offered them, nor is bob once demoted.
func TestKeyPageOwners(t *testing.T) {
	a, srv := newTestApp(t)
	bob, alice := mustLogIn(t, srv.URL, "bob"), mustLogIn(t, srv.URL, "alice")
	const acmeOption = `<option value="org:acme">Acme</option>`
	page := bob.Get(t, "/")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Contains(t, string(page.Body), `id="kc-owner"`)
	assert.Contains(t, string(page.Body), acmeOption)
	assert.NotContains(t, string(alice.Get(t, "/").Body), `id="kc-owner"`)

	a.orgs.setMember(acmeID, "bob", acmeMember) // no keys:manage
	assert.NotContains(t, string(bob.Get(t, "/").Body), acmeOption)
}

// TestOrgNotices: a notice about one of Acme's keys is addressed to the
// members who may manage its keys at the time of the notice (bob, then
// alice once she is promoted and he demoted), never to the organization's
// id; they list it with GET /notices?owner=org:acme, which refuses a
// member who may not manage its keys and anyone else, and writes nothing.
func TestOrgNotices(t *testing.T) {
	var logs syncBuffer
	a, err := newApp(config{DBPath: filepath.Join(t.TempDir(), "keycap.db"), BcryptCost: bcrypt.MinCost,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	srv := keycaptest.Start(t, a)
	bob, alice := mustLogIn(t, srv.URL, "bob"), mustLogIn(t, srv.URL, "alice")
	revokeOne := func(name string) string {
		t.Helper()
		resp := bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", map[string]any{"name": name,
			"permissions": policy.Permissions{"files": {"read"}}})
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
		var k struct{ ID string }
		resp.JSON(t, &k)
		_, err := a.manager.Revoke(t.Context(), keys.RevokeRequest{Ref: keys.Ref{Owner: acmeID, ID: k.ID},
			Actor: audit.System("security-team"), Reason: "rotated by policy"})
		require.NoError(t, err)
		return k.ID
	}
	noticeLine := func(id string) string {
		t.Helper()
		r, err := a.scheduler.RunOnce(t.Context(), a.manager.Now())
		require.NoError(t, err)
		require.Equal(t, 1, r.Sent)
		for line := range strings.Lines(logs.String()) {
			if strings.Contains(line, "keycap notice") && strings.Contains(line, id) {
				return line
			}
		}
		t.Fatalf("no notice logged for %s in:\n%s", id, logs.String())
		return ""
	}

	first := revokeOne("acme ci")
	assert.Contains(t, noticeLine(first), "to=[bob] owner=org:acme", "the members who manage Acme's keys")
	var listed struct{ Notices []noticeJSON }
	bob.DoJSON(t, http.MethodGet, "/notices?owner=org:acme", nil).JSON(t, &listed)
	require.Len(t, listed.Notices, 1)
	assert.Equal(t, first, listed.Notices[0].KeyID)
	assert.Equal(t, "system:security-team", listed.Notices[0].Actor)
	resp := bob.DoJSON(t, http.MethodGet, "/notices", nil)
	assert.JSONEq(t, `{"notices": []}`, string(resp.Body), "bob's own notices are his, Acme's are Acme's")

	keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/notices?owner=org:acme", nil), keycap.CodeCannotManageKeys)
	for _, owner := range []string{"bob", "org:nobody", "org:acme%00"} {
		keycaptest.RequireCode(t, alice.DoJSON(t, http.MethodGet, "/notices?owner="+owner, nil), keycap.CodeForbidden)
	}
	created := alice.CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
	keycaptest.RequireCode(t, alice.KeyOnly(t, created.Key).DoJSON(t, http.MethodGet, "/notices?owner=org:acme", nil), keycap.CodeDelegationNotAllowed)

	a.orgs.setMember(acmeID, "alice", acmeAdmin)
	second := revokeOne("acme deploy")
	a.orgs.setMember(acmeID, "bob", acmeMember) // demoted before the notice goes out
	assert.Contains(t, noticeLine(second), "to=[alice] owner=org:acme", "who manages Acme's keys when the notice goes out")
	alice.DoJSON(t, http.MethodGet, "/notices?owner=org:acme", nil).JSON(t, &listed)
	assert.Len(t, listed.Notices, 2)
	keycaptest.RequireCode(t, bob.DoJSON(t, http.MethodGet, "/notices?owner=org:acme", nil), keycap.CodeCannotManageKeys)
}
