package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/keycaphq/keycap/policy"
)

var (
	readWrite = policy.MustParse("files:read", "files:write", "invoices:read")
	readOnly  = policy.MustParse("files:read", "invoices:read")
	deleteAll = policy.MustParse("files:delete", "invoices:delete")
)

func TestSubset(t *testing.T) {
	tests := []struct {
		name string
		a, b policy.Permissions
		want bool
	}{
		{"nil of nil", nil, nil, true},
		{"empty of anything", policy.Permissions{}, readOnly, true},
		{"anything of itself", readWrite, readWrite, true},
		{"smaller of larger", readOnly, readWrite, true},
		{"larger of smaller", readWrite, readOnly, false},
		{"something of nil", readOnly, nil, false},
		{"disjoint", readOnly, deleteAll, false},
		{"same action, other resource", policy.MustParse("notes:read"), readOnly, false},
		{"resource with no action", policy.Permissions{"notes": {}}, readOnly, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, policy.Subset(tt.a, tt.b))
		})
	}
}

func TestIntersect(t *testing.T) {
	tests := []struct {
		name string
		a, b policy.Permissions
		want policy.Permissions
	}{
		{"nil and nil", nil, nil, policy.Permissions{}},
		{"with nil", readWrite, nil, policy.Permissions{}},
		{"with itself", readWrite, readWrite, readWrite},
		{"narrows", readWrite, readOnly, readOnly},
		{"commutes", readOnly, readWrite, readOnly},
		{"disjoint", readWrite, deleteAll, policy.Permissions{}},
		{"drops resources left empty", policy.MustParse("files:read", "notes:write"), policy.MustParse("files:read", "notes:read"), policy.MustParse("files:read")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, policy.Intersect(tt.a, tt.b))
		})
	}
}

func TestUnion(t *testing.T) {
	assert.Equal(t, policy.Permissions{}, policy.Union())
	assert.Equal(t, policy.Permissions{}, policy.Union(nil, policy.Permissions{}))
	assert.Equal(t, readWrite, policy.Union(readOnly, policy.MustParse("files:write")))
	assert.Equal(t,
		policy.MustParse("files:delete", "files:read", "files:write", "invoices:delete", "invoices:read"),
		policy.Union(readWrite, deleteAll, readOnly))

	// Union copies: changing the result leaves the operands alone.
	u := policy.Union(readOnly)
	u["files"][0] = "changed"
	assert.Equal(t, "read", readOnly["files"][0])
}

func TestExcess(t *testing.T) {
	tests := []struct {
		name           string
		requested, cap policy.Permissions
		want           policy.Permissions
	}{
		{"nothing requested", nil, readOnly, policy.Permissions{}},
		{"within", readOnly, readWrite, policy.Permissions{}},
		{"equal", readWrite, readWrite, policy.Permissions{}},
		{"one action beyond", readWrite, readOnly, policy.MustParse("files:write")},
		{"a whole resource beyond", policy.MustParse("files:read", "notes:read", "notes:write"), readOnly, policy.MustParse("notes:read", "notes:write")},
		{"no cap", readOnly, nil, readOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := policy.Excess(tt.requested, tt.cap)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got.IsEmpty(), policy.Subset(tt.requested, tt.cap))
		})
	}
}

func TestSatisfiesAndMissing(t *testing.T) {
	tests := []struct {
		name     string
		granted  policy.Permissions
		required []string
		missing  []string // nil: satisfied
	}{
		{"nothing required", nil, nil, nil},
		{"held", readWrite, []string{"files:read", "invoices:read"}, nil},
		{"one missing", readOnly, []string{"files:read", "files:write"}, []string{"files:write"}},
		{"order kept", nil, []string{"b:x", "a:y"}, []string{"b:x", "a:y"}},
		{"not resource:action", readOnly, []string{"files"}, []string{"files"}},
		{"empty string", readOnly, []string{""}, []string{""}},
		{"star is no wildcard", readOnly, []string{"files:*"}, []string{"files:*"}},
		{"star held literally", policy.Permissions{"admin": {"*"}}, []string{"admin:*"}, nil},
		{"first colon splits", policy.Permissions{"files": {"read:all"}}, []string{"files:read:all"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.missing == nil, policy.Satisfies(tt.granted, tt.required...))
			assert.Equal(t, tt.missing, policy.Missing(tt.granted, tt.required...))
		})
	}
}

func TestPermissionsMethods(t *testing.T) {
	p := policy.MustParse("invoices:read", "files:write", "files:read")

	assert.True(t, p.Has("files", "read"))
	assert.False(t, p.Has("files", "delete"))
	assert.False(t, p.Has("notes", "read"))
	assert.False(t, policy.Permissions(nil).Has("files", "read"))

	assert.False(t, p.IsEmpty())
	assert.True(t, policy.Permissions(nil).IsEmpty())
	assert.True(t, policy.Permissions{}.IsEmpty())
	assert.True(t, policy.Permissions{"files": {}}.IsEmpty())

	assert.Equal(t, []string{"files:read", "files:write", "invoices:read"}, p.Strings())
	assert.Equal(t, "files:read files:write invoices:read", p.String())
	assert.Equal(t, "", policy.Permissions(nil).String())

	assert.Nil(t, policy.Permissions(nil).Clone())
	c := p.Clone()
	assert.Equal(t, p, c)
	c["files"][0] = "changed"
	c["notes"] = []string{"read"}
	assert.Equal(t, "read", p["files"][0], "Clone is deep")
	assert.NotContains(t, p, "notes")
}
