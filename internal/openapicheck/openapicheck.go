// Package openapicheck validates real HTTP exchanges against keycap's
// OpenAPI document with kin-openapi, so that the document stays true: a
// test suite wraps its clients' transport ([Checker.Transport]), and every
// request and answer it exchanges with a documented route is checked.
package openapicheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SkipHeader, sent with any value, asks the checker to leave an exchange
// out: for answers that are deliberately not keycap's, such as a test's
// own OnError writer or a path the app serves itself. The value says why.
const SkipHeader = "X-Openapicheck-Skip"

// Checker validates exchanges against one document. Safe for concurrent
// use.
type Checker struct {
	doc    *openapi3.T
	router routers.Router
	prefix string // only requests whose path starts with it are checked

	mu       sync.Mutex
	checked  map[string]int // "METHOD /path STATUS" → exchanges checked
	failures []string
	skipped  int
}

// New loads and validates doc (OpenAPI 3.1) and returns a Checker of the
// requests under prefix (such as "/api-keys").
func New(doc []byte, prefix string) (*Checker, error) {
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: load: %w", err)
	}
	if !t.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapicheck: the document is OpenAPI %s, not 3.1", t.OpenAPI)
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapicheck: the document is not valid: %w", err)
	}
	router, err := gorillamux.NewRouter(t)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: router: %w", err)
	}
	return &Checker{doc: t, router: router, prefix: prefix, checked: map[string]int{}}, nil
}

// Transport returns a RoundTripper that sends requests with inner (nil:
// http.DefaultTransport) and checks every exchange under the prefix.
func (c *Checker) Transport(inner http.RoundTripper) http.RoundTripper {
	if inner == nil {
		inner = http.DefaultTransport
	}
	return roundTripper{c, inner}
}

type roundTripper struct {
	c     *Checker
	inner http.RoundTripper
}

// CloseIdleConnections closes the inner transport's idle connections, as
// http.Client.CloseIdleConnections does.
func (rt roundTripper) CloseIdleConnections() {
	if idle, ok := rt.inner.(interface{ CloseIdleConnections() }); ok {
		idle.CloseIdleConnections()
	}
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, rt.c.prefix) || req.Header.Get(SkipHeader) != "" {
		return rt.inner.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	sent := req.Clone(req.Context())
	resp, err := rt.inner.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	if err != nil {
		return resp, err
	}
	sent.Body = io.NopCloser(bytes.NewReader(body))
	rt.c.check(sent, body, resp, answer)
	return resp, nil
}

// check validates one exchange: the answer always; the request too, and a
// request the document calls invalid must have been refused (4xx).
func (c *Checker) check(req *http.Request, body []byte, resp *http.Response, answer []byte) {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.mu.Lock()
		c.skipped++ // a path or method the document does not describe (such as a 404 or 405 probe)
		c.mu.Unlock()
		return
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: false}}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(answer)
	respErr := openapi3filter.ValidateResponse(ctx, out)
	what := req.Method + " " + route.Path + " " + fmt.Sprint(resp.StatusCode)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked[what]++
	switch {
	case respErr != nil:
		c.failures = append(c.failures, fmt.Sprintf("%s %s: the answer does not match the document: %v\nanswer: %s", req.Method, req.URL, respErr, clip(answer)))
	case reqErr != nil && (resp.StatusCode < 400 || resp.StatusCode >= 500):
		c.failures = append(c.failures, fmt.Sprintf("%s %s: a request the document calls invalid was answered %d: %v\nbody: %s", req.Method, req.URL, resp.StatusCode, reqErr, clip(body)))
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// Report returns the failures so far, and a summary of what was checked:
// exchanges per operation and status, and how many were not described.
func (c *Checker) Report() (failures []string, summary string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	lines := make([]string, 0, len(c.checked))
	for what, n := range c.checked {
		total += n
		lines = append(lines, fmt.Sprintf("  %5d  %s", n, what))
	}
	sort.Strings(lines)
	summary = fmt.Sprintf("openapicheck: %d exchanges checked against the OpenAPI document (%d operation/status pairs), %d not described (probes of other routes or methods)\n%s",
		total, len(lines), c.skipped, strings.Join(lines, "\n"))
	return append([]string(nil), c.failures...), summary
}

// Operations returns the "METHOD /path" of every operation the document
// describes, sorted.
func (c *Checker) Operations() []string {
	var out []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}
