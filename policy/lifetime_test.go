package policy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

const day = 24 * time.Hour

func TestMaxLifetime(t *testing.T) {
	p := policy.MustNew(policy.Config{
		MaxLifetime: 90 * day,
		MaxLifetimeFor: map[string]time.Duration{
			"*:delete":      7 * day,
			"invoices:*":    30 * day,
			"billing:write": 1 * day,
			"files:read":    365 * day, // longer than MaxLifetime: never the answer
		},
	})
	tests := []struct {
		name  string
		perms policy.Permissions
		want  time.Duration
	}{
		{"no permissions", nil, 90 * day},
		{"no rule matches", policy.MustParse("files:write"), 90 * day},
		{"a longer rule does not extend MaxLifetime", policy.MustParse("files:read"), 90 * day},
		{"wildcard resource", policy.MustParse("files:delete"), 7 * day},
		{"wildcard action", policy.MustParse("invoices:read"), 30 * day},
		{"exact pattern", policy.MustParse("billing:write"), 1 * day},
		{"exact pattern, other action", policy.MustParse("billing:read"), 90 * day},
		{"the smallest match wins", policy.MustParse("files:write", "invoices:delete", "invoices:read"), 7 * day},
		{"every match counts", policy.MustParse("billing:write", "files:delete"), 1 * day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, p.MaxLifetime(tt.perms))
		})
	}

	unbounded := policy.MustNew(policy.Config{MaxLifetimeFor: map[string]time.Duration{"*:delete": 7 * day}})
	assert.Equal(t, time.Duration(0), unbounded.MaxLifetime(policy.MustParse("files:read")), "0: no bound")
	assert.Equal(t, 7*day, unbounded.MaxLifetime(policy.MustParse("files:delete")))

	// "*" in a pattern matches any name, and also a literal "*".
	literal := policy.MustNew(policy.Config{MaxLifetimeFor: map[string]time.Duration{"admin:*": day}})
	assert.Equal(t, day, literal.MaxLifetime(policy.Permissions{"admin": {"*"}}))
}

func TestLifetime(t *testing.T) {
	bounded := policy.MustNew(policy.Config{DefaultLifetime: 30 * day, MaxLifetime: 90 * day, MaxLifetimeFor: map[string]time.Duration{"*:delete": 7 * day}})
	maxOnly := policy.MustNew(policy.Config{MaxLifetime: 90 * day})
	defaultOnly := policy.MustNew(policy.Config{DefaultLifetime: 30 * day})
	unbounded := policy.MustNew(policy.Config{})
	read, del := policy.MustParse("files:read"), policy.MustParse("files:delete")

	tests := []struct {
		name      string
		policy    *policy.Policy
		perms     policy.Permissions
		requested time.Duration
		want      time.Duration
		wantMax   time.Duration // set: a *LifetimeError with this Maximum
		invalid   bool          // an *InvalidError
	}{
		{"default", bounded, read, 0, 30 * day, 0, false},
		{"default cut to a rule", bounded, del, 0, 7 * day, 0, false},
		{"no default: the maximum", maxOnly, read, 0, 90 * day, 0, false},
		{"no bound: never expires", unbounded, read, 0, 0, 0, false},
		{"default with no maximum", defaultOnly, read, 0, 30 * day, 0, false},
		{"requested within", bounded, read, 60 * day, 60 * day, 0, false},
		{"requested exactly the maximum", bounded, read, 90 * day, 90 * day, 0, false},
		{"requested with no maximum", defaultOnly, read, 1000 * day, 1000 * day, 0, false},
		{"requested beyond", bounded, read, 91 * day, 0, 90 * day, false},
		{"requested beyond a rule", bounded, del, 8 * day, 0, 7 * day, false},
		{"negative", bounded, read, -time.Second, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Lifetime(tt.perms, tt.requested)
			switch {
			case tt.wantMax != 0:
				var lifetime *policy.LifetimeError
				require.ErrorAs(t, err, &lifetime)
				assert.Equal(t, tt.requested, lifetime.Requested)
				assert.Equal(t, tt.wantMax, lifetime.Maximum)
				assert.Contains(t, err.Error(), "exceeds the maximum")
			case tt.invalid:
				assert.Equal(t, "expires_in", requireInvalid(t, err).Path)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
		})
	}
}
