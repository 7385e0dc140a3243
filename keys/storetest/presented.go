package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
)

// scanner is the actor of a leak report.
var scanner = audit.System("secret-scanning")

// testRevokePresented: a key presented by a scanner is revoked through a
// Manager over the store, with the keys created through it; the same
// report again writes nothing; a wrong secret writes nothing.
func testRevokePresented(t *testing.T, s keys.Store) {
	m := newManager(t, s, 0)
	k, secret := createKey(t, m, "owner-1", 0)
	v, err := m.Verify(t.Context(), secret, "")
	require.NoError(t, err)
	child, childSecret, err := m.Create(t.Context(), keys.CreateRequest{Owner: "owner-1", Name: "child", Caller: v})
	require.NoError(t, err)

	before := get(t, s, k.ID)
	_, err = m.Revoke(t.Context(), keys.RevokeRequest{Presented: keyforge.Key("kc", k.ID), Actor: scanner, Source: "https://example.com"})
	require.ErrorIs(t, err, keys.ErrInvalid, "a wrong secret")
	requireStored(t, s, before)

	got, err := m.Revoke(t.Context(), keys.RevokeRequest{Presented: secret, Actor: scanner, Source: "https://example.com/leak"})
	require.NoError(t, err)
	requireSame(t, get(t, s, k.ID), got, "the record returned")
	require.True(t, !got.RevokedAt.IsZero())
	require.Equal(t, scanner, got.RevokedBy)
	require.Equal(t, "leaked; found at https://example.com/leak", got.RevokedReason)
	require.True(t, !get(t, s, child.ID).RevokedAt.IsZero(), "the keys created through it are revoked with it")
	require.False(t, works(t, m, secret) || works(t, m, childSecret))

	again, err := m.Revoke(t.Context(), keys.RevokeRequest{Presented: secret, Actor: audit.User("mallory"), Source: "https://example.com/2"})
	require.NoError(t, err)
	requireSame(t, got, again, "a report sent twice: the first revocation stands")
	requireStored(t, s, got)
}

// testRaceRevokePresented: a leaked secret reported while the key is
// rotated (half the time with a grace period that keeps it working) never
// works after the report was answered, in any of the trials; when the
// report revoked the key, no secret of it works.
func testRaceRevokePresented(t *testing.T, s keys.Store) {
	trials := 30
	if testing.Short() {
		trials = 6
	}
	m := newManager(t, s, 0)
	working := 0
	for trial := range trials {
		k, leaked := createKey(t, m, "owner-race", 0)
		grace := time.Duration(trial%2) * time.Hour
		var wg sync.WaitGroup
		var revokeErr error
		var rotated []string
		var mu sync.Mutex
		wg.Go(func() {
			_, revokeErr = m.Revoke(t.Context(), keys.RevokeRequest{Presented: leaked, Actor: scanner, Source: "https://example.com"})
		})
		for range 2 {
			wg.Go(func() {
				_, secret, err := m.Rotate(t.Context(), keys.RotateRequest{Ref: keys.Ref{Owner: k.OwnerID, ID: k.ID}, Grace: grace})
				if err == nil {
					mu.Lock()
					rotated = append(rotated, secret)
					mu.Unlock()
				} else if !errors.Is(err, keys.ErrAlreadyRevoked) && !errors.Is(err, keys.ErrConflict) {
					t.Errorf("rotate: %v", err)
				}
			})
		}
		wg.Wait()
		switch {
		case revokeErr == nil && !get(t, s, k.ID).RevokedAt.IsZero():
			// The report met the leaked secret as the key's current one:
			// nothing works any more, rotated secrets included.
			for _, secret := range append(rotated, leaked) {
				if works(t, m, secret) {
					working++
				}
			}
		case revokeErr == nil:
			// A rotation with a grace period came first: the report ended
			// the leaked secret, now the previous one; the rotated key lives.
			if works(t, m, leaked) {
				working++
			}
		case errors.Is(revokeErr, keys.ErrInvalid): // rotated first, with no grace: the leaked secret was dead already
			if works(t, m, leaked) {
				working++
			}
		default:
			t.Errorf("trial %d: revoke: %v", trial, revokeErr)
		}
	}
	t.Logf("%d of %d reports racing rotations left the leaked secret (or, revoked, any) working", working, trials)
	require.Zero(t, working)
}
