package middleware_test

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/ratelimit"
)

func filesRoutes(mux *http.ServeMux) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("GET /api/files", middleware.Require("files:read")(ok))
	mux.Handle("DELETE /api/files/{id}", middleware.Require("files:delete")(ok))
}

var filesRead = policy.Permissions{"files": {"read"}}

func TestRateLimitPerKeyAndOwner(t *testing.T) {
	srv := keycaptest.NewApp(t, keycaptest.WithRoutes(filesRoutes), keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.RateLimit = middleware.RateLimit{
			PerKey:   ratelimit.Limit{Requests: 3, Window: time.Hour},
			PerOwner: ratelimit.Limit{Requests: 5, Window: time.Hour},
		}
	}))
	alice := srv.LogIn(t, "alice")
	k1 := alice.CreateKey(t, "/api-keys", "one", filesRead)
	k2 := alice.CreateKey(t, "/api-keys", "two", filesRead)

	c1 := srv.Anonymous(t).WithKey(k1.Key)
	for i := range 3 {
		resp := c1.DoJSON(t, "GET", "/api/files", nil)
		require.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, strconv.Itoa(2-i), resp.Header.Get("RateLimit-Remaining"))
	}
	resp := c1.DoJSON(t, "GET", "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeRateLimited)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.JSONEq(t, `{"scope":"key","limit":3,"retry_after_seconds":`+resp.Header.Get("Retry-After")+`}`, string(resp.Error(t).Details))

	// A second key of the same owner shares the owner's budget of 5: 3 were
	// spent by the first key, so 2 remain. Minting keys buys no traffic.
	c2 := srv.Anonymous(t).WithKey(k2.Key)
	require.Equal(t, 200, c2.DoJSON(t, "GET", "/api/files", nil).StatusCode)
	require.Equal(t, 200, c2.DoJSON(t, "GET", "/api/files", nil).StatusCode)
	resp = c2.DoJSON(t, "GET", "/api/files", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeRateLimited)
	assert.Contains(t, string(resp.Error(t).Details), `"scope":"owner"`)

	// Bob's budget is his own.
	bob := srv.LogIn(t, "bob")
	kb := bob.CreateKey(t, "/api-keys", "bob", filesRead)
	require.Equal(t, 200, srv.Anonymous(t).WithKey(kb.Key).DoJSON(t, "GET", "/api/files", nil).StatusCode)
}

func TestRateLimitOffByDefault(t *testing.T) {
	srv := keycaptest.NewApp(t, keycaptest.WithRoutes(filesRoutes))
	k := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "k", filesRead)
	c := srv.Anonymous(t).WithKey(k.Key)
	for range 50 {
		resp := c.DoJSON(t, "GET", "/api/files", nil)
		require.Equal(t, 200, resp.StatusCode)
		require.Empty(t, resp.Header.Get("RateLimit-Limit"))
	}
}

func TestRateLimitInvalidConfiguration(t *testing.T) {
	srv := keycaptest.NewApp(t)
	_, err := middleware.New(middleware.Options{Manager: srv.Manager, RateLimit: middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 5}}})
	require.Error(t, err)
}

// TestQuotaExactUnderConcurrency: 300 parallel requests against a quota of
// 100 admit exactly 100; refused requests (wrong permission, rate limited)
// spend nothing.
func TestQuotaExactUnderConcurrency(t *testing.T) {
	srv := keycaptest.NewApp(t, keycaptest.WithRoutes(filesRoutes))
	alice := srv.LogIn(t, "alice")
	resp := alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "q", "permissions": filesRead, "remaining": 100})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(resp.Body))
	var created keycaptest.CreatedKey
	resp.JSON(t, &created)
	c := srv.Anonymous(t).WithKey(created.Key)

	// Refused by Require: spends no quota.
	for range 5 {
		keycaptest.RequireCode(t, c.DoJSON(t, "DELETE", "/api/files/1", nil), keycap.CodeInsufficientPermissions)
	}

	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for range 300 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			req, _ := http.NewRequest("GET", srv.URL+"/api/files", nil)
			req.Header.Set("Authorization", "Bearer "+created.Key)
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			r.Body.Close()
			switch r.StatusCode {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(100), ok.Load())
	assert.Equal(t, int64(200), limited.Load())
	keycaptest.RequireCode(t, c.DoJSON(t, "GET", "/api/files", nil), keycap.CodeQuotaExceeded)
}

