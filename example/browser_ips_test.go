package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
)

// TestBrowserIPRanges: on the page, bob, whose keys need IP ranges to
// delete (the picker says so, and a key without them is refused in
// words), creates a key that may read and delete files, limited to ranges
// the test's requests do not come from (they come from 127.0.0.1): the
// API refuses it with IP_NOT_ALLOWED. He changes the key's ranges in a
// dialog to include 127.0.0.1 and it works; a bad range, or no range at
// all, is explained in words and changes nothing.
func TestBrowserIPRanges(t *testing.T) {
	b := startBrowser(t)
	a, err := newApp(config{DBPath: filepath.Join(t.TempDir(), "keycap.db"), BcryptCost: bcrypt.MinCost,
		IPRangesFor: []string{"*:delete"}, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	require.NoError(t, err)
	srv := httptest.NewServer(a) // requests come from 127.0.0.1
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, a.Close())
	})
	run, eval := b.Run, b.Eval
	run(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "bob"), chromedp.SendKeys(chromedp.ID("password"), "bob"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	assert.Equal(t, "needs IP ranges", b.Text("#kc-perm-files-delete-ips"))
	assert.Contains(t, b.Text("#kc-key-ips-help"), "A key that may delete files and delete projects needs them.")

	// A key that may delete, without ranges: refused, in words.
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "cleanup"), chromedp.Click(chromedp.ID("kc-perm-files-delete")),
		chromedp.Click(chromedp.ID("kc-create-submit")), chromedp.WaitVisible(chromedp.ID("kc-create-error")))
	assert.Contains(t, b.Text("#kc-create-error"), "A key that may delete files must be limited to IP ranges")

	// With a range the test's requests are not from.
	run(chromedp.SendKeys(chromedp.ID("kc-key-ips"), "192.0.2.0/24, 2001:db8::/32"), chromedp.Click(chromedp.ID("kc-perm-files-read")),
		chromedp.Click(chromedp.ID("kc-create-submit")), chromedp.WaitVisible(chromedp.ID("kc-new-key")))
	key, err := chromedp.Run(b.Context(), chromedp.Value(chromedp.ID("kc-new-key-value")))
	require.NoError(t, err)
	keyID := strings.Split(key, "_")[1]
	run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	row := `tr[data-key-id="` + keyID + `"]`
	assert.Contains(t, b.Text(row+` td[data-label="Permissions"]`), "192.0.2.0/24")
	assert.Contains(t, b.Text(row+` td[data-label="Permissions"]`), "2001:db8::/32")
	api := keycaptest.NewClient(t, srv.URL).WithKey(key)
	resp := api.DoJSON(t, http.MethodGet, "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeIPNotAllowed)
	assert.Contains(t, resp.Error(t).Message, "127.0.0.1")

	// A bad range is explained and changes nothing; Escape cancels.
	change := chromedp.CSS(`button[data-ips="` + keyID + `"]`)
	run(chromedp.Click(change), chromedp.WaitVisible(chromedp.ID("kc-ips-dialog")))
	assert.Equal(t, "kc-ips-value", eval(`document.activeElement.id`))
	assert.Equal(t, "192.0.2.0/24\n2001:db8::/32", eval(`document.getElementById('kc-ips-value').value`))
	run(chromedp.SetValue(chromedp.ID("kc-ips-value"), "127.0.0.1\n10.0.0.7/8"), chromedp.Click(chromedp.ID("kc-ips-save")),
		chromedp.WaitVisible(chromedp.ID("kc-ips-error")))
	assert.Contains(t, b.Text("#kc-ips-error"), "Please check the IP ranges: The 2nd range (10.0.0.7/8) has bits set past its length: write 10.0.0.0/8")
	run(chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("kc-ips-dialog")))
	assert.Equal(t, keyID, eval(`document.activeElement.dataset.ips`), "focus comes back to the key's button")
	keycaptest.RequireCode(t, api.DoJSON(t, http.MethodGet, "/api/files", nil), keycap.CodeIPNotAllowed)

	// Adding the test's address lets the key in.
	run(chromedp.Click(change), chromedp.WaitVisible(chromedp.ID("kc-ips-dialog")),
		chromedp.SetValue(chromedp.ID("kc-ips-value"), "192.0.2.0/24\n127.0.0.1"), chromedp.Click(chromedp.ID("kc-ips-save")),
		chromedp.WaitNotVisible(chromedp.ID("kc-ips-dialog")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('may now be used only from')`)
	b.WaitFor(`document.activeElement && document.activeElement.dataset.ips === '` + keyID + `'`)
	assert.Contains(t, b.Text(row+` td[data-label="Permissions"]`), "127.0.0.1/32")
	assert.Equal(t, http.StatusOK, api.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)
	b.Shot("ip-ranges", chromedp.Screenshot(chromedp.CSS(`section[aria-labelledby="kc-keys-title"]`)))

	// Emptying the list would let a key that may delete be used from
	// anywhere: refused, in words, and nothing changes.
	run(chromedp.Click(change), chromedp.WaitVisible(chromedp.ID("kc-ips-dialog")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('kc-ips-value').value = ''`),
		chromedp.Click(chromedp.ID("kc-ips-save")), chromedp.WaitVisible(chromedp.ID("kc-ips-error")))
	assert.Contains(t, b.Text("#kc-ips-error"), "A key that may delete files must be limited to IP ranges")
	run(chromedp.Click(chromedp.ID("kc-ips-cancel")), chromedp.WaitNotVisible(chromedp.ID("kc-ips-dialog")))
	assert.Equal(t, http.StatusOK, api.DoJSON(t, http.MethodGet, "/api/files", nil).StatusCode)

	// A key created without ranges is used from anywhere.
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "reader"), chromedp.Click(chromedp.ID("kc-perm-files-read")),
		chromedp.Click(chromedp.ID("kc-create-submit")), chromedp.WaitVisible(chromedp.ID("kc-new-key")))
	open, err := chromedp.Run(b.Context(), chromedp.Value(chromedp.ID("kc-new-key-value")))
	require.NoError(t, err)
	run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	assert.Equal(t, "read files\nfrom anywhere", b.Text(`tr[data-key-id="`+strings.Split(open, "_")[1]+`"] td[data-label="Permissions"]`))
	assert.Equal(t, true, eval(`document.querySelector('.kc-table-wrap').scrollWidth <= document.querySelector('.kc-table-wrap').clientWidth`),
		"the key table fits at 1280 px, with the ranges and the IP ranges button")

	b.RequireQuietConsole(append(quietConsole, "status of 400 ")...) // and the bad range, refused by design
}
