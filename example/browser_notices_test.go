package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestBrowserNotices: alice's page lists what the notices scheduler told
// her, in sentences: a key GitHub found in public and that was revoked at
// once, a key expiring tomorrow, a key an administrator turned off.
func TestBrowserNotices(t *testing.T) {
	b := startBrowser(t)
	g := newFakeGitHub(t)
	a, base := newAppWithGitHub(t, g, io.Discard)
	ctx := t.Context()
	create := func(name string, lifetime time.Duration) (*keys.Key, string) {
		k, token, err := a.manager.Create(ctx, keys.CreateRequest{Owner: "alice", Name: name, Permissions: policy.MustParse("files:read"), Lifetime: lifetime})
		require.NoError(t, err)
		return k, token
	}
	_, leaked := create("deploy script", 30*24*time.Hour)
	create("nightly backup", 36*time.Hour)
	off, _ := create("old laptop", 0)
	yes := true
	_, err := a.manager.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: off.ID}, Actor: audit.User("bob"), Disabled: &yes})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, g.report(t, base, leaked).StatusCode)
	r, err := a.scheduler.RunOnce(ctx, a.manager.Now().Add(13*time.Hour)) // the backup key expires within a day
	require.NoError(t, err)
	require.Equal(t, 3, r.Sent)

	b.Run(chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"), chromedp.SendKeys(chromedp.ID("password"), "alice"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)), chromedp.WaitVisible(chromedp.ID("notices-list")))
	types := b.Eval(`Array.from(document.querySelectorAll('#notices-list li'), li => li.dataset.notice).sort()`)
	assert.Equal(t, []any{"disabled", "expiring", "revoked"}, types)
	text := b.Text("#notices-list")
	for _, sentence := range []string{
		"“deploy script” was found in public and revoked at once (reported by GitHub secret scanning; found at https://github.com/octocat/demo/blob/main/deploy.sh (content)).",
		"“nightly backup” expires in 1 day, on ",
		"“old laptop” was turned off by an administrator (bob).",
	} {
		assert.Contains(t, text, sentence)
	}
	assert.NotContains(t, text, leaked, "the page never shows a key")
	b.Run(chromedp.Click(chromedp.ID("notices-refresh")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('Notices refreshed')`)
	b.Shot("notices", chromedp.Screenshot(chromedp.ID("notices")))
	b.RequireQuietConsole(quietConsole...)
	if os.Getenv("KEYCAP_UPDATE_SCREENSHOTS") == "1" {
		b.Publish(filepath.Join("..", "docs", "screenshots"), "notices")
	}
}
