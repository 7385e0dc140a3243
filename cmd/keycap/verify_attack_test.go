package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// An operator's check of a key is not a request of the owner's: before,
// `verify` of a revoked, disabled or mistyped key wrote "verification
// denied" into the owner's activity, as if someone had used it. Now
// verify writes no audit event, refused or not, with -use or not.
func TestAttackVerifyLeavesActivityAlone(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			ctx := context.Background()
			revoked, revokedToken := w.create(t, "alice", "revoked", 0)
			_, err := w.app.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "alice", ID: revoked.ID}, Reason: "leaked"})
			require.NoError(t, err)
			disabled, disabledToken := w.create(t, "alice", "disabled", 0)
			off := true
			_, err = w.app.Update(ctx, keys.UpdateRequest{Ref: keys.Ref{Owner: "alice", ID: disabled.ID}, Disabled: &off})
			require.NoError(t, err)
			good, goodToken := w.create(t, "alice", "good", 0)
			wrongSecret := goodToken[:len(goodToken)-8] + "xxxxxxxx"
			before := w.events(t, "alice")

			for _, token := range []string{revokedToken, disabledToken, wrongSecret} {
				for _, use := range [][]string{nil, {"-use"}} {
					out, _, code := w.cli(t, "", append(append([]string{"verify"}, use...), token)...)
					assert.Equal(t, exitRefused, code, out)
					assert.Contains(t, out, "not valid")
				}
			}
			out, _, code := w.cli(t, "", "verify", goodToken)
			require.Equal(t, exitOK, code, out)
			assert.True(t, w.get(t, good.ID).LastUsedAt.IsZero(), "not counted without -use")
			out, _, code = w.cli(t, "", "-json", "verify", "-use", goodToken)
			require.Equal(t, exitOK, code, out)
			assert.Contains(t, out, `"counted": true`)
			assert.False(t, w.get(t, good.ID).LastUsedAt.IsZero(), "-use counts a use")

			after := w.events(t, "alice")
			assert.Equal(t, before, after, "verify wrote nothing to alice's activity")
			for _, e := range after {
				assert.NotEqual(t, audit.VerificationDenied, e.Type)
			}
		})
	}
}

// events lists owner's audit events, newest first.
func (w *world) events(t *testing.T, owner string) []audit.Event {
	t.Helper()
	events, err := sqlstore.NewAuditor(w.store).Events(context.Background(), owner, 100)
	require.NoError(t, err)
	return events
}

// appWith is an app over w's database and server secret with its own key
// prefix, kinds and policy.
func (w *world) appWith(t *testing.T, prefix string, kinds map[string]keys.Kind, p *policy.Policy) *keys.Manager {
	t.Helper()
	secret, err := hex.DecodeString(w.secret)
	require.NoError(t, err)
	m, err := keys.NewManager(keys.Config{Store: w.store, Secret: secret, SecretID: "1", Prefix: prefix, Kinds: kinds, Policy: p,
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil }),
		Cache:    keys.CacheConfig{Disabled: true}, Now: func() time.Time { return *w.clock }})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// verdictOf parses verify's -json output.
func verdictOf(t *testing.T, out string) verdict {
	t.Helper()
	var v verdict
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	return v
}

// verify cannot know the app's kinds or policy. Before, a key of an
// app-defined kind was reported malformed (exit 4), and a key past the
// policy's maximum lifetime plainly "valid". Now the command is told the
// prefixes (-key-prefix, -kind) and may be told a maximum lifetime
// (-max-lifetime); a key whose prefix it was not told of, but whose id is
// a stored key's, is bad usage (exit 2) naming the flag to give; and a
// valid key is "valid as stored", with what was not applied listed.
func TestAttackVerifyKindsAndPolicy(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			ctx := context.Background()
			noMaximum := policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read", "files:write")})
			app := w.appWith(t, "acme", map[string]keys.Kind{"live": {Prefix: "sk"}}, noMaximum)
			wallNow := *w.clock
			*w.clock = wallNow.Add(-100 * 24 * time.Hour) // made 100 days ago, when the policy had no maximum
			live, liveToken, err := app.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "live", Kind: "live", Permissions: policy.MustParse("files:read")})
			require.NoError(t, err)
			_, plainToken, err := app.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "default kind", Permissions: policy.MustParse("files:read")})
			require.NoError(t, err)
			*w.clock = wallNow

			out, errOut, code := w.cli(t, "", "-json", "verify", liveToken)
			assert.Equal(t, exitUsage, code, out)
			assert.Empty(t, out)
			assert.Contains(t, errOut, `give -kind live=sk`)
			out, errOut, code = w.cli(t, "", "verify", plainToken)
			assert.Equal(t, exitUsage, code, out)
			assert.Contains(t, errOut, `give -key-prefix acme`)

			out, errOut, code = w.cli(t, "", "-json", "verify", "-key-prefix", "acme", "-kind", "live=sk", liveToken)
			require.Equal(t, exitOK, code, errOut)
			v := verdictOf(t, out)
			assert.True(t, v.Valid)
			assert.Equal(t, "live", v.Kind)
			assert.Equal(t, live.ID, v.Key.ID)
			assert.Equal(t, "as stored, the app's policy not applied", v.Scope)
			require.Len(t, v.NotApplied, 3)
			assert.Contains(t, v.NotApplied[1], "permissions shown are as stored")
			assert.Contains(t, v.NotApplied[2], "maximum lifetime")
			assert.Nil(t, v.ExpiresAt, "no expiry of its own, none given")

			out, _, code = w.cli(t, "", "verify", "-key-prefix", "acme", plainToken)
			require.Equal(t, exitOK, code, out)
			assert.Regexp(t, `^valid as stored, the app's policy not applied: `, out)
			assert.Contains(t, out, "not applied here:\n  - owner: ")

			// The app's maximum is now 30 days: given, it is applied.
			out, _, code = w.cli(t, "", "-json", "verify", "-key-prefix", "acme", "-kind", "live=sk", "-max-lifetime", "30d", liveToken)
			assert.Equal(t, exitRefused, code, out)
			v = verdictOf(t, out)
			assert.False(t, v.Valid)
			assert.Equal(t, "expired", v.Reason)
			assert.Empty(t, v.NotApplied)
			out, _, code = w.cli(t, "", "-json", "verify", "-key-prefix", "acme", "-max-lifetime", "200d", plainToken)
			require.Equal(t, exitOK, code, out)
			v = verdictOf(t, out)
			require.NotNil(t, v.ExpiresAt)
			assert.WithinDuration(t, wallNow.Add(100*24*time.Hour), *v.ExpiresAt, time.Second)
			assert.Contains(t, v.NotApplied[2], "only -max-lifetime 4800h0m0s")

			// A string of another service, whose id is no key's: not valid.
			out, _, code = w.cli(t, "", "verify", "ghp_0000000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_aaaaaa")
			assert.Equal(t, exitRefused, code, out)
			assert.Contains(t, out, "not valid")

			for _, bad := range [][]string{{"-kind", "live"}, {"-kind", "live=acme", "-key-prefix", "acme"}, {"-kind", "Live!=sk"}, {"-max-lifetime", "soon"}} {
				_, errOut, code := w.cli(t, "", append(append([]string{"verify"}, bad...), liveToken)...)
				assert.Equal(t, exitUsage, code, "%v: %s", bad, errOut)
			}
			assert.True(t, w.get(t, live.ID).LastUsedAt.IsZero())
		})
	}
}
