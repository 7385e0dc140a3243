// Package browsertest drives headless Chromium (chromedp) for the
// browser tests of the example and of package ui.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/testenv"
)

// Session is headless Chromium with one tab, bounded by sessionTimeout.
type Session struct {
	t     *testing.T
	ctx   context.Context
	ran   bool // a Run has loaded something: Settle has a page to ask
	shots map[string][]byte
	mu    sync.Mutex
	logs  []chromedp.ConsoleMessage
}

// sessionTimeout bounds a whole browser walk. A walk takes 20–60 s on a
// shared 2-core machine under load (TestMountedPage, TestBrowser): 60 s
// failed them for load alone; a hung page still fails, later.
const sessionTimeout = 180 * time.Second

// Start starts Chromium, or skips (fails with
// KEYCAP_REQUIRE_SERVICES=1) when it is not installed.
func Start(t *testing.T) *Session {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		testenv.Unavailable(t, "Chromium", "no chromium on PATH; apt-get install chromium")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sessionTimeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	s := &Session{t: t, ctx: tabCtx, shots: map[string][]byte{}}
	if err := chromedp.Do(tabCtx); err != nil { // starts the browser
		testenv.Unavailable(t, "Chromium", "it did not start: "+err.Error())
		return nil
	}
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(tabCtx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted})
		require.NoError(t, err)
	}
	messages := chromedp.Console(tabCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			s.mu.Lock()
			s.logs = append(s.logs, m)
			s.mu.Unlock()
		}
	}()
	return s
}

// Context is the tab's context, for chromedp.Run.
func (s *Session) Context() context.Context { return s.ctx }

// Run runs actions in the tab, once a key page in it has settled (see
// [Session.Settle]): a click then finds the element where it is drawn.
func (s *Session) Run(actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	if s.ran {
		s.Settle()
	}
	s.ran = true
	require.NoError(s.t, chromedp.Do(s.ctx, actions...))
}

// Eval evaluates js in the page and returns its JSON value decoded as any.
func (s *Session) Eval(js string, opts ...chromedp.EvaluateOption) any {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Evaluate[any](js, opts...))
	require.NoError(s.t, err, "evaluating %s", js)
	return v
}

// Text returns the visible text of the first element matching css.
func (s *Session) Text(css string) string {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(s.t, err, "reading %s", css)
	return strings.TrimSpace(v)
}

// WaitFor polls the JavaScript condition until it is true (10 s at most).
func (s *Session) WaitFor(condition string) {
	s.t.Helper()
	_, err := chromedp.Run(s.ctx, chromedp.Poll[chromedp.Void](condition, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(s.t, err, "waiting for %s", condition)
}

// Settle waits until the key page has no request in flight (its
// container's data-pending is "0"): what a reply redraws (the list, the
// cap, the status line) can no longer move the element a click aims at.
func (s *Session) Settle() {
	s.t.Helper()
	s.WaitFor(`Array.from(document.querySelectorAll('[data-keycap]')).every(e => (e.dataset.pending || '0') === '0')`)
}

// Shot takes a screenshot and writes it to the test's artifact directory.
func (s *Session) Shot(name string, action chromedp.Action[[]byte]) {
	s.t.Helper()
	png, err := chromedp.Run(s.ctx, action)
	require.NoError(s.t, err, "screenshot %s", name)
	s.shots[name] = png
	require.NoError(s.t, os.WriteFile(filepath.Join(s.t.ArtifactDir(), name+".png"), png, 0o644))
}

// Publish copies the named screenshots to dir, for the README.
func (s *Session) Publish(dir string, names ...string) {
	s.t.Helper()
	require.NoError(s.t, os.MkdirAll(dir, 0o755))
	for _, name := range names {
		require.NoError(s.t, os.WriteFile(filepath.Join(dir, name+".png"), s.shots[name], 0o644))
	}
	s.t.Logf("wrote %d screenshots to %s", len(names), dir)
}

// RequireQuietConsole fails on page errors (exceptions, CSP violations)
// except the messages holding one of expected: the refusals a test
// provokes by design.
func (s *Session) RequireQuietConsole(expected ...string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.logs {
		if !m.IsException() && m.Type != chromedp.ConsoleError {
			continue
		}
		if slices.ContainsFunc(expected, func(e string) bool { return strings.Contains(m.Text, e) }) {
			continue
		}
		s.t.Errorf("console: %s", m.String())
	}
}
