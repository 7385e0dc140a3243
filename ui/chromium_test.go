package ui_test

import (
	"testing"

	"github.com/keycaphq/keycap/internal/browsertest"
)

// browserSession is headless Chromium with one tab (internal/browsertest).
type browserSession = browsertest.Session

// startBrowser starts Chromium, or skips (fails with
// KEYCAP_REQUIRE_SERVICES=1) when it is not installed.
func startBrowser(t *testing.T) *browserSession { return browsertest.Start(t) }

// quietConsole are the console errors the tests provoke by design.
var quietConsole = []string{"the server responded with a status of 4"}
