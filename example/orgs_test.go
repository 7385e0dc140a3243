package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
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
