package middleware_test

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/ratelimit"
	"github.com/keycaphq/keycap/session"
)

// TestNew checks that bad configuration fails in New, never per request.
func TestNew(t *testing.T) {
	t.Parallel()
	m := keycaptest.NewApp(t).Manager
	tests := []struct {
		name    string
		options middleware.Options
		wantErr string // "" means valid
	}{
		{"minimal", middleware.Options{Manager: m}, ""},
		{"everything", middleware.Options{
			Manager: m, Sessions: session.SCS(scs.New(), ""), Path: "/keys/", RequireKey: true, AllowDelegation: true,
			AdminPermission: "keys:admin", TrustedOrigins: []string{"https://admin.example.com"}, MaxBodyBytes: 1 << 20,
			RateLimit: middleware.RateLimit{PerKey: ratelimit.Limit{Requests: 10, Window: time.Second}},
		}, ""},
		{"no manager", middleware.Options{}, "Manager"},
		{"relative path", middleware.Options{Manager: m, Path: "api-keys"}, "Path"},
		{"root path", middleware.Options{Manager: m, Path: "/"}, "Path"},
		{"admin permission without an action", middleware.Options{Manager: m, AdminPermission: "admin"}, "AdminPermission"},
		{"admin permission upper case", middleware.Options{Manager: m, AdminPermission: "Keys:Admin"}, "AdminPermission"},
		{"admin permission wildcard", middleware.Options{Manager: m, AdminPermission: "keys:*"}, "AdminPermission"},
		{"trusted origin with a path", middleware.Options{Manager: m, TrustedOrigins: []string{"https://admin.example.com/x"}}, "TrustedOrigins"},
		{"trusted origin without a scheme", middleware.Options{Manager: m, TrustedOrigins: []string{"admin.example.com"}}, "TrustedOrigins"},
		{"negative body limit", middleware.Options{Manager: m, MaxBodyBytes: -1}, "MaxBodyBytes"},
		{"rate limit without a window", middleware.Options{Manager: m, RateLimit: middleware.RateLimit{PerOwner: ratelimit.Limit{Requests: 1}}}, "RateLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kc, err := middleware.New(tt.options)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.NotNil(t, kc)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Nil(t, kc)
		})
	}
}
