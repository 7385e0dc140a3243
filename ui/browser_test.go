package ui_test

import (
	"context"
	_ "embed"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
	"github.com/keycaphq/keycap/ui"
)

// axe is axe-core 4.14.1 (MPL-2.0, testdata/axe/LICENSE), from npm: the
// accessibility checks run in the page, served by the test, no network.
//
//go:embed testdata/axe/axe.min.js
var axe []byte

// miniApp is an app that is not the example: a memstore, two roles, two
// templates, a 90-day maximum lifetime, scs sessions, the keys API, and
// the page mounted in one line at /keys, behind a strict CSP. GET /login
// logs alice in (a test's shortcut for a login form).
type miniApp struct {
	srv     *httptest.Server
	manager *keys.Manager
	store   *memstore.Store
}

func newMiniApp(t *testing.T, options ...func(*keys.Config)) *miniApp {
	t.Helper()
	return newMiniAppWith(t, nil, options...)
}

// newMiniAppWith is newMiniApp with the page's options changed by page
// (nil: none).
func newMiniAppWith(t *testing.T, page func(*ui.Options), options ...func(*keys.Config)) *miniApp {
	t.Helper()
	member := policy.MustParse("files:read", "files:write", "projects:read")
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true, MaxLifetime: 90 * 24 * time.Hour,
		Roles: map[string]policy.Permissions{"member": member, "owner": policy.MustParse("files:read", "files:write", "files:delete", "projects:read", "projects:write")},
		Templates: []policy.Template{
			{Name: "Read-only dashboard", Description: "read files and projects", Permissions: policy.MustParse("files:read", "projects:read")},
			{Name: "Project admin", Permissions: policy.MustParse("projects:read", "projects:write")},
		}})
	users := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"member"}}, nil
	})
	log := audit.NewMemory(500)
	store := memstore.New()
	config := keys.Config{Store: store, Policy: pol, Subjects: users,
		Secret: []byte("0123456789abcdef0123456789abcdef"), Auditor: log, LastUsedInterval: 100 * time.Millisecond}
	for _, o := range options {
		o(&config)
	}
	mgr, err := keys.NewManager(config)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mgr.Close() })
	sm := scs.New()
	sessions := session.SCS(sm, "user")
	kc, err := middleware.New(middleware.Options{Manager: mgr, Sessions: sessions, Activity: log})
	require.NoError(t, err)
	pageOptions := ui.Options{Manager: mgr, Sessions: sessions, Activity: true, LoginURL: "/login",
		Try: []ui.Route{{Permission: "files:read", Path: "/api/files"}}}
	if page != nil {
		page(&pageOptions)
	}
	keysPage, err := ui.New(pageOptions)
	require.NoError(t, err)

	mux := http.NewServeMux()
	kc.Mount(mux)
	keysPage.Mount(mux, "/keys") // the one line
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.LogIn(r.Context(), "alice"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/keys/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /axe.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(axe)
	})
	csp := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
			next.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(csp(sm.LoadAndSave(kc.Authenticate(mux))))
	t.Cleanup(srv.Close)
	return &miniApp{srv: srv, manager: mgr, store: store}
}

// axeCheck runs axe-core in the page and fails on serious or critical
// violations.
func axeCheck(t *testing.T, s *browserSession, what string) {
	t.Helper()
	s.Eval(`window.axe ? true : new Promise((ok, fail) => { const x = document.createElement('script');
		x.src = '/axe.js'; x.onload = () => ok(true); x.onerror = fail; document.head.append(x); })`, chromedp.EvalAwaitPromise)
	got := s.Eval(`axe.run(document).then(r => ({passes: r.passes.length, violations: r.violations
		.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')}))`, chromedp.EvalAwaitPromise).(map[string]any)
	assert.Greater(t, got["passes"], 10.0, "axe-core ran its rules %s", what)
	assert.Empty(t, got["violations"], "axe-core: serious violations %s", what)
}

