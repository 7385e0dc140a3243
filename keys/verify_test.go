package keys_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

func TestVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token := f.create(t, "bob", "files:read", "files:write")

	v, err := f.m.Verify(ctx, token, "203.0.113.7")
	require.NoError(t, err)
	assert.Equal(t, k.ID, v.ID)
	assert.Equal(t, "bob", v.OwnerID)
	assert.Equal(t, "", v.Kind, "the default kind")
	assert.Equal(t, k.CreatedAt, v.CreatedAt)
	assert.Equal(t, k.ExpiresAt, v.ExpiresAt)
	assert.Equal(t, int64(-1), v.Remaining, "no quota")
	assert.Equal(t, policy.Subject{ID: "bob", Roles: []string{"editor"}}, v.Subject)
	assert.Equal(t, policy.MustParse("files:read", "files:write"), v.Permissions)
	assert.True(t, policy.Satisfies(v.Permissions, "files:write"))
	assert.Equal(t, 1, f.store.writes(), "only the Create wrote: verification writes nothing")
}

func TestVerifyDenials(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// setup returns the key to present, after changing the world.
		setup func(t *testing.T, f *fixture) string
		want  error
		names bool // the id names a stored record
	}{
		{"wrong secret: a well-formed key with the right id", func(t *testing.T, f *fixture) string {
			k, _ := f.create(t, "bob")
			other, err := keys.GenerateForTest("kc", k.ID)
			require.NoError(t, err)
			return other.String()
		}, keys.ErrInvalid, true},
		{"unknown id", func(t *testing.T, f *fixture) string {
			f.create(t, "bob")
			return newToken(t, "kc").String()
		}, keys.ErrInvalid, false},
		{"revoked", func(t *testing.T, f *fixture) string {
			k, token := f.create(t, "bob")
			_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID), Reason: "leaked"})
			require.NoError(t, err)
			return token
		}, keys.ErrRevokedForTest, true},
		{"disabled", func(t *testing.T, f *fixture) string {
			k, token := f.create(t, "bob")
			_, err := f.disable(ctx, "bob", k.ID, true, audit.Actor{})
			require.NoError(t, err)
			return token
		}, keys.ErrDisabledForTest, true},
		{"expired", func(t *testing.T, f *fixture) string {
			_, token := f.create(t, "bob")
			f.clock.Advance(30*day + time.Second)
			return token
		}, keys.ErrExpired, true},
		{"at the instant of expiry", func(t *testing.T, f *fixture) string {
			k, token := f.create(t, "bob")
			f.clock.Advance(k.ExpiresAt.Sub(f.clock.Now()))
			return token
		}, keys.ErrExpired, true},
		{"owner disabled", func(t *testing.T, f *fixture) string {
			_, token := f.create(t, "bob")
			f.users.set("bob", policy.Subject{Roles: []string{"editor"}, Disabled: true})
			return token
		}, keys.ErrOwnerGoneForTest, true},
		{"owner deleted", func(t *testing.T, f *fixture) string {
			_, token := f.create(t, "bob")
			f.users.remove("bob")
			return token
		}, keys.ErrOwnerGoneForTest, true},
		{"another prefix", func(t *testing.T, f *fixture) string {
			f.create(t, "bob")
			return newToken(t, "acme").String()
		}, keys.ErrInvalid, false},
		{"bad checksum", func(t *testing.T, f *fixture) string {
			_, token := f.create(t, "bob")
			return token[:len(token)-1] + map[bool]string{true: "1", false: "0"}[token[len(token)-1] == '0']
		}, keys.ErrInvalid, false},
	}
	for _, tt := range tests {
		for _, cached := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/cache=%v", tt.name, cached), func(t *testing.T) {
				var options []func(*keys.Config)
				if cached {
					options = append(options, withCache)
				}
				f := newFixture(t, options...)
				token := tt.setup(t, f)
				writes, events := f.store.writes(), f.audit.len()

				v, err := f.m.Verify(ctx, token, "198.51.100.1")
				assert.ErrorIs(t, err, tt.want)
				assert.Nil(t, v)
				if errors.Is(tt.want, keys.ErrRevokedForTest) || errors.Is(tt.want, keys.ErrDisabledForTest) || errors.Is(tt.want, keys.ErrOwnerGoneForTest) {
					assert.ErrorIs(t, err, keys.ErrInvalid, "clients cannot tell these apart")
				}
				assert.Equal(t, writes, f.store.writes(), "a denial writes nothing")

				require.Equal(t, events+1, f.audit.len(), "a denial is audited")
				e := f.audit.last(t)
				assert.Equal(t, audit.VerificationDenied, e.Type)
				assert.Equal(t, err.Error(), e.Reason)
				assert.Equal(t, "198.51.100.1", e.IP)
				// The event names a key only when the id names a record: an
				// unknown id or another app's prefix names nobody's key (they
				// used to be recorded as given, one event per forged id).
				if tok, perr := keys.ParseForTest(token); perr == nil && tt.names {
					assert.Equal(t, tok.ID, e.KeyID)
				} else {
					assert.Empty(t, e.KeyID)
				}
				secret := strings.Split(token, "_")[2]
				assert.NotContains(t, fmt.Sprintf("%+v", e), secret, "the audit never holds the key")
			})
		}
	}
}

