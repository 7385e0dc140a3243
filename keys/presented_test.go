package keys_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
)

var scanner = audit.System("secret-scanning")

// TestRevokePresentedLeak: a leaked key presented by a scanner is revoked
// with its source in the reason, audited as leaked, and stops working,
// with the keys created through it.
func TestRevokePresentedLeak(t *testing.T) {
	f := newFixture(t, withCache)
	ctx := context.Background()
	k, token := f.create(t, "alice", "files:read")
	child, childToken := f.delegate(t, f.verify(t, token))
	source := "https://github.com/octo/repo/blob/abc/config.yml"

	got, err := f.m.Revoke(ctx, keys.RevokeRequest{Presented: token, Actor: scanner, Reason: "found by GitHub secret scanning", Source: source})
	require.NoError(t, err)
	require.True(t, !got.RevokedAt.IsZero())
	assert.Equal(t, scanner, got.RevokedBy)
	assert.Equal(t, "found by GitHub secret scanning; found at "+source, got.RevokedReason)
	assert.Equal(t, k.ID, got.ID)

	events := f.audit.all()
	leaked := events[len(events)-2]
	assert.Equal(t, audit.Leaked, leaked.Type)
	assert.Equal(t, scanner, leaked.Actor)
	assert.Equal(t, got.RevokedReason, leaked.Reason)
	assert.Equal(t, k.Permissions, leaked.Before)
	assert.Equal(t, audit.Revoked, events[len(events)-1].Type, "the child, revoked with it")
	assert.Equal(t, child.ID, events[len(events)-1].KeyID)

	for _, tok := range []string{token, childToken} {
		_, err := f.m.Verify(ctx, tok, "")
		require.ErrorIs(t, err, keys.ErrInvalid, "a leaked key stops working at once, cached or not")
	}
	assert.True(t, !f.record(t, child.ID).RevokedAt.IsZero())
}

// TestRevokePresentedReplay: the same report twice changes nothing the
// second time: no write, no event, the first revocation stands.
func TestRevokePresentedReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, token := f.create(t, "alice", "files:read")
	first, err := f.m.Revoke(ctx, keys.RevokeRequest{Presented: token, Actor: scanner, Source: "https://example.com/1"})
	require.NoError(t, err)
	writes, events := f.store.writes(), f.audit.len()

	again, err := f.m.Revoke(ctx, keys.RevokeRequest{Presented: token, Actor: audit.User("mallory"), Source: "https://example.com/2"})
	require.NoError(t, err)
	assert.Equal(t, first, again, "the first revocation stands")
	assert.Equal(t, writes, f.store.writes(), "nothing written")
	assert.Equal(t, events, f.audit.len(), "nothing audited")
}

// TestRevokePresentedNotOurs: whatever is not a key of this Manager is
// refused without a write or an event, unknown ids and wrong secrets
// alike.
func TestRevokePresentedNotOurs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, token := f.create(t, "alice", "files:read")
	_, _, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("alice", k.ID), Grace: time.Hour})
	require.NoError(t, err)
	f.clock.Advance(2 * time.Hour) // the first secret's grace is over
	tests := []struct {
		name, key string
		want      error
	}{
		{"malformed", "kc_not a key", keys.ErrInvalid},
		{"a bad checksum", token[:len(token)-1] + map[bool]string{true: "y", false: "x"}[strings.HasSuffix(token, "x")], keys.ErrInvalid},
		{"another prefix, a stored id", keyforge.Key("acme", k.ID), keys.ErrInvalid},
		{"an unknown id", keyforge.Key("kc", keyforge.ID(f.clock.Now())), keys.ErrInvalid},
		{"a wrong secret", keyforge.Key("kc", k.ID), keys.ErrInvalid},
		{"the previous secret, its grace over", token, keys.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writes, events := f.store.writes(), f.audit.len()
			got, err := f.m.Revoke(ctx, keys.RevokeRequest{Presented: tt.key, Actor: scanner, Source: "https://example.com"})
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, got)
			assert.Equal(t, writes, f.store.writes(), "nothing written")
			assert.Equal(t, events, f.audit.len(), "nothing audited")
		})
	}
	assert.False(t, !f.record(t, k.ID).RevokedAt.IsZero())
}

