package policy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/policy"
)

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name    string
		config  policy.Config
		message string // a substring of the error
	}{
		{"client permissions with no bound", policy.Config{AllowClientPermissions: true}, "AllowClientPermissions needs a bound"},
		{"client permissions bounded only by Default", policy.Config{AllowClientPermissions: true, Default: readOnly}, "AllowClientPermissions needs a bound"},
		{"invalid Max", policy.Config{Max: policy.Permissions{"Files": {"read"}}}, "policy: Max: invalid permissions at \"Files\""},
		{"invalid Default", policy.Config{Default: policy.Permissions{"files": {""}}}, "policy: Default: invalid permissions at files[0]"},
		{"invalid role", policy.Config{Roles: map[string]policy.Permissions{"admin": {"files": {"READ"}}}}, `policy: Roles["admin"]`},
		{"negative DefaultLifetime", policy.Config{DefaultLifetime: -time.Hour}, "must not be negative"},
		{"negative MaxLifetime", policy.Config{MaxLifetime: -time.Hour}, "must not be negative"},
		{"negative MaxKeys", policy.Config{MaxKeys: new(-1)}, "0 for no limit"},
		{"lifetime pattern without colon", policy.Config{MaxLifetimeFor: map[string]time.Duration{"files": time.Hour}}, "MaxLifetimeFor"},
		{"lifetime pattern with a bad name", policy.Config{MaxLifetimeFor: map[string]time.Duration{"Files:read": time.Hour}}, "MaxLifetimeFor"},
		{"lifetime pattern with an empty side", policy.Config{MaxLifetimeFor: map[string]time.Duration{"files:": time.Hour}}, "MaxLifetimeFor"},
		{"zero pattern lifetime", policy.Config{MaxLifetimeFor: map[string]time.Duration{"*:delete": 0}}, "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.New(tt.config)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tt.message)
			assert.Panics(t, func() { policy.MustNew(tt.config) })
		})
	}
}

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name   string
		config policy.Config
	}{
		{"zero config: keys get Default, which is nothing", policy.Config{}},
		{"Default only", policy.Config{Default: readOnly}},
		{"client permissions within Max", policy.Config{AllowClientPermissions: true, Max: readWrite}},
		{"client permissions within an empty Max", policy.Config{AllowClientPermissions: true, Max: policy.Permissions{}}},
		{"client permissions within roles", policy.Config{AllowClientPermissions: true, Roles: map[string]policy.Permissions{}}},
		{"client permissions within a MaxFunc", policy.Config{AllowClientPermissions: true, MaxFunc: func(context.Context, policy.Subject) (policy.Permissions, error) { return nil, nil }}},
		{"a declared wildcard", policy.Config{Max: policy.Permissions{"admin": {"*"}}}},
		{"wildcard lifetime pattern", policy.Config{MaxLifetimeFor: map[string]time.Duration{"*:*": time.Hour}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.New(tt.config)
			require.NoError(t, err)
			assert.Equal(t, tt.config.AllowClientPermissions, p.AllowsClientPermissions())
		})
	}
}

// roles is the role configuration most tests use.
var roles = map[string]policy.Permissions{
	"admin":  policy.MustParse("files:read", "files:write", "files:delete", "invoices:read", "invoices:write"),
	"editor": policy.MustParse("files:read", "files:write"),
	"viewer": policy.MustParse("files:read", "invoices:read"),
}