// TestVerifyMalformedNeverTouchesStore: a key that fails the format or
// checksum is refused before any lookup.
func TestVerifyMalformedNeverTouchesStore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, token := f.create(t, "bob")
	gets, lookups := f.store.n("Get"), f.users.lookups()

	secretAt := len("kc_") + 16 + 1
	for _, bad := range []string{
		"",
		"kc",
		"Bearer " + token,
		token + "\n",
		" " + token,
		strings.ToUpper(token),
		token[:len(token)-1],
		token[:secretAt] + "0" + token[secretAt+1:], // a typo in the secret
		"xx" + token[2:],
		newToken(t, "acme").String(), // well-formed, another prefix
		strings.Repeat("a", 10_000),
		"kc_\x00\x00\x00",
	} {
		if bad == token {
			continue
		}
		_, err := f.m.Verify(ctx, bad, "")
		assert.ErrorIs(t, err, keys.ErrInvalid, "%q", bad)
	}
	assert.Zero(t, gets, "creating a key asks no Get")
	assert.Zero(t, f.store.n("Get"), "no store lookup")
	assert.Equal(t, lookups, f.users.lookups(), "no subject lookup")
}

func TestVerifyStoreUnavailable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, token := f.create(t, "bob")
	events := f.audit.len()
	f.store.getErr = fmt.Errorf("%w: connection refused", keys.ErrStoreUnavailable)

	_, err := f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrStoreUnavailable, "try again, not no")
	assert.NotErrorIs(t, err, keys.ErrInvalid)
	assert.Equal(t, events, f.audit.len(), "an outage is not a denial")
}

func TestVerifySubjectsError(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, token := f.create(t, "bob")
	boom := errors.New("directory down")
	f.users.mu.Lock()
	f.users.err = boom
	f.users.mu.Unlock()

	_, err := f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, boom, "returned as is, not as a denial of the key")
	assert.NotErrorIs(t, err, keys.ErrInvalid)
}

