// Package testenv lets tests that need an outside service (Postgres, MySQL,
// Redis, Chromium) skip with one line saying why on a laptop without it,
// and fail instead when KEYCAP_REQUIRE_SERVICES=1 (as .ci/run sets).
package testenv

import (
	"net"
	"os"
	"testing"
	"time"
)

// Required reports whether missing services must fail the run.
func Required() bool { return os.Getenv("KEYCAP_REQUIRE_SERVICES") == "1" }

// Unavailable skips t (or fails it, when services are required) because
// service is not usable, with why.
func Unavailable(t testing.TB, service, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required (KEYCAP_REQUIRE_SERVICES=1) but not usable: %s", service, why)
	}
	t.Skipf("skipping: %s not reachable (%s); set KEYCAP_REQUIRE_SERVICES=1 to make this fail", service, why)
}

// Dial skips or fails t unless a TCP service answers at addr.
func Dial(t testing.TB, service, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		Unavailable(t, service, err.Error())
		return
	}
	c.Close()
}

// Env returns the environment variable name, or fallback when it is unset.
func Env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