// TestMountedPage walks the page of package ui inside miniApp as alice.
func TestMountedPage(t *testing.T) {
	b := startBrowser(t)
	app := newMiniApp(t)
	run, eval := b.Run, b.Eval
	ctx := context.Background()

	run(chromedp.Navigate(app.srv.URL+"/keys/"), chromedp.WaitVisible(chromedp.CSS(`main[data-ready="true"]`)))
	assert.Contains(t, b.Text("#kc-cap"), "read and write files; read projects")
	axeCheck(t, b, "on the empty page")

	// Templates: the one beyond alice's role is listed, off, with why.
	options := eval(`Array.from(document.querySelectorAll('#kc-key-template option'), o => [o.value, o.disabled, o.textContent])`).([]any)
	require.Len(t, options, 3)
	assert.Equal(t, []any{"Read-only dashboard", false, "Read-only dashboard — read files and projects"}, options[1])
	assert.Equal(t, "Project admin", options[2].([]any)[0])
	assert.Equal(t, true, options[2].([]any)[1])
	assert.Contains(t, options[2].([]any)[2], "can’t grant write projects")
	assert.Equal(t, "Keys may live at most 90 days.", b.Text("#kc-key-expiry-max"))

	// Create from a template: its permissions are checked, the key holds them.
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "dashboard"), chromedp.SetValue(chromedp.ID("kc-key-template"), "Read-only dashboard"))
	eval(`document.getElementById('kc-key-template').dispatchEvent(new Event('change', {bubbles: true}))`)
	checked := eval(`Array.from(document.querySelectorAll('#kc-picker-body input:checked'), i => i.value).sort()`)
	assert.Equal(t, []any{"files:read", "projects:read"}, checked)
	run(chromedp.Click(chromedp.ID("kc-create-submit")), chromedp.WaitVisible(chromedp.ID("kc-new-key")))
	b.Shot("ui-new-key", chromedp.CaptureScreenshot())
	run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	dashboard := onlyKey(t, app, "dashboard")
	assert.Equal(t, policy.MustParse("files:read", "projects:read"), dashboard.Permissions)

	// A custom expiry beyond the maximum is refused, the maximum shown.
	run(chromedp.SendKeys(chromedp.ID("kc-key-name"), "long"), chromedp.Click(chromedp.ID("kc-perm-files-read")),
		chromedp.SetValue(chromedp.ID("kc-key-expiry"), "date"))
	eval(`document.getElementById('kc-key-expiry').dispatchEvent(new Event('change', {bubbles: true}))`)
	assert.Equal(t, "kc-key-expiry-date", eval(`document.activeElement.id`), "the date field takes focus")
	far := time.Now().AddDate(0, 0, 200).Format("2006-01-02")
	eval(`document.getElementById('kc-key-expiry-date').value = '` + far + `'`)
	run(chromedp.Click(chromedp.ID("kc-create-submit")))
	b.WaitFor(`!document.getElementById('kc-create-error').hidden`)
	refused := b.Text("#kc-create-error")
	assert.Contains(t, refused, "An expiry in 200 days exceeds the maximum of 90 days")
	assert.Contains(t, refused, "may live at most 90 days")
	assert.Nil(t, findKey(t, app, "long"), "nothing created")
	// The activity says it in the same words, not Go's ("4816h2m48s").
	b.WaitFor(`document.querySelector('#kc-activity-list .kc-event-refused') !== null`)
	feed := b.Text("#kc-activity-list")
	assert.Contains(t, feed, "Refused a new key: An expiry in 200 days exceeds the maximum of 90 days.")
	assert.NotRegexp(t, `\d+h\d+m|\d+m\d+s|_seconds|expires_in`, feed, "no Go durations or API field names")

	// A refill is explained before anything is sent, and when the server
	// refuses one, in the page's words.
	run(chromedp.SendKeys(chromedp.ID("kc-key-refill-amount"), "3"))
	eval(`document.activeElement.blur()`)
	run(chromedp.Click(chromedp.ID("kc-create-submit")))
	b.WaitFor(`!document.getElementById('kc-create-error').hidden`)
	assert.Equal(t, "Choose how often the quota refills to 3 requests, or leave the refill empty.", b.Text("#kc-create-error"))
	run(chromedp.SetValue(chromedp.ID("kc-key-refill-interval"), "3600"))
	eval(`document.getElementById('kc-key-refill-interval').dispatchEvent(new Event('change', {bubbles: true}))`)
	run(chromedp.Click(chromedp.ID("kc-create-submit")))
	b.WaitFor(`!document.getElementById('kc-create-error').hidden`)
	assert.Equal(t, "A refill needs a request quota: say how many requests the key may make until the first refill.", b.Text("#kc-create-error"))
	assert.Nil(t, findKey(t, app, "long"), "nothing created")
	eval(`window.keycap.createKey({name: 'refill only', permissions: {files: ['read']}, refill_amount: 3, refill_interval_seconds: 60})`)
	b.WaitFor(`document.getElementById('kc-create-error').textContent.includes('refill')`)
	serverSays := b.Text("#kc-create-error")
	assert.Contains(t, serverSays, "A refill needs a quota: set request quota too", "the server's refusal, its field named as the page labels it")
	assert.NotContains(t, serverSays, "remaining")
	assert.Nil(t, findKey(t, app, "refill only"), "nothing created")

	// Within it, with a description and a quota that refills: created,
	// the quota shown in the list.
	near := time.Now().AddDate(0, 0, 20).Format("2006-01-02")
	eval(`document.getElementById('kc-key-expiry-date').value = '` + near + `'`)
	// Leaving the field clears the old refusal (a change); blur first, so
	// the button does not move under the click.
	run(chromedp.SendKeys(chromedp.ID("kc-key-quota"), "5"),
		chromedp.SendKeys(chromedp.ID("kc-key-description"), "Nightly export\nrun by the ops team"))
	eval(`document.activeElement.blur()`)
	run(chromedp.Click(chromedp.ID("kc-create-submit")))
	b.WaitFor(`!document.getElementById('kc-new-key').hidden || !document.getElementById('kc-create-error').hidden`)
	require.Empty(t, eval(`document.getElementById('kc-create-error').textContent`))
	longSecret := eval(`document.getElementById('kc-new-key-value').value`).(string)
	run(chromedp.Click(chromedp.ID("kc-new-key-done")), chromedp.WaitNotVisible(chromedp.ID("kc-new-key")))
	long := onlyKey(t, app, "long")
	assert.WithinDuration(t, time.Now().AddDate(0, 0, 21), long.ExpiresAt, 26*time.Hour)
	require.NotNil(t, long.Remaining)
	assert.Equal(t, int64(5), *long.Remaining)
	assert.Equal(t, int64(3), long.RefillAmount)
	assert.Equal(t, time.Hour, long.RefillInterval)
	assert.Equal(t, "Nightly export\nrun by the ops team", long.Description)
	row := b.Text(`tr[data-key-id="` + long.ID + `"]`)
	assert.Contains(t, row, "5 requests left (refills back to 3 requests every hour)")
	assert.Contains(t, row, "Nightly export")

	// The key is used from an address, and creates a key of its own.
	used, err := app.manager.Verify(ctx, longSecret, "203.0.113.9")
	require.NoError(t, err)
	child, _, err := app.manager.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "child of long", Permissions: policy.MustParse("files:read"), Caller: used})
	require.NoError(t, err)
	require.Eventually(t, func() bool { k, _ := app.store.Get(ctx, long.ID); return k.LastUsedIP != "" }, 5*time.Second, 10*time.Millisecond)
	run(chromedp.Click(chromedp.ID("kc-activity-refresh")))
	b.WaitFor(`document.querySelector('tr[data-key-id="` + child.ID + `"]') !== null`)

	// Edit within the cap; a widening beyond it is refused, explained.
	run(chromedp.Click(chromedp.CSS(`button[data-edit="`+dashboard.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	assert.Equal(t, "kc-edit-name", eval(`document.activeElement.id`))
	assert.Equal(t, true, eval(`document.getElementById('kc-edit-perm-files-delete').disabled`))
	axeCheck(t, b, "with the edit dialog open")
	run(chromedp.Click(chromedp.ID("kc-edit-perm-projects-read")), chromedp.Click(chromedp.ID("kc-edit-perm-files-write")),
		chromedp.SendKeys(chromedp.ID("kc-edit-description"), "Wall display in the office"),
		chromedp.Click(chromedp.ID("kc-edit-save")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('saved')`)
	assert.Equal(t, policy.MustParse("files:read", "files:write"), onlyKey(t, app, "dashboard").Permissions)
	assert.Equal(t, "Wall display in the office", onlyKey(t, app, "dashboard").Description)
	// A description the server refuses is explained, and nothing is written.
	run(chromedp.Click(chromedp.CSS(`button[data-edit="`+dashboard.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	assert.Equal(t, "Wall display in the office", eval(`document.getElementById('kc-edit-description').value`))
	eval(`document.getElementById('kc-edit-description').value = 'Wall display\u202E in the office'`)
	run(chromedp.Click(chromedp.ID("kc-edit-save")))
	b.WaitFor(`!document.getElementById('kc-edit-error').hidden`)
	assert.Contains(t, b.Text("#kc-edit-error"), "Please check the description: The description must not contain invisible characters")
	assert.Equal(t, "Wall display in the office", onlyKey(t, app, "dashboard").Description, "nothing written")
	run(chromedp.Click(chromedp.ID("kc-edit-cancel")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))
	run(chromedp.Click(chromedp.CSS(`button[data-edit="`+dashboard.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	eval(`(b => { b.disabled = false; b.click(); })(document.getElementById('kc-edit-perm-files-delete'))`) // what the form would not send
	run(chromedp.Click(chromedp.ID("kc-edit-save")))
	b.WaitFor(`!document.getElementById('kc-edit-error').hidden`)
	assert.Contains(t, b.Text("#kc-edit-error"), "You can’t give a key permission to delete files")
	assert.Contains(t, b.Text("#kc-edit-error"), "You may grant at most: read and write files; read projects.")
	assert.Equal(t, "kc-edit-error", eval(`document.activeElement.id`))
	assert.Equal(t, policy.MustParse("files:read", "files:write"), onlyKey(t, app, "dashboard").Permissions, "nothing written")
	run(chromedp.Click(chromedp.ID("kc-edit-cancel")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))
	assert.Equal(t, dashboard.ID, eval(`document.activeElement.dataset.edit`), "focus goes back")

	// Detail view: permissions, quota, the key's own activity.
	run(chromedp.Click(chromedp.CSS(`button[data-details="`+long.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-detail-dialog")))
	b.WaitFor(`document.getElementById('kc-detail-events') !== null`)
	details := b.Text("#kc-detail-list")
	assert.Contains(t, details, "read files")
	assert.Contains(t, details, "Requests left")
	assert.Contains(t, details, "Nightly export\nrun by the ops team")
	assert.Contains(t, details, "Quota refill\nback to 3 requests every hour; not refilled yet")
	assert.Contains(t, details, "Last used from\n203.0.113.9")
	assert.Contains(t, details, "Parent key\nnone: created by a person")
	assert.Contains(t, b.Text("#kc-detail-events"), "created “long”")
	assert.NotContains(t, b.Text("#kc-detail-events"), "dashboard", "only this key's activity")
	b.Shot("ui-details", chromedp.CaptureScreenshot())
	axeCheck(t, b, "with the detail dialog open")
	run(chromedp.Click(chromedp.ID("kc-detail-close")), chromedp.WaitNotVisible(chromedp.ID("kc-detail-dialog")))
	run(chromedp.Click(chromedp.CSS(`button[data-details="`+child.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-detail-dialog")))
	details = b.Text("#kc-detail-list")
	assert.Contains(t, details, "Parent key\n“long” ("+long.ID+")")
	assert.Contains(t, details, "Created by\nthe key “long”")
	assert.Contains(t, details, "Last used\nnever")
	assert.NotContains(t, details, "Last used from")
	run(chromedp.Click(chromedp.ID("kc-detail-close")), chromedp.WaitNotVisible(chromedp.ID("kc-detail-dialog")))
	// Editing a key with a quota shows it and lowers it; the list shows
	// what is left.
	run(chromedp.Click(chromedp.CSS(`button[data-edit="`+long.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-edit-dialog")))
	assert.Equal(t, "Request quota now: 5 left, refilling back to 3 requests every hour.", b.Text("#kc-edit-quota"))
	assert.Equal(t, "5", eval(`document.getElementById('kc-edit-remaining').value`))
	assert.Equal(t, "3600", eval(`document.getElementById('kc-edit-refill-interval').value`))
	eval(`document.getElementById('kc-edit-remaining').value = '2'`)
	run(chromedp.Click(chromedp.ID("kc-edit-save")), chromedp.WaitNotVisible(chromedp.ID("kc-edit-dialog")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('2 requests left')`)
	assert.Equal(t, int64(2), *onlyKey(t, app, "long").Remaining)
	assert.Equal(t, int64(3), onlyKey(t, app, "long").RefillAmount, "the refill is kept")
	assert.Contains(t, b.Text(`tr[data-key-id="`+long.ID+`"]`), "2 requests left (refills back to 3 requests every hour)")

	// Revoke with a reason.
	run(chromedp.Click(chromedp.CSS(`button[data-revoke="`+long.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("kc-revoke-dialog")),
		chromedp.SendKeys(chromedp.ID("kc-revoke-reason"), "no longer needed"), chromedp.Click(chromedp.ID("kc-revoke-confirm")))
	b.WaitFor(`document.getElementById('kc-status').textContent.includes('revoked')`)
	revoked, err := app.store.Get(ctx, long.ID)
	require.NoError(t, err)
	assert.True(t, !revoked.RevokedAt.IsZero())
	assert.Equal(t, "no longer needed", revoked.RevokedReason)

	// Filter: revoked keys only, then active ones only.
	run(chromedp.SetValue(chromedp.ID("kc-keys-filter"), "revoked"))
	eval(`document.getElementById('kc-keys-filter').dispatchEvent(new Event('change'))`)
	assert.Equal(t, []any{child.ID, long.ID}, eval(`Array.from(document.querySelectorAll('#kc-keys-table tbody tr'), r => r.dataset.keyId)`),
		"revoking a key revokes the keys created through it")
	run(chromedp.SetValue(chromedp.ID("kc-keys-filter"), "active"))
	eval(`document.getElementById('kc-keys-filter').dispatchEvent(new Event('change'))`)
	assert.Equal(t, []any{dashboard.ID}, eval(`Array.from(document.querySelectorAll('#kc-keys-table tbody tr'), r => r.dataset.keyId)`))
	run(chromedp.SetValue(chromedp.ID("kc-keys-filter"), "all"))
	eval(`document.getElementById('kc-keys-filter').dispatchEvent(new Event('change'))`)
	b.Shot("ui-keys", chromedp.FullScreenshot(100))

	// Turn off and on.
	run(chromedp.Click(chromedp.CSS(`button[data-disable="` + dashboard.ID + `"]`)))
	b.WaitFor(`document.querySelector('button[data-enable="` + dashboard.ID + `"]') !== null`)
	assert.True(t, onlyKey(t, app, "dashboard").Disabled)
	run(chromedp.Click(chromedp.CSS(`button[data-enable="` + dashboard.ID + `"]`)))
	b.WaitFor(`document.querySelector('button[data-disable="` + dashboard.ID + `"]') !== null`)
	assert.False(t, onlyKey(t, app, "dashboard").Disabled)

	// At phone width the page fits: no sideways scrolling.
	run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	assert.Equal(t, true, eval(`document.documentElement.scrollWidth <= window.innerWidth`))
	b.Shot("ui-phone", chromedp.CaptureScreenshot())
	axeCheck(t, b, "at phone width")

	b.RequireQuietConsole(quietConsole...)
	if os.Getenv("KEYCAP_UPDATE_SCREENSHOTS") == "1" {
		b.Publish(filepath.Join("..", "docs", "screenshots"), "ui-keys", "ui-new-key", "ui-details", "ui-phone")
	}
}

// findKey returns alice's key named name, or nil.
func findKey(t *testing.T, app *miniApp, name string) *keys.Key {
	t.Helper()
	list, err := app.store.List(context.Background(), "alice", keys.Page{Limit: 100})
	require.NoError(t, err)
	for _, k := range list {
		if strings.EqualFold(k.Name, name) {
			return k
		}
	}
	return nil
}

func onlyKey(t *testing.T, app *miniApp, name string) *keys.Key {
	t.Helper()
	k := findKey(t, app, name)
	require.NotNil(t, k, "no key named %q", name)
	return k
}
