package keys_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

func TestNewManagerRefuses(t *testing.T) {
	valid := func() keys.Config {
		return keys.Config{
			Store:    memstore.New(),
			Policy:   testPolicy,
			Subjects: policy.SubjectsFunc(newDirectory().lookup),
			Secret:   testSecret,
		}
	}
	tests := []struct {
		name   string
		change func(*keys.Config)
	}{
		{"no Store", func(c *keys.Config) { c.Store = nil }},
		{"no Policy", func(c *keys.Config) { c.Policy = nil }},
		{"no Subjects", func(c *keys.Config) { c.Subjects = nil }},
		{"no Secret", func(c *keys.Config) { c.Secret = nil }},
		{"short Secret", func(c *keys.Config) { c.Secret = testSecret[:31] }},
		{"upper-case Prefix", func(c *keys.Config) { c.Prefix = "KC" }},
		{"Prefix with underscore", func(c *keys.Config) { c.Prefix = "k_c" }},
		{"long Prefix", func(c *keys.Config) { c.Prefix = strings.Repeat("k", 17) }},
		{"negative cache size", func(c *keys.Config) { c.Cache.Size = -1 }},
		{"negative MaxStale", func(c *keys.Config) { c.Cache.MaxStale = -time.Second }},
		{"negative MaxRotationGrace", func(c *keys.Config) { c.MaxRotationGrace = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			m, err := keys.NewManager(c)
			assert.Error(t, err)
			assert.Nil(t, m)
		})
	}

	m, err := keys.NewManager(valid())
	require.NoError(t, err)
	assert.Equal(t, keys.DefaultPrefixForTest, m.Kinds()[""].Prefix)
	assert.Same(t, testPolicy, m.Policy())
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	now := f.clock.Now().UTC().Truncate(time.Millisecond)

	k, token, err := f.m.Create(ctx, keys.CreateRequest{
		Owner:       "alice",
		Name:        "  CI deploy  ",
		Permissions: policy.Permissions{"files": {"write", "read", "write"}},
	})
	require.NoError(t, err)

	tok, err := keys.ParseForTest(token)
	require.NoError(t, err, "the key returned parses")
	assert.True(t, anchored.MatchString(token))
	assert.Equal(t, "kc", tok.Prefix)
	assert.Equal(t, k.ID, tok.ID)

	assert.Equal(t, "alice", k.OwnerID)
	assert.Equal(t, "CI deploy", k.Name, "trimmed")
	assert.Equal(t, "kc", k.Prefix)
	assert.Equal(t, tok.Hint(), k.Hint)
	assert.Equal(t, digest(token), k.Hash, "only the HMAC is kept")
	assert.Equal(t, policy.MustParse("files:read", "files:write"), k.Permissions, "normalized")
	assert.Equal(t, now, k.CreatedAt)
	assert.Equal(t, now, k.UpdatedAt)
	assert.Equal(t, now.Add(30*day), k.ExpiresAt, "the policy's default lifetime")
	assert.Equal(t, audit.User("alice"), k.CreatedBy)
	assert.Equal(t, int64(1), k.Version)
	assert.Zero(t, k.Generation)
	assert.Nil(t, k.Ancestors, "created by a person")
	assert.False(t, !k.RevokedAt.IsZero())

	stored := f.stored(t, "alice")
	require.Len(t, stored, 1)
	assert.Equal(t, k, stored[0])
	secret := strings.Split(token, "_")[2]
	for _, field := range []string{stored[0].ID, stored[0].Name, stored[0].Hint, stored[0].CreatedBy.String(), string(stored[0].Hash)} {
		assert.NotContains(t, field, secret, "the key itself is never stored")
	}
	assert.Equal(t, 1, f.store.n("Create"))

	e := f.audit.last(t)
	assert.Equal(t, audit.Created, e.Type)
	assert.Equal(t, audit.User("alice"), e.Actor)
	assert.Equal(t, "alice", e.OwnerID)
	assert.Equal(t, k.ID, e.KeyID)
	assert.Equal(t, k.Permissions, e.After)
	assert.NotContains(t, e.Reason, secret)
}

