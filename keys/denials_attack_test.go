package keys_test

// Attack tests of the atomic-changes work, written by an attacker who did
// not write the code: each TestAttack* once broke a guarantee (fixed since)
// or probed one that held; all are kept as regression tests.

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/keycaphq/keycap/audit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

type countingAuditor struct{ denied atomic.Int64 }

func (a *countingAuditor) Audit(_ context.Context, e audit.Event) {
	if e.Type == audit.VerificationDenied {
		a.denied.Add(1)
	}
}

// Claim 8 / README "Denials are audited once per key and reason per
// interval". The (key, reason) table has 4096 slots and colliding pairs
// evict each other. One user creates and revokes keys (revoked keys do not
// count against MaxKeys, so there is no bound), then sends requests naming
// those real ids with a wrong secret (ids are public: they are in every
// hint) in a round-robin. Every request whose id shares a slot with
// another becomes an audit write, in every round, within one interval:
// with 6000 ids practically every request is audited.
func TestAttackDenialTableThrashedByManyRealIDs(t *testing.T) {
	ctx := context.Background()
	aud := &countingAuditor{}
	clock := newFakeClock()
	m, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: testPolicy, Subjects: policy.SubjectsFunc(newDirectory().lookup),
		Secret: testSecret, Auditor: aud, Now: clock.Now})
	require.NoError(t, err)
	const n = 6000
	ids := make([]string, n)
	for i := range ids {
		k, _, err := m.Create(ctx, keys.CreateRequest{Owner: "carol", Name: "k", Permissions: policy.MustParse("files:read")})
		require.NoError(t, err)
		_, err = m.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "carol", ID: k.ID}})
		require.NoError(t, err)
		ids[i] = k.ID
	}
	const rounds = 3
	for range rounds {
		for _, id := range ids {
			_, err := m.Verify(ctx, keyforge.Key("kc", id), "")
			require.ErrorIs(t, err, keys.ErrInvalid)
		}
	}
	got := aud.denied.Load()
	t.Logf("%d requests naming %d real ids within one interval: %d audit events (claimed: %d)", rounds*n, n, got, n)
	assert.LessOrEqual(t, got, int64(n), "at most one audit per key and reason per interval")
}