func TestQuotaStricterOnly(t *testing.T) {
	srv := keycaptest.NewApp(t, keycaptest.WithRoutes(filesRoutes), keycaptest.WithManager(func(c *keys.Config) {
		c.Quota = keys.Quota{Remaining: 1000, RefillAmount: 1000, RefillInterval: 24 * time.Hour}
	}))
	alice := srv.LogIn(t, "alice")
	tests := []struct {
		name  string
		body  map[string]any
		field string // "" means created
	}{
		{"default applies", map[string]any{}, ""},
		{"stricter remaining", map[string]any{"remaining": 10}, ""},
		{"stricter refill", map[string]any{"remaining": 10, "refill_amount": 10, "refill_interval_seconds": 2 * 86400}, ""},
		{"no refill is stricter", map[string]any{"remaining": 10}, ""},
		{"looser remaining", map[string]any{"remaining": 1001}, "remaining"},
		{"looser refill amount", map[string]any{"remaining": 10, "refill_amount": 5000, "refill_interval_seconds": 86400}, "refill_amount"},
		{"looser refill interval", map[string]any{"remaining": 10, "refill_amount": 10, "refill_interval_seconds": 60}, "refill_interval_seconds"},
		{"refill without interval", map[string]any{"remaining": 10, "refill_amount": 10}, "refill_amount"},
		{"zero remaining", map[string]any{"remaining": 0}, "remaining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"name": tt.name, "permissions": filesRead}
			for k, v := range tt.body {
				body[k] = v
			}
			resp := alice.DoJSON(t, "POST", "/api-keys", body)
			if tt.field == "" {
				require.Equal(t, http.StatusCreated, resp.StatusCode, string(resp.Body))
				var k struct{ Remaining *int64 }
				resp.JSON(t, &k)
				require.NotNil(t, k.Remaining, "every key gets a quota")
				return
			}
			keycaptest.RequireCode(t, resp, keycap.CodeInvalidField)
			assert.Contains(t, string(resp.Error(t).Details), `"field":"`+tt.field+`"`)
		})
	}
	refill := alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "x", "refill_amount": 5})
	keycaptest.RequireCode(t, refill, keycap.CodeInvalidBody)
}

// TestRateLimitedRequestsSpendNoQuota: a request refused by the rate limit
// never reaches the quota.
func TestRateLimitedRequestsSpendNoQuota(t *testing.T) {
	srv := keycaptest.NewApp(t, keycaptest.WithRoutes(filesRoutes), keycaptest.WithMiddleware(func(o *middleware.Options) {
		o.RateLimit = middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 2, Window: time.Hour}}
	}))
	alice := srv.LogIn(t, "alice")
	resp := alice.DoJSON(t, "POST", "/api-keys", map[string]any{"name": "q", "permissions": filesRead, "remaining": 5})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(resp.Body))
	var k keycaptest.CreatedKey
	resp.JSON(t, &k)
	c := srv.Anonymous(t).WithKey(k.Key)
	for range 2 {
		resp := c.DoJSON(t, "GET", "/api/files", nil)
		require.Equal(t, 200, resp.StatusCode)
	}
	for range 3 {
		keycaptest.RequireCode(t, c.DoJSON(t, "GET", "/api/files", nil), keycap.CodeRateLimited)
	}
	var record struct{ Remaining *int64 }
	alice.DoJSON(t, "GET", "/api-keys/"+k.ID, nil).JSON(t, &record)
	require.NotNil(t, record.Remaining)
	assert.Equal(t, int64(3), *record.Remaining, "only the two admitted requests spent quota")
}
