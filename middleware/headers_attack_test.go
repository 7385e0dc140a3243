package middleware_test

// Attacks on the standard headers and formats of the interop work:
// RateLimit structured fields, problem+json, OnError.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/ratelimit"
)

// RateLimit-Policy and RateLimit are RFC 8941 structured fields, whose
// Integers have at most 15 digits. (A budget of 10^15 requests once made
// every keyed answer carry fields that did not parse; such a budget is now
// refused at New.)
func TestAttackRateLimitFieldIntegerRange(t *testing.T) {
	// A budget the RateLimit headers cannot carry is refused at New.
	for _, limit := range []ratelimit.Limit{{Requests: 1_000_000_000_000_000, Window: time.Hour}} {
		_, err := middleware.New(middleware.Options{Manager: keycaptest.NewApp(t).Manager, RateLimit: middleware.RateLimit{PerKey: limit}})
		assert.ErrorContains(t, err, "999,999,999,999,999")
	}
	// The largest it can carry parses.
	srv := keycaptest.NewApp(t, keycaptest.WithRoutes(filesRoutes), keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.RateLimit = middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 999_999_999_999_999, Window: time.Hour}}
	}))
	k := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "k", filesRead)
	resp := srv.Anonymous(t).WithKey(k.Key).DoJSON(t, "GET", "/api/files", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err := httpsfv.UnmarshalList(resp.Header.Values("RateLimit-Policy"))
	assert.NoError(t, err, "RateLimit-Policy must parse as an RFC 8941 list")
	_, err = httpsfv.UnmarshalList(resp.Header.Values("RateLimit"))
	assert.NoError(t, err, "RateLimit must parse as an RFC 8941 list")
}