// TestRevokePresentedPreviousSecret: a previous secret that still works is
// the key's, but only its own: presenting it (a holder's RFC 7009 request,
// a scanner's leak report) ends that secret at once; the secret its owner
// rotated to keeps working. (Revoking the whole record let whoever held a
// leaked old secret take down the rotated key, found by an attacker.)
func TestRevokePresentedPreviousSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, old := f.create(t, "alice", "files:read")
	_, fresh, err := f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("alice", k.ID), Grace: time.Hour})
	require.NoError(t, err)
	got, err := f.m.Revoke(ctx, keys.RevokeRequest{Presented: old, Source: "https://example.com/paste/1"})
	require.NoError(t, err)
	require.False(t, !got.RevokedAt.IsZero())
	assert.Nil(t, got.PreviousHash)
	assert.Equal(t, audit.Leaked, f.audit.last(t).Type)
	assert.Contains(t, f.audit.last(t).Reason, "previous secret ended")
	_, err = f.m.Verify(ctx, old, "")
	require.ErrorIs(t, err, keys.ErrInvalid, "the old secret is refused")
	f.verify(t, fresh)

	// Presented again: it names no key any more.
	_, err = f.m.Revoke(ctx, keys.RevokeRequest{Presented: old})
	require.ErrorIs(t, err, keys.ErrInvalid)
	f.verify(t, fresh)
}

// TestRevokePresentedRefusals: a reason the record cannot hold, or a key
// named twice, is refused before anything is read or written.
func TestRevokePresentedRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, token := f.create(t, "alice", "files:read")
	for name, r := range map[string]keys.RevokeRequest{
		"by ref and presented": {Ref: ref("alice", k.ID), Presented: token},
		"a long reason":        {Presented: token, Reason: strings.Repeat("x", 501)},
		"a control character":  {Presented: token, Reason: "a\x00b"},
	} {
		t.Run(name, func(t *testing.T) {
			writes, gets := f.store.writes(), f.store.n("Get")
			_, err := f.m.Revoke(ctx, r)
			fe, ok := errorAs[*keys.FieldError](err)
			require.True(t, ok, "%v", err)
			assert.NotEmpty(t, fe.Reason)
			assert.Equal(t, writes, f.store.writes())
			assert.Equal(t, gets, f.store.n("Get"), "refused before any read")
		})
	}
	assert.False(t, !f.record(t, k.ID).RevokedAt.IsZero())
}

// TestRevokePresentedSource: a scanner's source is never a reason to
// refuse a revocation: it is made text and cut, whole in the event.
func TestRevokePresentedSource(t *testing.T) {
	f := newFixture(t)
	_, token := f.create(t, "alice", "files:read")
	source := "https://example.com/\x00\u202e" + strings.Repeat("é", 1500) + "\xff"
	got, err := f.m.Revoke(context.Background(), keys.RevokeRequest{Presented: token, Actor: scanner, Source: source})
	require.NoError(t, err)
	for _, text := range []string{got.RevokedReason, f.audit.last(t).Reason} {
		assert.True(t, utf8.ValidString(text))
		assert.NotContains(t, text, "\x00")
		assert.True(t, strings.HasPrefix(text, "leaked; found at https://example.com/ "))
	}
	assert.LessOrEqual(t, len(got.RevokedReason), 500)
	assert.Greater(t, len(f.audit.last(t).Reason), 1900, "the event keeps up to 2,000 bytes of the source")
	assert.LessOrEqual(t, len(f.audit.last(t).Reason), 2000+len("leaked; found at "))
}
