package policy_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

func TestNeedsAllowList(t *testing.T) {
	p := policy.MustNew(policy.Config{IPAllowListFor: []string{"*:delete", "billing:*", "files:write"}})
	tests := []struct {
		name  string
		perms policy.Permissions
		want  policy.Permissions
	}{
		{"none", nil, nil},
		{"no rule matches", policy.MustParse("files:read", "projects:write"), nil},
		{"wildcard resource", policy.MustParse("files:read", "files:delete", "projects:delete"), policy.MustParse("files:delete", "projects:delete")},
		{"wildcard action", policy.MustParse("billing:read"), policy.MustParse("billing:read")},
		{"exact pattern", policy.MustParse("files:write"), policy.MustParse("files:write")},
		{"each permission once", policy.MustParse("billing:delete"), policy.MustParse("billing:delete")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.NeedsAllowList(tt.perms)
			assert.Equal(t, tt.want, got)
			if got != nil {
				got["x"] = []string{"y"}
				assert.Equal(t, tt.want, p.NeedsAllowList(tt.perms), "a new set each time")
			}
		})
	}
	assert.Nil(t, policy.MustNew(policy.Config{}).NeedsAllowList(policy.MustParse("files:delete")), "no rule: nothing needs a list")
}

func TestIPAllowListForRefusesBadPatterns(t *testing.T) {
	for _, pattern := range []string{"delete", "files:", ":read", "Files:read", "files:read:x", "*"} {
		_, err := policy.New(policy.Config{IPAllowListFor: []string{pattern}})
		require.Error(t, err, pattern)
		assert.Contains(t, err.Error(), "IPAllowListFor")
	}
}

func ExamplePolicy_NeedsAllowList() {
	p := policy.MustNew(policy.Config{
		Max:            policy.MustParse("files:read", "files:delete"),
		IPAllowListFor: []string{"*:delete"}, // keys that may delete anything must be limited to IP ranges
	})
	need := p.NeedsAllowList(policy.MustParse("files:read", "files:delete"))
	fmt.Println(need)
	fmt.Println(&policy.AllowListError{Permissions: need})
	// Output:
	// files:delete
	// a key that may files:delete must be limited to IP ranges
}