// Held: with the owner's budget tighter than the key's, RateLimit names
// "owner" with the owner's numbers; a refusal by either names it with
// r=0; forward auth and introspection callers get the same fields; an
// introspection with CountAsUse off spends nothing of the introspected
// key's budget.
func TestAttackRateLimitFieldNumbers(t *testing.T) {
	f, svcKey := introspectionFixture(t, false, keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.Introspection = middleware.Introspection{Permission: "keys:introspect", Secret: serviceSecret}
		o.ForwardAuth = middleware.ForwardAuth{Rules: gatewayRules}
		o.RateLimit = middleware.RateLimit{
			PerKey:   ratelimit.Limit{Requests: 5, Window: time.Hour},
			PerOwner: ratelimit.Limit{Requests: 3, Window: time.Hour},
		}
	}))
	current := func(resp *keycaptest.Response) (string, map[string]int64) {
		t.Helper()
		list, err := httpsfv.UnmarshalList(resp.Header.Values("RateLimit"))
		require.NoError(t, err, "%q", resp.Header.Values("RateLimit"))
		require.Len(t, list, 1)
		item := list[0].(httpsfv.Item)
		out := map[string]int64{}
		for _, n := range item.Params.Names() {
			v, _ := item.Params.Get(n)
			out[n] = v.(int64)
		}
		return fmt.Sprint(item.Value), out
	}
	// Introspecting alice's key many times spends none of alice's budget.
	for range 10 {
		introspect(t, f, f.aliceKey.Key)
	}
	alice := f.keyClient(t, f.aliceKey.Key)
	for i, want := range []int64{2, 1, 0} {
		resp := ask(t, alice, "GET", "/api/files")
		require.Equal(t, http.StatusOK, resp.StatusCode, "request %d: %s", i, resp.Body)
		name, p := current(resp)
		assert.Equal(t, "owner", name)
		assert.Equal(t, want, p["r"])
		assert.Equal(t, resp.Header.Get("RateLimit-Remaining"), fmt.Sprint(p["r"]))
		assert.Equal(t, resp.Header.Get("RateLimit-Reset"), fmt.Sprint(p["t"]))
		assert.True(t, p["t"] >= 1 && p["t"] <= 3600, "t=%d: the fixed window's end", p["t"])
	}
	resp := ask(t, alice, "GET", "/api/files")
	keycaptest.RequireCode(t, resp, keycap.CodeRateLimited)
	name, p := current(resp)
	assert.Equal(t, "owner", name)
	assert.Equal(t, int64(0), p["r"])
	assert.Equal(t, "owner", details[keycap.RateLimitDetails](t, resp).Scope)

	// The introspecting service's own key carries its own budget.
	resp = f.keyClient(t, svcKey.Key).PostForm(t, "/api-keys/introspect", url.Values{"token": {f.bobKey.Key}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	name, p = current(resp)
	assert.Equal(t, "owner", name)
	assert.Equal(t, int64(2), p["r"])
}

// Held: problem+json is chosen only when Accept prefers it.
func TestAttackProblemNegotiation(t *testing.T) {
	for accept, want := range map[string]bool{
		"application/problem+json":                                             true,
		"APPLICATION/PROBLEM+JSON":                                             true,
		"application/json, application/problem+json":                           false,
		"application/problem+json, application/json":                           false,
		"application/problem+json;q=0.5, */*":                                  false,
		"application/problem+json;q=0.5, application/*;q=0.4":                  true,
		"application/*;q=0.9, application/problem+json":                        true,
		"application/problem+json;q=0, */*;q=0.1":                              false,
		"application/json;q=0.1, application/problem+json;q=0.2":               true,
		"application/json;q=0.1, application/problem+json;q=bogus":             false,
		"application/problem+json;q=1.5":                                       false,
		"text/html, */*;q=0.8":                                                 false,
		"application/problem+json;charset=utf-8;q=0.9, application/json;q=0.8": true,
		"": false,
	} {
		h := http.Header{}
		if accept != "" {
			h.Set("Accept", accept)
		}
		assert.Equal(t, want, keycap.PrefersProblem(h), "%q", accept)
	}
	two := http.Header{"Accept": {"application/json;q=0.1", "application/problem+json"}}
	assert.True(t, keycap.PrefersProblem(two), "several Accept lines are one list")
}

// leakyStore fails with a cause that must not reach a client.
type leakyStore struct {
	*countingStore
	mu   sync.Mutex
	fail bool
}

var errCause = fmt.Errorf("%w: dial tcp 10.9.8.7:5432: password authentication failed for user \"keycap_prod\"", keys.ErrStoreUnavailable)

func (s *leakyStore) Get(ctx context.Context, id string) (*keys.Key, error) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail {
		return nil, errCause
	}
	return s.countingStore.Get(ctx, id)
}