func TestCreateChoices(t *testing.T) {
	ctx := context.Background()
	unbounded := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")})
	tests := []struct {
		name        string
		options     []func(*keys.Config)
		req         keys.CreateRequest
		wantPerms   policy.Permissions
		wantExpiry  time.Duration // from creation; 0: never
		wantCreator audit.Actor
		wantPrefix  string
	}{
		{"default permissions", nil, keys.CreateRequest{Owner: "bob", Name: "k"},
			policy.MustParse("files:read"), 30 * day, audit.User("bob"), "kc"},
		{"chosen lifetime", nil, keys.CreateRequest{Owner: "bob", Name: "k", Lifetime: 10 * day},
			policy.MustParse("files:read"), 10 * day, audit.User("bob"), "kc"},
		{"exactly the maximum lifetime", nil, keys.CreateRequest{Owner: "bob", Name: "k", Lifetime: 90 * day},
			policy.MustParse("files:read"), 90 * day, audit.User("bob"), "kc"},
		{"delete: default cut to its rule", nil, keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:delete")},
			policy.MustParse("files:delete"), 7 * day, audit.User("alice"), "kc"},
		{"no lifetime bound: never expires", []func(*keys.Config){func(c *keys.Config) { c.Policy = unbounded }},
			keys.CreateRequest{Owner: "bob", Name: "k", Permissions: policy.MustParse("files:read")}, policy.MustParse("files:read"), 0, audit.User("bob"), "kc"},
		{"configured prefix", []func(*keys.Config){func(c *keys.Config) { c.Prefix = "acme" }},
			keys.CreateRequest{Owner: "bob", Name: "k"}, policy.MustParse("files:read"), 30 * day, audit.User("bob"), "acme"},
		{"a 100-character name", nil, keys.CreateRequest{Owner: "bob", Name: strings.Repeat("é", 100)},
			policy.MustParse("files:read"), 30 * day, audit.User("bob"), "kc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.options...)
			k, token, err := f.m.Create(ctx, tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPerms, k.Permissions)
			if tt.wantExpiry == 0 {
				assert.True(t, k.ExpiresAt.IsZero(), "never expires")
			} else {
				assert.Equal(t, k.CreatedAt.Add(tt.wantExpiry), k.ExpiresAt)
			}
			assert.Equal(t, tt.wantCreator, k.CreatedBy)
			assert.True(t, strings.HasPrefix(token, tt.wantPrefix+"_"))

			v, err := f.m.Verify(ctx, token, "")
			require.NoError(t, err)
			assert.Equal(t, tt.wantPerms, v.Permissions)
		})
	}
}

// refusal checks the error of a refused request.
type refusal func(t *testing.T, err error)

func exceeds(exceeded, maximum policy.Permissions) refusal {
	return func(t *testing.T, err error) {
		e, ok := errorAs[*policy.ExceedsError](err)
		require.True(t, ok, "want *policy.ExceedsError, got %T: %v", err, err)
		assert.Equal(t, exceeded, e.Exceeded)
		assert.Equal(t, maximum, e.Maximum)
	}
}

func invalid(path string) refusal {
	return func(t *testing.T, err error) {
		e, ok := errorAs[*policy.InvalidError](err)
		require.True(t, ok, "want *policy.InvalidError, got %T: %v", err, err)
		assert.Equal(t, path, e.Path)
	}
}

func tooLong(maximum time.Duration) refusal {
	return func(t *testing.T, err error) {
		e, ok := errorAs[*policy.LifetimeError](err)
		require.True(t, ok, "want *policy.LifetimeError, got %T: %v", err, err)
		assert.Equal(t, maximum, e.Maximum)
	}
}

func badField(field string) refusal {
	return func(t *testing.T, err error) {
		e, ok := errorAs[*keys.FieldError](err)
		require.True(t, ok, "want *keys.FieldError, got %T: %v", err, err)
		assert.Equal(t, field, e.Field)
		assert.NotEmpty(t, e.Reason)
	}
}

func is(target error) refusal {
	return func(t *testing.T, err error) { assert.ErrorIs(t, err, target) }
}

func TestCreateRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		req     func(t *testing.T, f *fixture) keys.CreateRequest
		want    refusal
		audited bool // a policy refusal is audited
	}{
		{"beyond the cap", req("bob", "files:read", "files:delete"),
			exceeds(policy.MustParse("files:delete"), policy.MustParse("files:read", "files:write")), true},
		{"a resource beyond the cap", req("carol", "invoices:read"),
			exceeds(policy.MustParse("invoices:read"), policy.MustParse("files:read")), true},
		{"a subject with no role", req("erin", "files:read"),
			exceeds(policy.MustParse("files:read"), policy.Permissions{}), true},
		{"a subject with no role, default permissions", reqWith("erin", func(r *keys.CreateRequest) {}),
			is(policy.ErrEmpty), true},
		{"malformed permissions", reqWith("alice", func(r *keys.CreateRequest) { r.Permissions = policy.Permissions{"Files": {"read"}} }),
			invalid(`"Files"`), true},
		{"a wildcard", reqWith("alice", func(r *keys.CreateRequest) { r.Permissions = policy.Permissions{"files": {"read", "*"}} }),
			invalid("files[1]"), true},
		{"too many resources", reqWith("alice", func(r *keys.CreateRequest) { r.Permissions = manyResources(65) }),
			invalid("permissions"), true},
		{"empty permissions", reqWith("alice", func(r *keys.CreateRequest) { r.Permissions = policy.Permissions{} }),
			is(policy.ErrEmpty), true},
		{"lifetime beyond the maximum", reqWith("alice", func(r *keys.CreateRequest) { r.Lifetime = 90*day + time.Millisecond }),
			tooLong(90 * day), true},
		{"lifetime beyond a rule", reqWith("alice", func(r *keys.CreateRequest) {
			r.Permissions, r.Lifetime = policy.MustParse("files:delete"), 8*day
		}), tooLong(7 * day), true},
		// Lifetimes are checked before the policy is asked (they were a
		// policy.InvalidError, audited); under a second a key is born expired.
		{"negative lifetime", reqWith("alice", func(r *keys.CreateRequest) { r.Lifetime = -time.Second }),
			badField("expires_in"), false},
		{"a lifetime of a nanosecond", reqWith("alice", func(r *keys.CreateRequest) { r.Lifetime = time.Nanosecond }),
			badField("expires_in"), false},
		{"a lifetime just under a second", reqWith("alice", func(r *keys.CreateRequest) { r.Lifetime = time.Second - time.Millisecond }),
			badField("expires_in"), false},
		{"empty name", reqWith("alice", func(r *keys.CreateRequest) { r.Name = "" }), badField("name"), false},
		{"blank name", reqWith("alice", func(r *keys.CreateRequest) { r.Name = " \t " }), badField("name"), false},
		{"101-character name", reqWith("alice", func(r *keys.CreateRequest) { r.Name = strings.Repeat("é", 101) }), badField("name"), false},
		{"control character in the name", reqWith("alice", func(r *keys.CreateRequest) { r.Name = "ci\x00deploy" }), badField("name"), false},
		{"newline in the name", reqWith("alice", func(r *keys.CreateRequest) { r.Name = "ci\ndeploy" }), badField("name"), false},
		{"invalid UTF-8 in the name", reqWith("alice", func(r *keys.CreateRequest) { r.Name = "ci\xffdeploy" }), badField("name"), false},
		// Only refusals beyond a bound are audited now; a disabled subject was
		// audited because its refusal came out of policy.Grant.
		{"disabled subject", req("dave", "files:read"), is(policy.ErrSubjectDisabled), false},
		{"unknown subject", req("zoe", "files:read"), is(policy.ErrUnknownSubject), false},
		{"beyond the calling key", func(t *testing.T, f *fixture) keys.CreateRequest {
			return keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:write"),
				Caller: f.verified(t, "alice", day, "files:read")}
		}, exceeds(policy.MustParse("files:write"), policy.MustParse("files:read")), true},
		{"the calling key's effective permissions, not its stored ones", func(t *testing.T, f *fixture) keys.CreateRequest {
			caller := f.verified(t, "alice", day, "files:read", "invoices:read")
			caller.Permissions = policy.MustParse("files:read") // as after a demotion
			return keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("invoices:read"), Caller: caller}
		}, exceeds(policy.MustParse("invoices:read"), policy.MustParse("files:read")), true},
		{"expiring after the calling key", func(t *testing.T, f *fixture) keys.CreateRequest {
			return keys.CreateRequest{Owner: "alice", Name: "k", Permissions: policy.MustParse("files:read"), Lifetime: 2 * day,
				Caller: f.verified(t, "alice", day, "files:read")}
		}, func(t *testing.T, err error) {
			e, ok := errorAs[*keys.DelegationError](err)
			require.True(t, ok, "want *keys.DelegationError, got %T: %v", err, err)
			assert.False(t, e.ExpiresAt.IsZero(), "names the calling key's expiry")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := tt.req(t, f)
			before, keysBefore, events := f.store.snapshot(), len(f.stored(t, r.Owner)), f.audit.len()

			k, token, err := f.m.Create(ctx, r)
			require.Error(t, err)
			tt.want(t, err)
			assert.Nil(t, k)
			assert.Empty(t, token)

			assert.Equal(t, before, f.store.snapshot(), "a refusal does not touch the store")
			assert.Len(t, f.stored(t, r.Owner), keysBefore, "nothing stored")
			if tt.audited {
				require.Equal(t, events+1, f.audit.len())
				e := f.audit.last(t)
				assert.Equal(t, audit.Refused, e.Type)
				assert.Equal(t, r.Owner, e.OwnerID)
				assert.Equal(t, err.Error(), e.Reason)
				if x, ok := errorAs[*policy.ExceedsError](err); ok {
					assert.Equal(t, x.Exceeded, e.After)
				}
			} else {
				assert.Equal(t, events, f.audit.len(), "input errors are not audited")
			}
		})
	}
}

func req(owner string, perms ...string) func(*testing.T, *fixture) keys.CreateRequest {
	return func(*testing.T, *fixture) keys.CreateRequest {
		return keys.CreateRequest{Owner: owner, Name: "k", Permissions: policy.MustParse(perms...)}
	}
}

