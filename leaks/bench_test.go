package leaks_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keycaphq/keycap/internal/keyforge"
)

// BenchmarkGitHubReport serves signed reports in process: the signature
// check alone (no match), and 100 matches none of which is the app's
// (each a checksum, most a lookup), against a bare handler that only
// reads the body.
func BenchmarkGitHubReport(b *testing.B) {
	a := newApp(b)
	var tokens []string
	for i := range 100 {
		if i%2 == 0 {
			tokens = append(tokens, keyforge.Key("acme", keyforge.ID(a.now))) // well formed, unknown
		} else {
			tokens = append(tokens, "ghp_"+strings.Repeat("x", 36)) // another vendor's
		}
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	for _, bc := range []struct {
		name    string
		body    []byte
		handler http.Handler
	}{
		{"bare", report(b, tokens...), bare},
		{"no match", []byte("[]"), a.handler},
		{"100 matches", report(b, tokens...), a.handler},
	} {
		header := signed(b, a.github, bc.body)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/github/secret-scanning", bytes.NewReader(bc.body))
				req.Header = header
				w := httptest.NewRecorder()
				bc.handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
