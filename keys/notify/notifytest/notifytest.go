// Package notifytest checks that a [notify.Store] keeps the contract
// keys/notify relies on. A store's tests call [Run]; it is imported by
// tests only.
package notifytest

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/policy"
)

// Store is what keys/sqlstore and keys/memstore are: a keys.Store that is
// also the notify.Store over the same records.
type Store interface {
	keys.Store
	notify.Store
}

// Run runs the [notify.Store] contract as subtests of t. newStores is
// called once per subtest and returns two handles on one fresh, empty
// database, as two instances of an app hold them (two *sql.DB on the same
// tables; a memstore twice); it registers its own cleanup.
//
// Due selects exactly what [notify.Query.Match] selects, for every type
// and on the edges of each window, owner and actor rules included, at
// most Limit records; a claimed notice is left out until its claim lapses,
// a sent one for good, and a claim made with Match's moment hides exactly
// that notice (the store computes the moment as Match does). Claim wins
// once; an unsent claim at or before Lapsed is taken over once; Sent and
// Release act only for the claim's token; Notices lists sent notices of
// an owner, newest first, with the key's current record, never Unused
// claims; Prune deletes by claim time.
//
// Races, counted: 8 claimants on each of 40 notices, then on each of 40
// lapsed claims: exactly one wins each. Two Schedulers, one on each
// handle, each with its own Manager, run at the same instants over 10
// simulated days (keys expiring, expired, revoked and disabled by others,
// stale, unused), in several trials, with a Notifier that fails some first
// deliveries: every expected notice is delivered exactly once, none else
// (none about keys the owner revoked), and each unused key is disabled
// once.
func Run(t *testing.T, newStores func(t *testing.T) (Store, Store)) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, a, b Store)
	}{
		{"DueMatches", testDueMatches},
		{"DueLimit", testDueLimit},
		{"DueLeavesClaimed", testDueLeavesClaimed},
		{"ClaimOnce", testClaimOnce},
		{"ClaimTakeOver", testClaimTakeOver},
		{"SentAndReleaseByToken", testSentAndReleaseByToken},
		{"Notices", testNotices},
		{"Prune", testPrune},
		{"RaceClaims", testRaceClaims},
		{"RaceSchedulers", testRaceSchedulers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newStores(t)
			tt.run(t, a, b)
		})
	}
}

// t0 is the base time of the tests: UTC, whole milliseconds.
var t0 = time.Date(2031, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

const day = 24 * time.Hour

// newKey returns a minimal live record of owner created at at.
func newKey(owner string, at time.Time) *keys.Key {
	id := keyforge.ID(at)
	hash := make([]byte, 32)
	_, _ = rand.Read(hash)
	return &keys.Key{
		ID: id, OwnerID: owner, Name: "key of " + owner, Prefix: "kc", Hint: "kc_" + id + "_…ab12", Hash: hash,
		Permissions: policy.Permissions{"files": {"read"}}, CreatedAt: at, UpdatedAt: at, CreatedBy: audit.User(owner),
	}
}

// create stores k and returns it as stored.
func create(t *testing.T, s keys.Store, k *keys.Key) *keys.Key {
	t.Helper()
	require.NoError(t, s.Create(t.Context(), k, 0))
	got, err := s.Get(t.Context(), k.ID)
	require.NoError(t, err)
	return got
}

// claimOf is a claim of the notice q finds for k, made at now.
func claimOf(t *testing.T, q notify.Query, k *keys.Key, now time.Time) notify.Claim {
	t.Helper()
	at, ok := q.Match(k)
	require.True(t, ok, "the query does not select %s", k.Name)
	return notify.Claim{Type: q.Type, Lead: q.Lead, KeyID: k.ID, OwnerID: k.OwnerID, At: at, Token: rand.Text(), Now: now, Lapsed: now.Add(-time.Minute)}
}

// ids returns the ids of list, as a set.
func ids(list []*keys.Key) map[string]bool {
	out := map[string]bool{}
	for _, k := range list {
		out[k.ID] = true
	}
	return out
}