func reqWith(owner string, change func(*keys.CreateRequest)) func(*testing.T, *fixture) keys.CreateRequest {
	return func(*testing.T, *fixture) keys.CreateRequest {
		r := keys.CreateRequest{Owner: owner, Name: "k"}
		change(&r)
		return r
	}
}

func manyResources(n int) policy.Permissions {
	p := policy.Permissions{}
	for i := range n {
		p["r"+strings.Repeat("x", i)] = []string{"read"}
	}
	return p
}

func TestCreateDelegation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	caller := f.verified(t, "alice", day, "files:read", "files:write")
	limit := f.record(t, caller.ID).ExpiresAt
	f.clock.Advance(time.Hour)

	tests := []struct {
		name       string
		req        keys.CreateRequest
		wantPerms  policy.Permissions
		wantExpiry func(created time.Time) time.Time
	}{
		{"the default lifetime is cut to the calling key's", keys.CreateRequest{Permissions: policy.MustParse("files:read")},
			policy.MustParse("files:read"), func(time.Time) time.Time { return limit }},
		{"a shorter lifetime is kept", keys.CreateRequest{Permissions: policy.MustParse("files:write"), Lifetime: 12 * time.Hour},
			policy.MustParse("files:write"), func(c time.Time) time.Time { return c.Add(12 * time.Hour) }},
		{"exactly the calling key's expiry", keys.CreateRequest{Permissions: policy.MustParse("files:write"), Lifetime: 23 * time.Hour},
			policy.MustParse("files:write"), func(time.Time) time.Time { return limit }},
		{"default permissions within the calling key", keys.CreateRequest{},
			policy.MustParse("files:read"), func(time.Time) time.Time { return limit }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req
			r.Owner, r.Name, r.Caller = "alice", "delegated", caller
			k, _, err := f.m.Create(ctx, r)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPerms, k.Permissions)
			assert.Equal(t, tt.wantExpiry(k.CreatedAt), k.ExpiresAt)
			assert.Equal(t, audit.Key(caller.ID), k.CreatedBy, "the calling key acts")
			assert.Equal(t, []string{caller.ID}, k.Ancestors)
			assert.Equal(t, f.record(t, caller.ID).Generation, k.ParentGeneration)
		})
	}

	// A calling key that never expires does not cut the default.
	unbounded := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")})
	g := newFixture(t, func(c *keys.Config) { c.Policy = unbounded })
	forever := g.verified(t, "bob", 0, "files:read")
	require.True(t, forever.ExpiresAt.IsZero())
	k, _, err := g.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "k", Permissions: policy.MustParse("files:read"), Caller: forever})
	require.NoError(t, err)
	assert.True(t, k.ExpiresAt.IsZero())
}

// flakyStore fails Create with a conflict a given number of times.
type flakyStore struct {
	keys.Store
	conflicts int
	ids       []string
}

func (s *flakyStore) Create(ctx context.Context, k *keys.Key, maxLive int) error {
	s.ids = append(s.ids, k.ID)
	if s.conflicts > 0 {
		s.conflicts--
		return keys.ErrConflict
	}
	return s.Store.Create(ctx, k, maxLive)
}

func TestCreateRetriesConflicts(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		conflicts int
		ok        bool
	}{{0, true}, {2, true}, {3, false}} {
		store := &flakyStore{Store: memstore.New(), conflicts: tt.conflicts}
		m, err := keys.NewManager(keys.Config{Store: store, Policy: testPolicy, Subjects: policy.SubjectsFunc(newDirectory().lookup), Secret: testSecret})
		require.NoError(t, err)
		k, token, err := m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "k"})
		if !tt.ok {
			assert.ErrorIs(t, err, keys.ErrConflict)
			assert.Nil(t, k)
			assert.Empty(t, token)
			continue
		}
		require.NoError(t, err)
		assert.Len(t, store.ids, tt.conflicts+1)
		assert.Equal(t, store.ids[len(store.ids)-1], k.ID, "a retry takes a fresh id")
		_, err = m.Verify(ctx, token, "")
		assert.NoError(t, err)
	}
}

// An admin (or an operator) may stop another user's keys, never mint one:
// the secret would act as that user.
func TestCreateByAnotherUserRefused(t *testing.T) {
	f := newFixture(t)
	for _, actor := range []audit.Actor{audit.User("root"), {Kind: audit.KindOperator, ID: "ops"}} {
		_, _, err := f.m.Create(t.Context(), keys.CreateRequest{Owner: "bob", Name: "k", Actor: actor})
		require.ErrorIs(t, err, keys.ErrAdminChange, "%v", actor)
	}
	list, _, err := f.m.List(t.Context(), keys.ListRequest{Owner: "bob"})
	require.NoError(t, err)
	require.Empty(t, list, "nothing stored")
}
