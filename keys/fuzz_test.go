package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// fuzzPermissions turns fuzz input into permissions that may break every
// rule: "files:read,write notes:" is {"files": ["read", "write"], "notes":
// [""]}. "" means none named (nil).
func fuzzPermissions(s string) policy.Permissions {
	if s == "" {
		return nil
	}
	p := policy.Permissions{}
	for _, field := range strings.Split(s, " ") {
		resource, actions, _ := strings.Cut(field, ":")
		p[resource] = append(p[resource], strings.Split(actions, ",")...)
	}
	return p
}

var fuzzOwners = []string{"alice", "bob", "carol", "dave", "erin", "zoe"}

// FuzzCreate: whatever a client sends, Create never panics, and a refusal
// stores nothing.
func FuzzCreate(f *testing.F) {
	f.Add("ci", "files:read", int64(0), byte(0))
	f.Add("ci", "files:read,write", int64(day), byte(1))
	f.Add("ci", "files:delete", int64(8*day), byte(0))
	f.Add("ci", "", int64(0), byte(4))
	f.Add("", "files:read", int64(0), byte(0))
	f.Add(" \x00 ", "files:read", int64(0), byte(0))
	f.Add("ci", "files:*", int64(0), byte(0))
	f.Add("ci", "Files:read", int64(0), byte(0))
	f.Add("ci", "files:read", int64(-1), byte(0))
	f.Add("ci", "files:read", int64(1<<62), byte(0))
	f.Add("ci", "files:read", int64(0), byte(3))
	f.Add("ci", "files:read", int64(0), byte(5))
	f.Add(strings.Repeat("é", 101), "files:read", int64(0), byte(0))
	f.Add("invoice\u202Efdp.exe", "files:read", int64(0), byte(0))
	f.Add("👩\u200D💻 ci", "files:read", int64(0), byte(0))
	f.Add("ci\u200Ddeploy", "files:read", int64(0), byte(0))

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, name, perms string, lifetime int64, who byte) {
		fx := newFixture(t, func(c *keys.Config) { c.LastUsedInterval = -1 })
		owner := fuzzOwners[int(who)%len(fuzzOwners)]
		requested := fuzzPermissions(perms)
		before := requested.Clone()

		k, token, err := fx.m.Create(ctx, keys.CreateRequest{Owner: owner, Name: name, Permissions: requested, Lifetime: time.Duration(lifetime)})
		require.Equal(t, before, requested, "Create does not modify the request")
		if err != nil {
			require.Nil(t, k)
			require.Empty(t, token)
			require.Zero(t, fx.store.writes(), "a refusal writes nothing: %v", err)
			require.Empty(t, fx.stored(t, owner))
			requireTypedRefusal(t, err)
			return
		}
		require.Equal(t, 1, fx.store.n("Create"))
		require.Equal(t, strings.TrimSpace(name), k.Name)
		require.True(t, utf8.ValidString(k.Name))
		require.LessOrEqual(t, utf8.RuneCountInString(k.Name), keys.MaxNameLengthForTest)
		for i, r := range k.Name {
			switch {
			case r == '\u200C' || r == '\u200D': // joiners only where they shape what is shown
				require.True(t, i > 0 && i+utf8.RuneLen(r) < len(k.Name), "a joiner at an end of %q", k.Name)
			default:
				require.True(t, unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs), "%U in the name %q", r, k.Name)
			}
		}
		ownerCap, err := fx.m.CapForTest(ctx, owner)
		require.NoError(t, err)
		require.True(t, policy.Subset(k.Permissions, ownerCap), "granted %v beyond %v", k.Permissions, ownerCap)
		require.False(t, k.Permissions.IsEmpty())
		if longest := testPolicy.MaxLifetime(k.Permissions); longest > 0 {
			require.False(t, k.ExpiresAt.IsZero())
			require.False(t, k.ExpiresAt.After(k.CreatedAt.Add(longest)))
		}
		// A lifetime under a second (once born expired: times are stored to
		// the millisecond) is refused, so every key made works at once.
		require.False(t, lifetime < int64(time.Second) && lifetime != 0, "lifetime %v accepted", time.Duration(lifetime))
		v, err := fx.m.Verify(ctx, token, "")
		require.NoError(t, err)
		require.Equal(t, k.Permissions, v.Permissions)
	})
}

// requireTypedRefusal checks err is one of the refusals Create documents.
func requireTypedRefusal(t *testing.T, err error) {
	t.Helper()
	var (
		invalid    *policy.InvalidError
		exceeds    *policy.ExceedsError
		lifetime   *policy.LifetimeError
		field      *keys.FieldError
		delegation *keys.DelegationError
		limit      *policy.KeyLimitError
	)
	switch {
	case errors.As(err, &invalid), errors.As(err, &exceeds), errors.As(err, &lifetime),
		errors.As(err, &field), errors.As(err, &delegation), errors.As(err, &limit),
		errors.Is(err, policy.ErrUnknownSubject), errors.Is(err, policy.ErrSubjectDisabled):
	default:
		t.Fatalf("untyped refusal %T: %v", err, err)
	}
}

// FuzzVerify: whatever a client presents, Verify never panics, never
// writes, and never asks the store about a key that does not parse.
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	fx := newFixture(f, func(c *keys.Config) { c.LastUsedInterval = -1 })
	k, token := fx.create(f, "bob")
	f.Add(token)
	f.Add(token[:len(token)-1])
	f.Add(token + " ")
	f.Add(strings.ToUpper(token))
	f.Add(strings.Replace(token, k.ID, strings.Repeat("0", 16), 1))
	f.Add(newToken(f, "kc").String())
	f.Add(newToken(f, "acme").String())
	f.Add("")
	f.Add("kc_")
	writes := fx.store.writes()

	f.Fuzz(func(t *testing.T, s string) {
		gets := fx.store.n("Get")
		v, err := fx.m.Verify(ctx, s, "") // must never panic
		require.Equal(t, writes, fx.store.writes(), "Verify writes nothing")
		if _, perr := keys.ParseForTest(s); perr != nil {
			require.ErrorIs(t, err, keys.ErrInvalid)
			require.Equal(t, gets, fx.store.n("Get"), "a malformed key never reaches the store")
			return
		}
		if s == token {
			require.NoError(t, err)
			require.Equal(t, k.ID, v.ID)
			return
		}
		require.Error(t, err, "only the real key verifies")
		require.Nil(t, v)
	})
}