// TestVerifyDemotedOwner: the effective permissions are the stored ones
// cut to the owner's cap now, so a demotion takes effect at the next request.
func TestVerifyDemotedOwner(t *testing.T) {
	ctx := context.Background()
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache=%v", cached), func(t *testing.T) {
			var options []func(*keys.Config)
			if cached {
				options = append(options, withCache)
			}
			f := newFixture(t, options...)
			granted := policy.MustParse("files:read", "files:write", "invoices:read")
			_, token := f.create(t, "alice", "files:read", "files:write", "invoices:read")

			v, err := f.m.Verify(ctx, token, "")
			require.NoError(t, err)
			assert.Equal(t, granted, v.Permissions)

			f.users.set("alice", policy.Subject{Roles: []string{"viewer"}})
			v, err = f.m.Verify(ctx, token, "")
			require.NoError(t, err)
			assert.Equal(t, policy.MustParse("files:read"), v.Permissions)
			assert.False(t, policy.Satisfies(v.Permissions, "files:write"))
			assert.Equal(t, granted, f.record(t, v.ID).Permissions, "the record is unchanged")

			f.users.set("alice", policy.Subject{})
			v, err = f.m.Verify(ctx, token, "")
			require.NoError(t, err, "a key cut to nothing still verifies, and may do nothing")
			assert.True(t, v.Permissions.IsEmpty())

			f.users.set("alice", policy.Subject{Roles: []string{"admin"}})
			v, err = f.m.Verify(ctx, token, "")
			require.NoError(t, err)
			assert.Equal(t, granted, v.Permissions, "a promotion restores what was granted, no more")
			assert.Equal(t, 1, f.store.writes(), "only the Create wrote")
		})
	}
}

func TestVerifyOwnerDisabledThenEnabled(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withCache)
	_, token := f.create(t, "bob")

	f.users.set("bob", policy.Subject{Roles: []string{"editor"}, Disabled: true})
	_, err := f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrOwnerGoneForTest)

	f.users.set("bob", policy.Subject{Roles: []string{"editor"}})
	_, err = f.m.Verify(ctx, token, "")
	assert.NoError(t, err)
}

// TestVerifyPolicyTightened: a key made under a looser policy stops
// working once the policy's maximum lifetime, counted from creation, passed.
func TestVerifyPolicyTightened(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, token := f.create(t, "bob", "files:read", "files:write") // 30 days
	f.clock.Advance(10 * day)

	tighter := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Roles:                  map[string]policy.Permissions{"editor": policy.MustParse("files:read", "files:write")},
		MaxLifetimeFor:         map[string]time.Duration{"files:write": 7 * day},
	})
	_, err := f.withPolicy(t, tighter).Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrExpired, "10 days old, 7 allowed now")

	looser := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Roles:                  map[string]policy.Permissions{"editor": policy.MustParse("files:read", "files:write")},
		MaxLifetimeFor:         map[string]time.Duration{"files:write": 11 * day},
	})
	_, err = f.withPolicy(t, looser).Verify(ctx, token, "")
	assert.NoError(t, err, "10 days old, 11 allowed")

	_, err = f.m.Verify(ctx, token, "")
	assert.NoError(t, err, "the original policy still allows it")

	globally := policy.MustNew(policy.Config{AllowClientPermissions: true, Roles: map[string]policy.Permissions{"editor": policy.MustParse("files:read", "files:write")}, MaxLifetime: 10 * day})
	_, err = f.withPolicy(t, globally).Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrExpired, "exactly at the new maximum")
}

// TestVerifyWritesNothing: verification only notes the use in memory;
// Touch happens later, coalesced, when the Manager flushes.
func TestVerifyWritesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k, token := f.create(t, "bob")
	other, otherToken := f.create(t, "bob")
	writes := f.store.writes()

	for range 100 {
		_, err := f.m.Verify(ctx, token, "203.0.113.7")
		require.NoError(t, err)
	}
	_, err := f.m.Verify(ctx, otherToken, "203.0.113.8")
	require.NoError(t, err)
	assert.Equal(t, writes, f.store.writes(), "no write on the request path")

	require.NoError(t, f.m.Close())
	assert.Equal(t, 2, f.store.n("Touch"), "one Touch per key, however many uses")
	for _, tt := range []struct {
		id, ip string
	}{{k.ID, "203.0.113.7"}, {other.ID, "203.0.113.8"}} {
		stored, err := f.mem.Get(ctx, tt.id)
		require.NoError(t, err)
		assert.Equal(t, f.clock.Now(), stored.LastUsedAt)
		assert.Equal(t, tt.ip, stored.LastUsedIP)
	}

	require.NoError(t, f.m.Close())
	assert.Equal(t, 2, f.store.n("Touch"), "nothing pending, nothing written")

	f.clock.Advance(30 * time.Second)
	_, err = f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	require.NoError(t, f.m.Close())
	assert.Equal(t, 2, f.store.n("Touch"), "within the interval: coalesced")

	f.clock.Advance(time.Minute)
	_, err = f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	require.NoError(t, f.m.Close())
	assert.Equal(t, 3, f.store.n("Touch"), "a new interval: one more write")
}

