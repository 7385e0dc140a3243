package sqlstore_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// TestQuotaOverHTTP: through the keys handler and Require, 300 parallel
// requests against a key with a quota of 100 admit exactly 100, on every
// dialect; requests Require refuses spend nothing.
func TestQuotaOverHTTP(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			store := newStore(t, d.open(t), d.dialect)
			srv := keycaptest.NewApp(t, keycaptest.WithStore(store),
				keycaptest.WithManager(func(c *keys.Config) { c.Cache.Disabled = true }),
				keycaptest.WithRoutes(func(mux *http.ServeMux) {
					ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
					mux.Handle("GET /api/files", middleware.Require("files:read")(ok))
					mux.Handle("DELETE /api/files/{id}", middleware.Require("files:delete")(ok))
				}))
			resp := srv.LogIn(t, "alice").DoJSON(t, http.MethodPost, "/api-keys",
				map[string]any{"name": "q", "permissions": policy.MustParse("files:read"), "remaining": 100})
			require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
			var k keycaptest.CreatedKey
			resp.JSON(t, &k)
			c := srv.Anonymous(t).WithKey(k.Key)
			for range 3 {
				keycaptest.RequireCode(t, c.DoJSON(t, http.MethodDelete, "/api/files/1", nil), keycap.CodeInsufficientPermissions)
			}

			var admitted, refused atomic.Int64
			var wg sync.WaitGroup
			sem := make(chan struct{}, 24)
			for range 300 {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/files", nil)
					req.Header.Set("Authorization", "Bearer "+k.Key)
					r, err := http.DefaultClient.Do(req)
					if err != nil {
						return
					}
					r.Body.Close()
					switch r.StatusCode {
					case http.StatusOK:
						admitted.Add(1)
					case http.StatusTooManyRequests:
						refused.Add(1)
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, int64(100), admitted.Load())
			assert.Equal(t, int64(200), refused.Load())
		})
	}
}
