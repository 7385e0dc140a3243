package openapicheck

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

// Main runs a test binary's tests with every client that uses
// http.DefaultTransport checked against doc (the requests under prefix),
// prints what was checked, and fails the run when an exchange does not
// match the document, or, when the whole suite ran (no -run), when a
// documented path was never exercised. Call it from TestMain.
func Main(m *testing.M, doc []byte, prefix string) {
	c, err := New(doc, prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	inner := http.DefaultTransport
	http.DefaultTransport = c.Transport(inner)
	code := m.Run()
	http.DefaultTransport = inner
	failures, summary := c.Report()
	if testing.Verbose() || len(failures) > 0 {
		fmt.Println(summary)
	}
	if run := flag.Lookup("test.run"); code == 0 && run != nil && run.Value.String() == "" {
		if missed := c.unexercised(); len(missed) > 0 {
			failures = append(failures, "documented paths no test exercised: "+strings.Join(missed, ", "))
		}
	}
	for _, f := range failures {
		fmt.Fprintln(os.Stderr, "FAIL openapicheck:", f)
	}
	if len(failures) > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// unexercised returns the documented paths no checked exchange reached.
func (c *Checker) unexercised() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	reached := map[string]bool{}
	for what := range c.checked {
		parts := strings.Fields(what)
		reached[parts[1]] = true
	}
	var out []string
	for _, path := range c.doc.Paths.InMatchingOrder() {
		if !reached[path] {
			out = append(out, path)
		}
	}
	return out
}
