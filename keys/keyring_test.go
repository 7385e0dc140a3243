package keys_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

var (
	secretA = []byte("server secret A, 32 bytes or more")
	secretB = []byte("server secret B, 32 bytes or more")
)

// onA makes the fixture's Manager hash under secret A, id "a".
func onA(c *keys.Config) { c.Secret, c.SecretID = secretA, "a" }

// ringB returns a Manager over f's store, clock and users whose newest
// secret is B ("b"), still accepting A ("a") unless retired.
func (f *fixture) ringB(t testing.TB, retired bool) *keys.Manager {
	t.Helper()
	c := f.config
	c.Secret, c.SecretID, c.OldSecrets = secretB, "b", map[string][]byte{"a": secretA}
	if retired {
		c.OldSecrets = nil
	}
	m, err := keys.NewManager(c)
	require.NoError(t, err)
	return m
}

func TestKeyringConfig(t *testing.T) {
	long := func(s string) []byte { return []byte(s + strings.Repeat(".", 32)) }
	for _, tt := range []struct {
		name string
		c    keys.Config
		want string
	}{
		{"an id with a space", keys.Config{Secret: secretA, SecretID: "a b"}, "SecretID"},
		{"an id too long", keys.Config{Secret: secretA, SecretID: strings.Repeat("a", 33)}, "SecretID"},
		{"an old id that is the newest's", keys.Config{Secret: secretA, SecretID: "a", OldSecrets: map[string][]byte{"a": secretB}}, "new SecretID"},
		{"the default id among the old", keys.Config{Secret: secretA, OldSecrets: map[string][]byte{"1": secretB}}, "new SecretID"},
		{"one secret under two ids", keys.Config{Secret: secretA, SecretID: "2", OldSecrets: map[string][]byte{"1": secretA}}, "same secret"},
		{"two old ones alike", keys.Config{Secret: secretA, SecretID: "3", OldSecrets: map[string][]byte{"1": long("x"), "2": long("x")}}, "same secret"},
		{"a short old one", keys.Config{Secret: secretA, SecretID: "2", OldSecrets: map[string][]byte{"1": []byte("short")}}, "at least 32 bytes"},
		{"an empty old id", keys.Config{Secret: secretA, SecretID: "2", OldSecrets: map[string][]byte{"": secretB}}, "id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.Store, c.Policy, c.Subjects = newCountingStore(nil), testPolicy, newFixture(t).config.Subjects
			_, err := keys.NewManager(c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestKeyringMovesKeysAfterUse: keys made under A work once B is the
// newest; verification writes nothing, and one coalesced write per key,
// off the request path, moves each used key to B, keeping its generation,
// its hint and its UpdatedAt; a moved key is not written again; unused
// keys stay on A, and are refused once A is retired.
func TestKeyringMovesKeysAfterUse(t *testing.T) {
	f := newFixture(t, onA)
	ctx := context.Background()
	k, token := f.create(t, "alice")
	_, idle := f.create(t, "alice")
	require.Equal(t, "a", k.SecretID)
	m := f.ringB(t, false)
	writes := f.store.writes()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := m.Verify(ctx, token, "")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, writes, f.store.writes(), "nothing written on the request path")
	require.NoError(t, m.Close())
	assert.Equal(t, 1, f.store.n("Change"), "one write for 50 verifications")
	moved := f.record(t, k.ID)
	assert.Equal(t, "b", moved.SecretID)
	assert.Equal(t, keys.Key{}.Generation, moved.Generation)
	assert.Equal(t, k.Hint, moved.Hint)
	assert.Equal(t, k.UpdatedAt, moved.UpdatedAt, "a move is not a change anyone made")
	assert.Equal(t, k.Version+1, moved.Version)

	_, err := m.Verify(ctx, token, "")
	require.NoError(t, err)
	require.NoError(t, m.Close())
	assert.Equal(t, 1, f.store.n("Change"), "a moved key is not moved again")

	retired := f.ringB(t, true)
	_, err = retired.Verify(ctx, token, "")
	assert.NoError(t, err, "the moved key works without A")
	_, err = retired.Verify(ctx, idle, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "the idle key is on the retired secret")
	e := f.audit.last(t)
	assert.Equal(t, audit.VerificationDenied, e.Type)
	assert.Contains(t, e.Reason, "retired server secret")
	assert.NotEmpty(t, e.KeyID, "audited by id, like a wrong secret for a real id")
}

// TestKeyringDelegatedKeysSurviveAMove: a move keeps the generation, so
// the keys a moved key created keep working.
func TestKeyringDelegatedKeysSurviveAMove(t *testing.T) {
	f := newFixture(t, onA)
	ctx := context.Background()
	parentKey, parentToken := f.create(t, "alice", "files:read")
	_, child := f.delegate(t, f.verify(t, parentToken))
	m := f.ringB(t, false)
	_, err := m.Verify(ctx, parentToken, "")
	require.NoError(t, err)
	require.NoError(t, m.Close())
	require.Equal(t, "b", f.record(t, parentKey.ID).SecretID)
	_, err = m.Verify(ctx, child, "")
	assert.NoError(t, err)
	_, err = f.ringB(t, true).Verify(ctx, child, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "the child is still on A itself")
}

// TestKeyringRotationGrace: a rotation with a grace period of a key on A
// hashes the new key under A too (one SecretID for both hashes), and
// neither moves while the old key works; the first use after the grace
// period moves the key to B. A rotation without grace hashes under B.
func TestKeyringRotationGrace(t *testing.T) {
	f := newFixture(t, onA)
	ctx := context.Background()
	k, old := f.create(t, "alice")
	m := f.ringB(t, false)
	rotated, fresh, err := m.Rotate(ctx, keys.RotateRequest{Ref: ref("alice", k.ID), Grace: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, "a", rotated.SecretID)
	for _, token := range []string{old, fresh} {
		_, err := m.Verify(ctx, token, "")
		require.NoError(t, err)
	}
	require.NoError(t, m.Close())
	assert.Equal(t, 1, f.store.n("Change"), "the rotation only: no move during the grace period")

	f.clock.Advance(time.Hour)
	_, err = m.Verify(ctx, old, "")
	assert.ErrorIs(t, err, keys.ErrInvalid, "the grace period is over")
	_, err = m.Verify(ctx, fresh, "")
	require.NoError(t, err)
	require.NoError(t, m.Close())
	moved := f.record(t, k.ID)
	assert.Equal(t, "b", moved.SecretID)
	assert.Nil(t, moved.PreviousHash, "the ended grace period's hash is dropped with its secret")
	_, err = f.ringB(t, true).Verify(ctx, fresh, "")
	assert.NoError(t, err)

	again, token, err := m.Rotate(ctx, keys.RotateRequest{Ref: ref("alice", k.ID)})
	require.NoError(t, err)
	assert.Equal(t, "b", again.SecretID)
	_, err = f.ringB(t, true).Verify(ctx, token, "")
	assert.NoError(t, err)
}

// TestKeyringRetiredRotation: a key on a retired secret can be rotated by
// its owner (its new key works), with no grace period: its old key works
// no more anyway.
func TestKeyringRetiredRotation(t *testing.T) {
	f := newFixture(t, onA)
	ctx := context.Background()
	k, _ := f.create(t, "alice")
	m := f.ringB(t, true)
	rotated, token, err := m.Rotate(ctx, keys.RotateRequest{Ref: ref("alice", k.ID), Grace: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, "b", rotated.SecretID)
	assert.Nil(t, rotated.PreviousHash)
	_, err = m.Verify(ctx, token, "")
	assert.NoError(t, err)
}

// TestKeyringMoveRefusals: a move the Store refuses because the key moved
// on is dropped quietly (the next use decides again); any other failure
// is returned by Close.
func TestKeyringMoveRefusals(t *testing.T) {
	f := newFixture(t, onA)
	ctx := context.Background()
	k, token := f.create(t, "alice")
	m := f.ringB(t, false)
	_, err := m.Verify(ctx, token, "")
	require.NoError(t, err)
	_, err = m.Update(ctx, keys.UpdateRequest{Ref: ref("alice", k.ID), Name: ptr("renamed")})
	require.NoError(t, err)
	require.NoError(t, m.Close(), "a conflict is no failure")
	assert.Equal(t, "a", f.record(t, k.ID).SecretID)
	assert.Equal(t, "renamed", f.record(t, k.ID).Name, "the move did not undo the rename")

	_, err = m.Verify(ctx, token, "")
	require.NoError(t, err)
	f.store.setWriteErr(keys.ErrStoreUnavailable)
	err = m.Close()
	assert.True(t, errors.Is(err, keys.ErrStoreUnavailable), "%v", err)
	f.store.setWriteErr(nil)
	_, err = m.Verify(ctx, token, "")
	require.NoError(t, err)
	require.NoError(t, m.Close())
	assert.Equal(t, "b", f.record(t, k.ID).SecretID, "queued again at the next use")
}

// TestSecretCounts: live keys per secret, every configured id present,
// retired ids reported, and a log line for each secret but the newest
// naming how many keys retiring it would refuse.
func TestSecretCounts(t *testing.T) {
	var logs strings.Builder
	f := newFixture(t, onA)
	ctx := context.Background()
	for range 3 {
		f.create(t, "alice")
	}
	k, _ := f.create(t, "bob")
	_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("bob", k.ID)})
	require.NoError(t, err)
	c := f.config
	c.Secret, c.SecretID, c.OldSecrets, c.Logger = secretB, "b", map[string][]byte{"a": secretA, "z": []byte("an old secret nobody used, 32 bytes")}, slog.New(slog.NewTextHandler(&logs, nil))
	m, err := keys.NewManager(c)
	require.NoError(t, err)
	n, err := m.SecretCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a": 3, "b": 0, "z": 0}, n)
	assert.Contains(t, logs.String(), `retiring server secret \"a\" now would refuse 3 live keys`)
	assert.Contains(t, logs.String(), `server secret \"z\" hashes no live key: it may be retired`)

	logs.Reset()
	c.OldSecrets = nil
	m, err = keys.NewManager(c)
	require.NoError(t, err)
	n, err = m.SecretCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a": 3, "b": 0}, n)
	assert.Contains(t, logs.String(), `server secret \"a\" is retired (not configured): 3 live keys hashed under it are refused`)
}
