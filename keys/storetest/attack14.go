package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// RunAttack14 runs an attacker's races on the features of issue 14
// (leaked-key revocation, allow-lists required by the policy, the move of
// keys to the newest server secret) against a Store, through Managers,
// with real interleavings and counted outcomes. Each store's
// *_attack_test.go calls it; like [Run], newStore returns an empty store.
//
//   - LeakVsRehash: a key made under server secret a is used under b (its
//     move to b is queued) and is reported leaked (Revoke of the presented
//     key) while the move is written. Whatever lands first, the report
//     revokes it and no secret of it verifies afterwards.
//   - AllowListLiftVsGrant: the policy requires an allow-list for
//     files:write. A key holding files:read, limited to a range, has its
//     list lifted and files:write granted by two PATCHes deciding on the
//     same version. Never does a key end holding files:write without a
//     list.
//   - RehashVsAdminAndAllowList: the move to b written while an admin
//     disables the key, or its owner narrows its allow-list: the disable
//     and the list stand, and the key, enabled again by the admin, works
//     from inside the list only.
func RunAttack14(t *testing.T, newStore func(t *testing.T) keys.Store) {
	t.Helper()
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, s keys.Store)
	}{
		{"LeakVsRehash", attackLeakVsRehash},
		{"AllowListLiftVsGrant", attackAllowListLiftVsGrant},
		{"RehashVsAdminAndAllowList", attackRehashVsAdminAndAllowList},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

// quietRing is ringManager logging nothing (the races refuse keys from
// outside their lists on purpose).
func quietRing(t *testing.T, s keys.Store, newest string, old ...string) *keys.Manager {
	t.Helper()
	byID := map[string][]byte{"a": secretA, "b": secretB}
	c := keys.Config{
		Store: s,
		Policy: policy.MustNew(policy.Config{
			AllowClientPermissions: true,
			Roles:                  map[string]policy.Permissions{"member": policy.MustParse("files:read", "files:write", "invoices:read")},
			MaxKeys:                -1,
		}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			return policy.Subject{ID: id, Roles: []string{"member"}}, nil
		}),
		Secret: byID[newest], SecretID: newest,
		Cache: keys.CacheConfig{Disabled: true}, LastUsedInterval: -1,
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, id := range old {
		if c.OldSecrets == nil {
			c.OldSecrets = map[string][]byte{}
		}
		c.OldSecrets[id] = byID[id]
	}
	m, err := keys.NewManager(c)
	require.NoError(t, err)
	return m
}

// stagger delays the second party of some trials a little, so that both
// orders of a race are seen.
func stagger(trial int) {
	if trial%3 == 1 {
		time.Sleep(time.Duration(trial%5+1) * 100 * time.Microsecond)
	}
}

func attackLeakVsRehash(t *testing.T, s keys.Store) {
	var (
		c   tally
		bad failures
	)
	mA, onlyB := quietRing(t, s, "a"), quietRing(t, s, "b")
	n := trials(40, 12)
	for trial := range n {
		mB := quietRing(t, rehashWatch{s, &c}, "b", "a")
		k, secret := createKey(t, mA, "alice", 0)
		require.True(t, works(t, mB, secret)) // queues the move to b
		var revokeErr error
		together(2, func(i int) {
			if i == 0 {
				require.NoError(t, mB.Close()) // writes the move
				return
			}
			stagger(trial)
			_, revokeErr = mB.Revoke(t.Context(), keys.RevokeRequest{Presented: secret, Actor: audit.System("secret-scanning"), Source: "https://example.com/leak"})
			c.add(outcome(t, "leak report", revokeErr))
		})
		stored := get(t, s, k.ID)
		switch {
		case revokeErr != nil:
			bad.add(trial, "the report was refused: "+revokeErr.Error())
		case stored.RevokedAt.IsZero():
			bad.add(trial, "the reported key is not revoked (SecretID "+stored.SecretID+")")
		case works(t, mA, secret) || works(t, onlyB, secret) || works(t, quietRing(t, s, "b", "a"), secret):
			bad.add(trial, "the reported key still verifies")
		}
	}
	bad.check(t, n, "leak reports racing a move to the newest secret that left the key working", &c)
}

// allowListManager is a Manager whose policy requires an allow-list for
// files:write.
func allowListManager(t *testing.T, s keys.Store) *keys.Manager {
	t.Helper()
	m, err := keys.NewManager(keys.Config{
		Store: s,
		Policy: policy.MustNew(policy.Config{
			AllowClientPermissions: true,
			Roles:                  map[string]policy.Permissions{"member": policy.MustParse("files:read", "files:write")},
			IPAllowListFor:         []string{"files:write"},
			MaxKeys:                -1,
		}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			return policy.Subject{ID: id, Roles: []string{"member"}}, nil
		}),
		Secret: secretA, SecretID: "a",
		Cache: keys.CacheConfig{Disabled: true}, LastUsedInterval: -1,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	return m
}

func attackAllowListLiftVsGrant(t *testing.T, s keys.Store) {
	var (
		c   tally
		bad failures
	)
	gated := &gatedStore{Store: watchedStore{s, &c}}
	m := allowListManager(t, gated)
	office := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	n := trials(40, 12)
	for trial := range n {
		k, _, err := m.Create(t.Context(), keys.CreateRequest{Owner: "alice", Name: "race", Permissions: policy.MustParse("files:read"), AllowedIPs: office})
		require.NoError(t, err)
		ref := keys.Ref{Owner: "alice", ID: k.ID}
		if trial%2 == 0 {
			gated.hold(2) // both decide on the same version
		}
		together(2, func(i int) {
			var err error
			if i == 0 {
				none := []netip.Prefix{}
				_, err = m.Update(t.Context(), keys.UpdateRequest{Ref: ref, AllowedIPs: &none})
				c.add(outcomeAllow(t, "lift", err))
				return
			}
			_, err = m.Update(t.Context(), keys.UpdateRequest{Ref: ref, Permissions: policy.MustParse("files:read", "files:write")})
			c.add(outcomeAllow(t, "grant write", err))
		})
		stored := get(t, s, k.ID)
		if policy.Satisfies(stored.Permissions, "files:write") && len(stored.AllowedIPs) == 0 {
			bad.add(trial, fmt.Sprintf("the key holds files:write with no allow-list (%v)", stored.Permissions))
		}
	}
	bad.check(t, n, "races that left a key holding a permission its policy reserves for limited keys without a list", &c)
}

// outcomeAllow names an Update's result, the policy's allow-list refusal
// included.
func outcomeAllow(t *testing.T, op string, err error) string {
	if _, ok := err.(*policy.AllowListError); ok {
		return op + " refused: needs a list"
	}
	return outcome(t, op, err, keys.ErrConflict)
}

func attackRehashVsAdminAndAllowList(t *testing.T, s keys.Store) {
	var (
		c   tally
		bad failures
	)
	mA := quietRing(t, s, "a")
	narrow := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	n := trials(40, 12)
	for trial := range n {
		mB := quietRing(t, rehashWatch{s, &c}, "b", "a")
		k, secret := createKey(t, mA, "alice", 0)
		ref := keys.Ref{Owner: "alice", ID: k.ID}
		require.True(t, works(t, mB, secret))
		op := []string{"admin disable", "narrow"}[trial%2]
		together(2, func(i int) {
			if i == 0 {
				require.NoError(t, mB.Close())
				return
			}
			var err error
			stagger(trial)
			if op == "narrow" {
				_, err = mB.Update(t.Context(), keys.UpdateRequest{Ref: ref, AllowedIPs: &narrow})
			} else {
				off := true
				_, err = mB.Update(t.Context(), keys.UpdateRequest{Ref: ref, Actor: audit.User("admin"), Disabled: &off})
			}
			c.add(outcome(t, op, err, keys.ErrConflict))
		})
		stored := get(t, s, k.ID)
		check := quietRing(t, s, "b", "a")
		_, inside := check.Verify(t.Context(), secret, "198.51.100.7")
		_, outside := check.Verify(t.Context(), secret, "203.0.113.7")
		switch {
		case op == "admin disable" && (!stored.Disabled || stored.DisabledBy != audit.User("admin")):
			bad.add(trial, "the admin's disable was undone")
		case op == "admin disable" && inside == nil:
			bad.add(trial, "a key disabled by an admin verifies")
		case op == "narrow" && len(stored.AllowedIPs) != 1:
			bad.add(trial, fmt.Sprintf("the narrowed list was lost: %v", stored.AllowedIPs))
		case op == "narrow" && outside == nil:
			bad.add(trial, "the key works from outside its narrowed list")
		case op == "narrow" && inside != nil:
			bad.add(trial, "the key no longer works from inside its list: "+inside.Error())
		}
	}
	bad.check(t, n, "moves to the newest secret that undid an admin's disable or an allow-list", &c)
}