func TestVerifyLastUsedOff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *keys.Config) { c.LastUsedInterval = -1 })
	_, token := f.create(t, "bob")
	_, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	require.NoError(t, f.m.Close())
	assert.Equal(t, 0, f.store.n("Touch"))
}

func TestVerifyWithoutAuditor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *keys.Config) { c.Auditor = nil })
	k, token := f.create(t, "bob")
	_, err := f.m.Verify(ctx, token+"x", "")
	assert.ErrorIs(t, err, keys.ErrInvalid)
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID)})
	require.NoError(t, err)
	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrRevokedForTest)
}

func TestVerifyCache(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withCache)
	k, token := f.create(t, "bob")

	_, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err)
	assert.Equal(t, 1, f.m.CachedForTest())
	gets := f.store.n("Get")
	for range 10 {
		_, err = f.m.Verify(ctx, token, "")
		require.NoError(t, err)
	}
	assert.Equal(t, gets, f.store.n("Get"), "served from the cache")

	// A change through the Manager drops the cached record at once.
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID)})
	require.NoError(t, err)
	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrRevokedForTest)

	// The cache is off by default for a store that does not say it is local.
	g := newFixture(t)
	_, token = g.create(t, "bob")
	_, err = g.m.Verify(ctx, token, "")
	require.NoError(t, err)
	assert.Equal(t, 0, g.m.CachedForTest())
}

func TestVerifyCacheBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *keys.Config) { c.Cache = keys.CacheConfig{SingleInstance: true, Size: 3} })
	var tokens []string
	for range 10 {
		_, token := f.create(t, "bob")
		tokens = append(tokens, token)
	}
	for range 3 {
		for _, token := range tokens {
			_, err := f.m.Verify(ctx, token, "")
			require.NoError(t, err)
			assert.LessOrEqual(t, f.m.CachedForTest(), 3)
		}
	}
}

// TestVerifyCacheMaxStale: with a store shared by several instances, a
// change made elsewhere is seen once MaxStale has passed.
func TestVerifyCacheMaxStale(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *keys.Config) { c.Cache = keys.CacheConfig{MaxStale: time.Minute} })
	k, token := f.create(t, "bob")
	_, err := f.m.Verify(ctx, token, "")
	require.NoError(t, err)

	// Revoked through another instance.
	_, err = f.mem.Change(ctx, k.ID, keys.Change{At: f.clock.Now(), Revoke: true, By: audit.User("bob")})
	require.NoError(t, err)

	_, err = f.m.Verify(ctx, token, "")
	assert.NoError(t, err, "within MaxStale the cached record serves")
	f.clock.Advance(time.Minute)
	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrRevokedForTest)
}

// TestVerifyCacheFillRace: a verification that read a record before a
// revocation must not put the old record in the cache after the revocation
// dropped it, or the revoked key would be accepted for as long as it stays
// cached.
func TestVerifyCacheFillRace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, withCache)
	k, token := f.create(t, "bob")

	read, resume := make(chan struct{}), make(chan struct{})
	first := true
	var mu sync.Mutex
	f.store.setAfterGet(func(string) {
		mu.Lock()
		pause := first
		first = false
		mu.Unlock()
		if pause {
			close(read)
			<-resume
		}
	})

	done := make(chan error)
	go func() {
		_, err := f.m.Verify(ctx, token, "") // reads the record, then waits
		done <- err
	}()
	<-read
	_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID), Reason: "leaked"})
	require.NoError(t, err)
	close(resume)
	<-done // concurrent with the revocation: either answer is fine

	_, err = f.m.Verify(ctx, token, "")
	assert.ErrorIs(t, err, keys.ErrRevokedForTest, "the revocation wins over the stale read")
}
