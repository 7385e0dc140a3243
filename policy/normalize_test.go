package policy_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

// requireInvalid asserts err is an *InvalidError and returns it.
func requireInvalid(t *testing.T, err error) *policy.InvalidError {
	t.Helper()
	var invalid *policy.InvalidError
	require.ErrorAs(t, err, &invalid)
	assert.NotEmpty(t, invalid.Reason, "an InvalidError says what to change")
	assert.Contains(t, invalid.Error(), invalid.Path)
	return invalid
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   policy.Permissions
		want policy.Permissions
	}{
		{"nil stays nil", nil, nil},
		{"empty stays empty", policy.Permissions{}, policy.Permissions{}},
		{"sorts actions", policy.Permissions{"files": {"write", "read", "delete"}}, policy.Permissions{"files": {"delete", "read", "write"}}},
		{"dedupes actions", policy.Permissions{"files": {"read", "write", "read", "read"}}, policy.Permissions{"files": {"read", "write"}}},
		{"drops a resource with no action", policy.Permissions{"files": {}, "notes": nil, "invoices": {"read"}}, policy.Permissions{"invoices": {"read"}}},
		{"every allowed character", policy.Permissions{"a-z_0.9": {"x-y_z.1"}}, policy.Permissions{"a-z_0.9": {"x-y_z.1"}}},
		{"names of 1 and 64 bytes", policy.Permissions{"f": {strings.Repeat("a", 64)}}, policy.Permissions{"f": {strings.Repeat("a", 64)}}},
		{"many resources", manyResources(policy.MaxResources), manyResources(policy.MaxResources)},
		{"many actions", policy.Permissions{"files": manyNames(policy.MaxActions)}, policy.Permissions{"files": manyNames(policy.MaxActions)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.Normalize(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeDoesNotModifyItsInput(t *testing.T) {
	in := policy.Permissions{"files": {"write", "read", "write"}}
	out, err := policy.Normalize(in)
	require.NoError(t, err)
	assert.Equal(t, policy.Permissions{"files": {"write", "read", "write"}}, in)

	out["files"][0] = "changed"
	assert.Equal(t, "write", in["files"][0], "the result shares no storage with the input")
}

func TestNormalizeRefuses(t *testing.T) {
	tests := []struct {
		name     string
		in       policy.Permissions
		wantPath string
		reason   string // a substring of the reason
	}{
		{"empty resource name", policy.Permissions{"": {"read"}}, `""`, "1 to 64"},
		{"empty action name", policy.Permissions{"files": {"read", ""}}, "files[1]", "1 to 64"},
		{"upper case resource", policy.Permissions{"Files": {"read"}}, `"Files"`, "lower case"},
		{"upper case action", policy.Permissions{"files": {"Read"}}, "files[0]", "lower case"},
		{"space", policy.Permissions{"files": {"re ad"}}, "files[0]", "a-z"},
		{"colon in resource", policy.Permissions{"files:read": {"read"}}, `"files:read"`, "a-z"},
		{"non-ASCII", policy.Permissions{"fïles": {"read"}}, strconv.Quote("fïles"), "a-z"},
		{"invalid UTF-8", policy.Permissions{"files": {"\xff"}}, "files[0]", "a-z"},
		{"NUL byte", policy.Permissions{"fi\x00les": {"read"}}, `"fi\x00les"`, "a-z"},
		{"65-byte resource", policy.Permissions{strings.Repeat("r", 65): {"read"}}, strconv.Quote(strings.Repeat("r", 64) + "…"), "1 to 64"},
		{"65-byte action", policy.Permissions{"files": {strings.Repeat("a", 65)}}, "files[0]", "1 to 64"},
		{"wildcard action", policy.Permissions{"files": {"read", "*"}}, "files[1]", "not a wildcard"},
		{"wildcard resource", policy.Permissions{"*": {"read"}}, "*", "not a wildcard"},
		{"star inside a name", policy.Permissions{"files": {"re*d"}}, "files[0]", "a-z"},
		{"too many resources", manyResources(policy.MaxResources + 1), "permissions", "at most 64 resources"},
		{"too many actions", policy.Permissions{"files": manyNames(policy.MaxActions + 1)}, "files", "at most 32 actions"},
		{"too many actions even if duplicated", policy.Permissions{"files": repeat("read", policy.MaxActions+1)}, "files", "at most 32 actions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.Normalize(tt.in)
			assert.Nil(t, got)
			invalid := requireInvalid(t, err)
			assert.Equal(t, tt.wantPath, invalid.Path)
			assert.Contains(t, invalid.Reason, tt.reason)
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		want     policy.Permissions
		wantPath string // "" means no error
	}{
		{"none", nil, policy.Permissions{}, ""},
		{"groups by resource", []string{"files:write", "invoices:read", "files:read"}, policy.Permissions{"files": {"read", "write"}, "invoices": {"read"}}, ""},
		{"dedupes", []string{"files:read", "files:read"}, policy.Permissions{"files": {"read"}}, ""},
		{"no colon", []string{"files:read", "files"}, nil, "[1]"},
		{"empty string", []string{""}, nil, "[0]"},
		{"second colon is part of the action", []string{"files:read:all"}, nil, "files[0]"},
		{"empty action", []string{"files:"}, nil, "files[0]"},
		{"wildcard", []string{"files:*"}, nil, "files[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.Parse(tt.in...)
			if tt.wantPath != "" {
				assert.Equal(t, tt.wantPath, requireInvalid(t, err).Path)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMustParse(t *testing.T) {
	assert.Equal(t, policy.Permissions{"files": {"read"}}, policy.MustParse("files:read"))
	assert.PanicsWithValue(t, `policy.MustParse: invalid permissions at files[0]: action "*" is not a wildcard and this policy does not define it; name the actions, e.g. "read"`,
		func() { policy.MustParse("files:*") })
}

func TestInvalidErrorUnwraps(t *testing.T) {
	err := error(&policy.InvalidError{Path: "permissions", Reason: "empty", Err: policy.ErrEmpty})
	assert.ErrorIs(t, err, policy.ErrEmpty)
	assert.Equal(t, "invalid permissions at permissions: empty", err.Error())
	assert.False(t, errors.Is(&policy.InvalidError{Path: "x", Reason: "y"}, policy.ErrEmpty))
}

func manyResources(n int) policy.Permissions {
	p := policy.Permissions{}
	for _, name := range manyNames(n) {
		p[name] = []string{"read"}
	}
	return p
}

// manyNames returns n distinct valid names, sorted.
func manyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "n" + strconv.Itoa(1000+i)
	}
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
