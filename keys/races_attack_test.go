package keys_test

// Attack tests (attack-10) that did not break anything: kept as passing
// regression tests.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

// Rotate (with and without grace) racing revoke racing an admin disable
// racing the owner's enable, on memstore with the in-process cache on
// (Local): whenever the revocation answered, no secret handed out by any
// rotation, nor the original, verifies; 200 trials.
func TestAttackRotateRevokeDisableEnableRace(t *testing.T) {
	ctx := context.Background()
	m, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: testPolicy, Subjects: policy.SubjectsFunc(newDirectory().lookup),
		Secret: testSecret, LastUsedInterval: -1})
	require.NoError(t, err)
	undone := 0
	for trial := range 200 {
		k, tok, err := m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "k", Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		ref := keys.Ref{Owner: "bob", ID: k.ID}
		var mu sync.Mutex
		secrets := []string{tok}
		var revoked, adminDisabled bool
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 3 {
			wg.Go(func() {
				<-start
				_, s, err := m.Rotate(ctx, keys.RotateRequest{Ref: ref, Grace: time.Duration(i) * time.Hour})
				if err == nil {
					mu.Lock()
					secrets = append(secrets, s)
					mu.Unlock()
				}
			})
		}
		wg.Go(func() {
			<-start
			off := true
			if _, err := m.Update(ctx, keys.UpdateRequest{Ref: ref, Actor: audit.User("root"), Disabled: &off}); err == nil {
				mu.Lock()
				adminDisabled = true
				mu.Unlock()
			}
		})
		wg.Go(func() {
			<-start
			on := false
			for range 3 {
				_, _ = m.Update(ctx, keys.UpdateRequest{Ref: ref, Disabled: &on})
			}
		})
		revokeFirst := trial%2 == 0
		wg.Go(func() {
			<-start
			if !revokeFirst {
				time.Sleep(time.Duration(trial%5) * 50 * time.Microsecond)
			}
			if _, err := m.Revoke(ctx, keys.RevokeRequest{Ref: ref}); err == nil {
				mu.Lock()
				revoked = true
				mu.Unlock()
			}
		})
		close(start)
		wg.Wait()
		require.True(t, revoked)
		for _, s := range secrets {
			if _, err := m.Verify(ctx, s, ""); err == nil {
				undone++
			}
		}
		if !adminDisabled {
			continue
		}
		// The admin's disable answered before the revocation: the final
		// record is revoked and disabled by the admin or revoked only.
		got, err := m.Get(ctx, ref)
		require.NoError(t, err)
		require.True(t, !got.RevokedAt.IsZero())
	}
	assert.Zero(t, undone, "secrets working after a revocation answered")
}

// A child minted by a parent with no quota, under a grandparent with one,
// spends the grandparent's quota at the Manager level (Consume with the
// Verified): the Manager gets it right; only middleware.Require skips it
// (see middleware TestAttackChildWithoutQuotaBypassesParentQuota).
func TestAttackGrandparentQuotaSpentByManager(t *testing.T) {
	ctx := context.Background()
	m, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: testPolicy, Subjects: policy.SubjectsFunc(newDirectory().lookup),
		Secret: testSecret, LastUsedInterval: -1})
	require.NoError(t, err)
	read := policy.MustParse("files:read")
	_, gpTok, err := m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "gp", Permissions: read, Quota: &keys.Quota{Remaining: 2}})
	require.NoError(t, err)
	gp, err := m.Verify(ctx, gpTok, "")
	require.NoError(t, err)
	_, pTok, err := m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "p", Permissions: read, Caller: gp})
	require.NoError(t, err)
	p, err := m.Verify(ctx, pTok, "")
	require.NoError(t, err)
	_, cTok, err := m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "c", Permissions: read, Caller: p})
	require.NoError(t, err)
	admitted := 0
	for range 5 {
		c, err := m.Verify(ctx, cTok, "")
		require.NoError(t, err)
		if _, ok, err := m.Consume(ctx, c); err == nil && ok {
			admitted++
		}
	}
	assert.Equal(t, 2, admitted)
}
