package keys_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// withKinds configures kinds live and test: test keys may only read and
// live at most a week.
func withKinds(c *keys.Config) {
	c.Kinds = map[string]keys.Kind{
		"live": {Prefix: "sklive"},
		"test": {Prefix: "sktest", Max: policy.MustParse("files:read"), MaxLifetime: 7 * day},
	}
}

func TestKinds(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withKinds)
	live, liveKey, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "l", Kind: "live", Permissions: policy.MustParse("files:read", "files:write")})
	require.NoError(t, err)
	assert.Equal(t, "sklive", live.Prefix)
	assert.Equal(t, "live", live.Kind)
	assert.True(t, strings.HasPrefix(liveKey, "sklive_"))
	test, testKey, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "t", Kind: "test", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	assert.Equal(t, "test", test.Kind)
	assert.Equal(t, f.clock.Now().UTC().Truncate(time.Millisecond).Add(7*day), test.ExpiresAt, "the kind's maximum lifetime is its default here")
	_, defKey, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "d", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)

	for key, kind := range map[string]string{liveKey: "live", testKey: "test", defKey: ""} {
		v, err := f.m.Verify(ctx, key, "")
		require.NoError(t, err)
		assert.Equal(t, kind, v.Kind)
		// The same key under each other prefix does not verify.
		for _, prefix := range []string{"sklive", "sktest", "kc"} {
			if strings.HasPrefix(key, prefix+"_") {
				continue
			}
			_, err := f.m.Verify(ctx, keys.RePrefixForTest(key, prefix), "")
			assert.ErrorIs(t, err, keys.ErrInvalid, "%s under %s", kind, prefix)
		}
		_, err = f.m.Verify(ctx, keys.RePrefixForTest(key, "other"), "")
		assert.ErrorIs(t, err, keys.ErrInvalid, "an unknown prefix is malformed")
	}

	// The kind's bounds, at creation and on change.
	_, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "t", Kind: "test", Permissions: policy.MustParse("files:write")})
	var exceeds *policy.ExceedsError
	require.ErrorAs(t, err, &exceeds)
	_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: test.ID}, Permissions: policy.MustParse("files:read", "files:write")})
	require.ErrorAs(t, err, &exceeds)
	_, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "t", Kind: "test", Permissions: policy.MustParse("files:read"), Lifetime: 8 * day})
	var lifetime *policy.LifetimeError
	require.ErrorAs(t, err, &lifetime)
	assert.Equal(t, 7*day, lifetime.Maximum)
	_, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "x", Kind: "staging"})
	var field *keys.FieldError
	require.ErrorAs(t, err, &field)
	assert.Equal(t, "kind", field.Field)

	// Rotation keeps the kind and its prefix.
	rotated, secret, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: keys.Ref{Owner: "alice", ID: test.ID}})
	require.NoError(t, err)
	assert.Equal(t, "test", rotated.Kind)
	assert.True(t, strings.HasPrefix(secret, "sktest_"))
	_, err = f.m.Verify(ctx, secret, "")
	require.NoError(t, err)

	// A key made by a key is of its kind.
	v, err := f.m.Verify(ctx, liveKey, "")
	require.NoError(t, err)
	child, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "c", Caller: v, Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	assert.Equal(t, "live", child.Kind)
	_, _, err = f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "c", Kind: "test", Caller: v, Permissions: policy.MustParse("files:read")})
	require.ErrorAs(t, err, &field)
}

func TestKindsConfigRefused(t *testing.T) {
	for name, k := range map[string]map[string]keys.Kind{
		"no prefix":           {"live": {}},
		"the default prefix":  {"live": {Prefix: "kc"}},
		"a shared prefix":     {"live": {Prefix: "a"}, "test": {Prefix: "a"}},
		"a bad name":          {"Live": {Prefix: "a"}},
		"a bad prefix":        {"live": {Prefix: "A_b"}},
		"default over max":    {"live": {Prefix: "a", DefaultLifetime: 2 * day, MaxLifetime: day}},
		"a malformed maximum": {"live": {Prefix: "a", Max: policy.Permissions{"Files": {"read"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			c := keys.Config{Store: newFixture(t).mem, Policy: testPolicy, Subjects: policy.SubjectsFunc(newDirectory().lookup), Secret: testSecret, Kinds: k}
			_, err := keys.NewManager(c)
			assert.Error(t, err)
		})
	}
}

// Pattern matches the keys of every kind and nothing else of their form.
func FuzzKindsPattern(f *testing.F) {
	m := newFixture(f, withKinds).m
	anchored := regexp.MustCompile(`^(?:` + m.Pattern().String() + `)$`)
	for _, prefix := range []string{"kc", "sklive", "sktest", "other", "sklivex", "k"} {
		tok, err := keys.GenerateForTest(prefix, "0123456789abcdef")
		require.NoError(f, err)
		f.Add(tok.String())
	}
	f.Add("sktest_0123456789abcdef_" + strings.Repeat("a", 32) + "_abcdeF")
	f.Fuzz(func(t *testing.T, s string) {
		assert.Equal(t, ofKindForm(s), anchored.MatchString(s), "%q", s)
	})
}

// ofKindForm is what Pattern must match, spelled out: a configured prefix,
// a 16-character id, a 32-character secret and a 6-character checksum.
func ofKindForm(s string) bool {
	for _, prefix := range []string{"kc", "sklive", "sktest"} {
		rest, ok := strings.CutPrefix(s, prefix+"_")
		if !ok {
			continue
		}
		parts := strings.Split(rest, "_")
		if len(parts) == 3 && len(parts[0]) == 16 && len(parts[1]) == 32 && len(parts[2]) == 6 &&
			onlyOf(parts[0], "0123456789abcdefghjkmnpqrstvwxyz") && onlyOf(parts[1]+parts[2], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
			return true
		}
	}
	return false
}

func onlyOf(s, alphabet string) bool {
	for _, r := range s {
		if !strings.ContainsRune(alphabet, r) {
			return false
		}
	}
	return true
}