func TestCap(t *testing.T) {
	ctx := context.Background()
	byAttribute := func(_ context.Context, s policy.Subject) (policy.Permissions, error) {
		if s.Attributes["plan"] == "free" {
			return policy.MustParse("files:read", "invoices:read"), nil
		}
		return policy.MustParse("files:read", "files:write", "files:delete", "invoices:read", "invoices:write"), nil
	}
	tests := []struct {
		name    string
		config  policy.Config
		subject policy.Subject
		bounds  []policy.Permissions
		want    policy.Permissions
	}{
		{"no bound: Default", policy.Config{Default: readOnly}, policy.Subject{}, nil, readOnly},
		{"no bound and no Default: nothing", policy.Config{}, policy.Subject{}, nil, policy.Permissions{}},
		{"Max", policy.Config{Max: readWrite, Default: readOnly}, policy.Subject{}, nil, readWrite},
		{"one role", policy.Config{Roles: roles}, policy.Subject{Roles: []string{"editor"}}, nil, roles["editor"]},
		{"union of roles", policy.Config{Roles: roles}, policy.Subject{Roles: []string{"editor", "viewer"}},
			nil, policy.MustParse("files:read", "files:write", "invoices:read")},
		{"no role", policy.Config{Roles: roles}, policy.Subject{}, nil, policy.Permissions{}},
		{"unknown role", policy.Config{Roles: roles}, policy.Subject{Roles: []string{"owner"}}, nil, policy.Permissions{}},
		{"unknown role among known", policy.Config{Roles: roles}, policy.Subject{Roles: []string{"owner", "viewer"}}, nil, roles["viewer"]},
		{"roles within Max", policy.Config{Max: readOnly, Roles: roles}, policy.Subject{Roles: []string{"admin"}}, nil, readOnly},
		{"MaxFunc", policy.Config{MaxFunc: byAttribute}, policy.Subject{Attributes: map[string]string{"plan": "free"}}, nil, readOnly},
		{"MaxFunc within roles", policy.Config{Roles: roles, MaxFunc: byAttribute}, policy.Subject{Roles: []string{"editor"}}, nil, roles["editor"]},
		{"every bound at once", policy.Config{Max: readWrite, Roles: roles, MaxFunc: byAttribute}, policy.Subject{Roles: []string{"admin"}, Attributes: map[string]string{"plan": "free"}},
			[]policy.Permissions{policy.MustParse("files:read", "files:delete")}, policy.MustParse("files:read")},
		{"an extra bound (the calling key)", policy.Config{Roles: roles}, policy.Subject{Roles: []string{"admin"}},
			[]policy.Permissions{policy.MustParse("files:read", "notes:read")}, policy.MustParse("files:read")},
		{"extra bounds with no configured bound cut Default", policy.Config{Default: readWrite}, policy.Subject{},
			[]policy.Permissions{readOnly}, readOnly},
		{"extra bounds narrow each other", policy.Config{Max: readWrite}, policy.Subject{},
			[]policy.Permissions{readOnly, policy.MustParse("invoices:read")}, policy.MustParse("invoices:read")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy.MustNew(tt.config)
			got, err := p.Cap(ctx, tt.subject, tt.bounds...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCapErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("disabled subject", func(t *testing.T) {
		p := policy.MustNew(policy.Config{Max: readWrite})
		got, err := p.Cap(ctx, policy.Subject{ID: "u1", Disabled: true})
		assert.ErrorIs(t, err, policy.ErrSubjectDisabled)
		assert.Nil(t, got)
	})
	t.Run("MaxFunc error is returned as is", func(t *testing.T) {
		boom := errors.New("directory down")
		p := policy.MustNew(policy.Config{MaxFunc: func(context.Context, policy.Subject) (policy.Permissions, error) { return nil, boom }})
		_, err := p.Cap(ctx, policy.Subject{ID: "u1"})
		assert.Same(t, boom, err)
	})
	t.Run("MaxFunc result must follow the grammar", func(t *testing.T) {
		p := policy.MustNew(policy.Config{MaxFunc: func(context.Context, policy.Subject) (policy.Permissions, error) {
			return policy.Permissions{"Files": {"read"}}, nil
		}})
		_, err := p.Cap(ctx, policy.Subject{ID: "u1"})
		invalid := requireInvalid(t, err)
		assert.Equal(t, `"Files"`, invalid.Path)
		assert.Contains(t, err.Error(), `MaxFunc for "u1"`)
	})
	t.Run("MaxFunc gets the subject and context", func(t *testing.T) {
		type ctxKey struct{}
		var seen policy.Subject
		p := policy.MustNew(policy.Config{MaxFunc: func(ctx context.Context, s policy.Subject) (policy.Permissions, error) {
			assert.Equal(t, "v", ctx.Value(ctxKey{}))
			seen = s
			return readOnly, nil
		}})
		s := policy.Subject{ID: "u1", Roles: []string{"x"}, Attributes: map[string]string{"plan": "pro"}}
		_, err := p.Cap(context.WithValue(ctx, ctxKey{}, "v"), s)
		require.NoError(t, err)
		assert.Equal(t, s, seen)
	})
}

func TestGrant(t *testing.T) {
	ctx := context.Background()
	clientChooses := policy.MustNew(policy.Config{AllowClientPermissions: true, Roles: roles, Default: readOnly})
	fixed := policy.MustNew(policy.Config{Roles: roles, Default: policy.MustParse("files:read", "files:write", "invoices:read")})
	admin := policy.Subject{ID: "u1", Roles: []string{"admin"}}
	editor := policy.Subject{ID: "u2", Roles: []string{"editor"}}

	tests := []struct {
		name      string
		policy    *policy.Policy
		subject   policy.Subject
		requested policy.Permissions
		bounds    []policy.Permissions
		want      policy.Permissions
	}{
		{"within the cap, normalized", clientChooses, admin, policy.Permissions{"files": {"write", "read", "read"}}, nil, policy.MustParse("files:read", "files:write")},
		{"exactly the cap", clientChooses, editor, roles["editor"], nil, roles["editor"]},
		{"nothing named: Default cut to the cap", clientChooses, editor, nil, nil, policy.MustParse("files:read")},
		{"nothing named: Default within the cap", clientChooses, admin, nil, nil, readOnly},
		{"within an extra bound", clientChooses, admin, policy.MustParse("files:read"), []policy.Permissions{readOnly}, policy.MustParse("files:read")},
		{"fixed: Default cut to the cap", fixed, editor, nil, nil, roles["editor"]},
		{"fixed: Default cut to the caller", fixed, admin, nil, []policy.Permissions{policy.MustParse("files:write")}, policy.MustParse("files:write")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Grant(ctx, tt.subject, tt.requested, tt.bounds...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestGrantRefuses(t *testing.T) {
	ctx := context.Background()
	clientChooses := policy.MustNew(policy.Config{AllowClientPermissions: true, Roles: roles, Default: readOnly})
	fixed := policy.MustNew(policy.Config{Roles: roles, Default: readOnly})
	withWildcard := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.Permissions{"admin": {"*"}, "files": {"read"}}})
	admin := policy.Subject{ID: "u1", Roles: []string{"admin"}}
	editor := policy.Subject{ID: "u2", Roles: []string{"editor"}}

	type want struct {
		exceeded, maximum policy.Permissions // set: an *ExceedsError
		path              string             // set: an *InvalidError
		is                error              // set: errors.Is
	}
	tests := []struct {
		name      string
		policy    *policy.Policy
		subject   policy.Subject
		requested policy.Permissions
		bounds    []policy.Permissions
		want      want
	}{
		{"one action beyond", clientChooses, editor, policy.MustParse("files:read", "files:delete"), nil,
			want{exceeded: policy.MustParse("files:delete"), maximum: roles["editor"]}},
		{"a resource beyond", clientChooses, editor, policy.MustParse("invoices:read", "invoices:write"), nil,
			want{exceeded: policy.MustParse("invoices:read", "invoices:write"), maximum: roles["editor"]}},
		{"beyond the calling key", clientChooses, admin, policy.MustParse("files:read", "files:write"), []policy.Permissions{readOnly},
			want{exceeded: policy.MustParse("files:write"), maximum: readOnly}},
		{"no role: everything exceeds", clientChooses, policy.Subject{ID: "u3"}, policy.MustParse("files:read"), nil,
			want{exceeded: policy.MustParse("files:read"), maximum: policy.Permissions{}}},
		{"malformed", clientChooses, admin, policy.Permissions{"files": {"READ"}}, nil, want{path: "files[0]"}},
		{"undeclared wildcard", clientChooses, admin, policy.Permissions{"files": {"*"}}, nil, want{path: "files[0]"}},
		{"undeclared wildcard in a policy that declares another", withWildcard, admin, policy.Permissions{"files": {"read", "*"}}, nil, want{path: "files[1]"}},
		{"undeclared wildcard resource in a policy that declares another", withWildcard, admin, policy.Permissions{"*": {"read"}}, nil, want{path: "*"}},
		{"declared wildcard beyond the caller", withWildcard, admin, policy.Permissions{"admin": {"*"}}, []policy.Permissions{policy.MustParse("files:read")},
			want{exceeded: policy.Permissions{"admin": {"*"}}, maximum: policy.MustParse("files:read")}},
		{"empty request", clientChooses, admin, policy.Permissions{}, nil, want{path: "permissions", is: policy.ErrEmpty}},
		{"request with empty resources", clientChooses, admin, policy.Permissions{"files": {}}, nil, want{path: "permissions", is: policy.ErrEmpty}},
		{"Default cut to nothing", clientChooses, policy.Subject{Roles: []string{"editor"}}, nil, []policy.Permissions{policy.MustParse("invoices:read")},
			want{path: "permissions", is: policy.ErrEmpty}},
		{"client names permissions where it may not", fixed, admin, policy.MustParse("files:read"), nil, want{path: "permissions"}},
		{"client names empty permissions where it may not", fixed, admin, policy.Permissions{}, nil, want{path: "permissions"}},
		{"disabled subject", clientChooses, policy.Subject{Roles: []string{"admin"}, Disabled: true}, policy.MustParse("files:read"), nil,
			want{is: policy.ErrSubjectDisabled}},
		{"disabled subject, Default", clientChooses, policy.Subject{Roles: []string{"admin"}, Disabled: true}, nil, nil,
			want{is: policy.ErrSubjectDisabled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Grant(ctx, tt.subject, tt.requested, tt.bounds...)
			require.Error(t, err)
			assert.Nil(t, got)
			if tt.want.exceeded != nil {
				var exceeds *policy.ExceedsError
				require.ErrorAs(t, err, &exceeds)
				assert.Equal(t, tt.want.exceeded, exceeds.Exceeded)
				assert.Equal(t, tt.want.maximum, exceeds.Maximum)
				assert.Equal(t, "requested permissions exceed the maximum: "+tt.want.exceeded.String(), err.Error())
			}
			if tt.want.path != "" {
				assert.Equal(t, tt.want.path, requireInvalid(t, err).Path)
			}
			if tt.want.is != nil {
				assert.ErrorIs(t, err, tt.want.is)
			}
		})
	}
}

func TestGrantDeclaredWildcard(t *testing.T) {
	ctx := context.Background()
	p := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Roles: map[string]policy.Permissions{
			"root":  {"admin": {"*"}, "*": {"read"}},
			"staff": policy.MustParse("files:read"),
		},
	})
	root := policy.Subject{Roles: []string{"root"}}

	got, err := p.Grant(ctx, root, policy.Permissions{"admin": {"*"}, "*": {"read"}})
	require.NoError(t, err)
	assert.Equal(t, policy.Permissions{"admin": {"*"}, "*": {"read"}}, got)

	// "*" is a literal: it does not stand for other names, nor they for it.
	_, err = p.Grant(ctx, root, policy.MustParse("admin:users"))
	var exceeds *policy.ExceedsError
	require.ErrorAs(t, err, &exceeds)
	assert.Equal(t, policy.MustParse("admin:users"), exceeds.Exceeded)
	assert.False(t, policy.Satisfies(got, "admin:users", "files:read"))

	// Declared for one subject's role, "*" is still beyond another's cap.
	_, err = p.Grant(ctx, policy.Subject{Roles: []string{"staff"}}, policy.Permissions{"admin": {"*"}})
	require.ErrorAs(t, err, &exceeds)
	assert.Equal(t, policy.Permissions{"admin": {"*"}}, exceeds.Exceeded)
}

func TestGrantResultIsNotShared(t *testing.T) {
	ctx := context.Background()
	p := policy.MustNew(policy.Config{Max: readWrite, Default: readWrite})
	got, err := p.Grant(ctx, policy.Subject{}, nil)
	require.NoError(t, err)
	got["files"][0] = "changed"

	again, err := p.Grant(ctx, policy.Subject{}, nil)
	require.NoError(t, err)
	assert.Equal(t, readWrite, again)

	// An ExceedsError goes to callers (and to JSON encoders); changing its
	// Maximum must not change the policy, whatever Cap shares internally.
	for _, p := range []*policy.Policy{
		policy.MustNew(policy.Config{AllowClientPermissions: true, Max: readWrite}),
		policy.MustNew(policy.Config{AllowClientPermissions: true, Roles: roles}),
	} {
		s := policy.Subject{Roles: []string{"editor"}}
		_, err = p.Grant(ctx, s, policy.MustParse("notes:read"))
		var exceeds *policy.ExceedsError
		require.ErrorAs(t, err, &exceeds)
		want := exceeds.Maximum.Clone()
		exceeds.Maximum["files"][0] = "changed"
		delete(exceeds.Maximum, "files")

		maximum, err := p.Cap(ctx, s)
		require.NoError(t, err)
		assert.Equal(t, want, maximum)
	}
}

func TestKnown(t *testing.T) {
	p := policy.MustNew(policy.Config{
		Max:     policy.MustParse("files:read", "notes:read"),
		Roles:   roles,
		Default: policy.MustParse("reports:read"),
		MaxFunc: func(context.Context, policy.Subject) (policy.Permissions, error) {
			return policy.MustParse("secret:read"), nil
		},
	})
	assert.Equal(t, policy.MustParse("files:read", "files:write", "files:delete", "invoices:read", "invoices:write", "notes:read", "reports:read"), p.Known())
	assert.Equal(t, policy.Permissions{}, policy.MustNew(policy.Config{}).Known())
}

// TestMaxKeys: nil is the default of 100, 0 is no limit (as #10 says),
// any other number is the limit.
func TestMaxKeys(t *testing.T) {
	for _, tt := range []struct {
		given *int
		want  int // as Policy.MaxKeys says it: 0 is no limit
	}{{nil, policy.DefaultMaxKeys}, {new(0), 0}, {new(3), 3}} {
		p, err := policy.New(policy.Config{MaxKeys: tt.given})
		require.NoError(t, err)
		assert.Equal(t, tt.want, p.MaxKeys())
	}
}