// Held: every refusal of the protocol routes goes through OnError with
// keycap's headers set first (WWW-Authenticate, Retry-After, RateLimit-*,
// X-Accepted-Permissions), and no body, in either format, carries a
// cause or the presented key.
func TestAttackProtocolErrorsThroughOnError(t *testing.T) {
	store := &leakyStore{countingStore: newCountingStore()}
	var mu sync.Mutex
	var seen []keycap.Code
	onError := func(w http.ResponseWriter, r *http.Request, err *keycap.Error) {
		mu.Lock()
		seen = append(seen, err.Code)
		mu.Unlock()
		w.Header().Set("X-Custom", "1")
		keycap.WriteError(w, r, err)
	}
	f, _ := introspectionFixture(t, false, keycaptest.WithStore(store), keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.Introspection = middleware.Introspection{Permission: "keys:introspect", Secret: serviceSecret}
		o.ForwardAuth = middleware.ForwardAuth{Rules: gatewayRules}
		o.RateLimit = middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 4, Window: time.Hour}}
		o.OnError = onError
	}))
	carol := f.mint(t, "carol", filesRead, 0)
	for _, accept := range []string{"application/json", "application/problem+json"} {
		c := f.anon.WithHeader("Accept", accept)
		type probe struct {
			name   string
			resp   *keycaptest.Response
			code   keycap.Code
			header string
		}
		probes := []probe{
			{"introspect, nobody", c.PostForm(t, "/api-keys/introspect", url.Values{"token": {f.bobKey.Key}}), keycap.CodeUnauthenticated, "WWW-Authenticate"},
			{"introspect, no permission", c.WithKey(f.aliceKey.Key).PostForm(t, "/api-keys/introspect", url.Values{"token": {f.bobKey.Key}}), keycap.CodeInsufficientPermissions, "WWW-Authenticate"},
			{"forward, missing", ask(t, c.WithKey(f.aliceKey.Key), "DELETE", "/api/files/1"), keycap.CodeInsufficientPermissions, "X-Accepted-Permissions"},
			{"forward, bad key", ask(t, c.WithKey(f.bobKey.Key+"x"), "GET", "/api/files"), keycap.CodeKeyInvalid, "WWW-Authenticate"},
			{"forward, bad uri", ask(t, c.WithKey(f.bobKey.Key), "GET", "/a/../b"), keycap.CodeInvalidField, ""},
			{"revoke, bad form", c.PostForm(t, "/api-keys/revoke", url.Values{}), keycap.CodeInvalidBody, ""},
			{"method", c.Get(t, "/api-keys/revoke"), keycap.CodeMethodNotAllowed, "Allow"},
		}
		if accept == "application/json" {
			for range 4 {
				ask(t, c.WithKey(carol.Key), "GET", "/api/files")
			}
			probes = append(probes, probe{"forward, limited", ask(t, c.WithKey(carol.Key), "GET", "/api/files"), keycap.CodeRateLimited, "Retry-After"})
		}
		store.mu.Lock()
		store.fail = true
		store.mu.Unlock()
		probes = append(probes,
			probe{"revoke, store down", c.PostForm(t, "/api-keys/revoke", url.Values{"token": {f.bobKey.Key}}), keycap.CodeStoreUnavailable, ""},
			probe{"introspect, store down", c.WithHeader("Authorization", "Bearer "+serviceSecret).PostForm(t, "/api-keys/introspect", url.Values{"token": {f.bobKey.Key}}), keycap.CodeStoreUnavailable, ""},
			probe{"forward, store down", ask(t, c.WithHeader("X-API-Key", f.bobKey.Key), "GET", "/api/files"), keycap.CodeStoreUnavailable, ""})
		store.mu.Lock()
		store.fail = false
		store.mu.Unlock()
		for _, p := range probes {
			t.Run(accept+" "+p.name, func(t *testing.T) {
				assert.Equal(t, p.code.Status(), p.resp.StatusCode, "%s", p.resp.Body)
				assert.Equal(t, "1", p.resp.Header.Get("X-Custom"), "through OnError")
				if p.header != "" {
					assert.NotEmpty(t, p.resp.Header.Get(p.header))
				}
				var body map[string]any
				require.NoError(t, json.Unmarshal(p.resp.Body, &body))
				assert.Equal(t, string(p.code), body["code"])
				if accept == "application/problem+json" {
					assert.Equal(t, "application/problem+json", p.resp.Header.Get("Content-Type"))
					assert.Equal(t, keycap.ProblemType+string(p.code), body["type"])
					assert.EqualValues(t, p.code.Status(), body["status"])
					assert.Contains(t, body, "details")
				}
				for _, secret := range []string{"10.9.8.7", "password", "keycap_prod", f.bobKey.Key, f.aliceKey.Key, serviceSecret} {
					assert.NotContains(t, string(p.resp.Body), secret)
				}
			})
		}
	}
	mu.Lock()
	defer mu.Unlock()
	codes := map[string]bool{}
	for _, c := range seen {
		codes[string(c)] = true
	}
	names := make([]string, 0, len(codes))
	for c := range codes {
		names = append(names, c)
	}
	sort.Strings(names)
	t.Logf("codes through OnError: %s", strings.Join(names, " "))
	assert.True(t, errors.Is(errCause, keys.ErrStoreUnavailable))
}
