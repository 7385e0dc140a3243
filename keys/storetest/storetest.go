// Package storetest checks that a [keys.Store] keeps the contract the rest
// of keycap relies on. A store's tests call [Run]; it is imported by tests
// only.
package storetest

import (
	"testing"

	"github.com/keycaphq/keycap/keys"
)

// Run runs the [keys.Store] contract as subtests of t.
//
// Records: every field round-trips exactly (nil and empty Permissions kept
// apart, a zero quota kept apart from none; an empty Ancestors may come
// back nil: both mean "made by a person", and records are compared with
// an empty Ancestors made nil); a Store keeps no reference to records it
// is given or returns. Create stores Version 1 whatever it is given,
// refuses a duplicate id or hash with [keys.ErrConflict], and with
// maxLive > 0 refuses a key over the limit with a [*policy.KeyLimitError]
// counting the owner's live keys at k.CreatedAt (not revoked, not expired
// at that time; disabled and delegated keys count, other owners' do not);
// a refused Create stores nothing and takes no hash.
//
// Change: each field alone writes only that field, Version+1 and
// UpdatedAt, and returns exactly the record stored; several fields are one
// write; Disabled true sets DisabledAt to the change's time (also when
// the key was off), Disabled false clears DisabledBy and DisabledAt; a
// Secret counts a Generation, takes the new hash and frees the old one
// (also while it is kept as PreviousHash), and with no PreviousHash keeps
// no previous secret (nil hash, zero expiry); a revoked record refuses every change, at any
// version, with [keys.ErrAlreadyRevoked]; a change at another version, or
// rotating to another record's hash, is [keys.ErrConflict]; Version 0
// revokes at any version; refusals write nothing (a refused rotation
// takes no hash). [keys.ErrNotFound] from Get, Change and Consume of
// unknown ids, also inside a chain; Touch of one is not an error.
//
// List: newest first, keyset pages, owner isolation, the default limit,
// and Within (a key, its children and grandchildren, never its parent,
// siblings or another owner's records), paged. Touch is forward-only.
// A key presented to a Manager's Revoke (a leak report) is revoked with
// the keys created through it, by the scanner, the reason saying where it
// was found; a wrong secret and the same report again write nothing.
// Consume over a chain of ids is all or nothing, answers the least
// remaining (-1 and no write when no key has a quota), skips keys without
// one, refills each key on its own schedule (from CreatedAt when never
// refilled; only with both an amount and an interval) and never on a
// refused request. Touch and Consume write only their fields and count no
// version, so a change decided before them still applies; neither undoes
// a change nor a change them. A Change that sets Remaining with a refill
// due at its time applies the refill first (LastRefillAt its time), then
// lowers or sets: a key at 0 lowered to 50 admits 50 until its next
// refill, not 100.
//
// Races, with many goroutines and trials, outcomes counted and logged
// ("0 of 200 revocations undone"): Consume admits exactly its quota under
// concurrency, for one key and for two keys sharing a parent's quota.
// Through a [keys.Manager] over the store (no cache, so every read is the
// store's) and, where a store alone can be asked, directly:
//   - 200 revocations through a Manager and 100 on the store alone
//     (-short keeps them all), each racing loops of renames, rotations,
//     permission changes, disables and enables, Consume and Touch: none
//     undone (the record stays revoked, by whom and why it was, and
//     neither the original secret nor any rotated one verifies; on the
//     store alone, nothing but quota and last use is written after the
//     revocation and no change succeeds over it);
//   - 30 leak reports (Revoke of a presented key, through a Manager) each
//     racing 2 rotations of the key, half with a grace period: no report
//     answered leaves the leaked or a rotated secret working, and a report
//     refused as not ours found the leaked secret already dead;
//   - an admin's disable racing the owner's renames and enable attempts:
//     it holds (disabled by the admin, no verification, the owner's enable
//     refused with [keys.ErrAdminChange]);
//   - 100 disables by the owner racing the owner's renames and permission
//     changes, half of them decided on the same version: none lost (the
//     key stays disabled by the owner and does not verify);
//   - a narrowing of permissions racing a rotation, half the time decided
//     on the same version: the narrowed permissions are stored and are the
//     rotated secret's;
//   - a quota of 50 spent by 6 clients while the key is renamed, also
//     through a key created by it: exactly 50 admitted;
//   - a quota of 60 spent by 6 clients while a Change lowers it to 20:
//     the lowering is the lesser of what is left and 20, never 20 over
//     what was spent; and the same at the instant a refill to 100 falls
//     due: the refill is applied once, by the first write, so the
//     lowering always returns the refill applied (never left for the next
//     request to refill over it) and min(100 - admitted before it, 20);
//   - 4 rotations of one key deciding on one version: exactly one
//     succeeds, the others answer [keys.ErrConflict], the winner's secret
//     verifies and the replaced one does not; unaligned rotations each
//     count one generation and only the last secret works; on the store,
//     exactly one of 4 writes at one version lands;
//   - 40 concurrent creations against a key limit of 10: exactly 10, also
//     when a key of the owner mints them (its own slot counts);
//   - 60 moves of a key to the newest server secret, each racing the
//     key's revocation, rotation or rename: none undone, and the record's
//     hash always under the secret its SecretID names;
//   - 60 changes of a key's description each racing a rename, half of
//     them decided on the same version: exactly one of those lands (the
//     other answers [keys.ErrConflict] having written nothing), the others
//     both land, and none is undone.
//
// Server secrets and allow-lists: CountBySecret counts live records by
// SecretID exactly (revoked and expired ones left out, at now); through a
// Manager, keys made under an old secret work, move to the newest after
// one use (a Change of the hash, SecretID and Version alone, Generation
// kept) and are refused once it is retired; a key limited to IP ranges
// works from inside them only, IPv4-mapped IPv6 clients included, and
// lifting the list frees it.
//
// Organizations: through a Manager, a member who may manage an
// organization's keys creates them within its cap and their rights (the
// refusal names the bound), a plain member or a stranger may not; the key
// survives its creator's demotion and deletion, is cut to the
// organization's current cap and stops when it is disabled or removed;
// the record keeps who created and changed it and its metadata. Two
// managers creating 40 keys at once against a limit of 10 get exactly 10,
// and a member's demotion holds against their concurrent changes; 60
// metadata changes each racing a rename: none undone.
//
// Pruning: PruneKeys deletes exactly the records revoked or expired
// before its times, lowest ids first, limit at a time, and frees their
// hashes; 60 prunes of an expired record racing a change extending its
// expiry never delete a record the change made live.
//
// -short shrinks the trial counts of all but the revocations; it skips
// nothing. A Store must answer these races exactly: an unexpected error
// (also [keys.ErrConflict] from Create or Consume) fails the test.
//
// newStore is called once per subtest and must return an empty store; it
// should register its own cleanup with t.Cleanup. Records use UTC times
// with millisecond precision, which every store is expected to keep
// exactly, and 32-byte hashes (HMAC-SHA256), which a store may insist on.
func Run(t *testing.T, newStore func(t *testing.T) keys.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s keys.Store)
	}{
		{"RoundTripFull", testRoundTripFull},
		{"RoundTripMinimal", testRoundTripMinimal},
		{"RoundTripNilAndEmpty", testRoundTripNilAndEmpty},
		{"RecordsAreCopies", testRecordsAreCopies},
		{"CreateStoresVersion1", testCreateStoresVersion1},
		{"CreateConflicts", testCreateConflicts},
		{"CreateKeyLimit", testCreateKeyLimit},
		{"NotFound", testNotFound},
		{"ChangeEachField", testChangeEachField},
		{"ChangeVersions", testChangeVersions},
		{"ChangeRevokedIsTerminal", testChangeRevokedIsTerminal},
		{"ChangeVersionConflict", testChangeVersionConflict},
		{"ChangeVersion0Revokes", testChangeVersion0Revokes},
		{"ChangeHashConflict", testChangeHashConflict},
		{"SecretRotations", testSecretRotations},
		{"SecretHashOfRefusedRotationStaysFree", testSecretHashOfRefusedRotationStaysFree},
		{"ListOrderAndPages", testListOrderAndPages},
		{"ListOwnerIsolation", testListOwnerIsolation},
		{"ListDefaultLimit", testListDefaultLimit},
		{"ListWithin", testListWithin},
		{"TouchForwardOnly", testTouchForwardOnly},
		{"UsageAndChangesKeepEachOther", testUsageAndChangesKeepEachOther},
		{"ConsumeWithoutQuota", testConsumeWithoutQuota},
		{"ConsumeCountsDown", testConsumeCountsDown},
		{"ConsumeRefill", testConsumeRefill},
		{"ConsumeRefillFromCreation", testConsumeRefillFromCreation},
		{"ConsumeNoRefillWithoutBoth", testConsumeNoRefillWithoutBoth},
		{"ConsumeChain", testConsumeChain},
		{"ConsumeChainLeastRemaining", testConsumeChainLeastRemaining},
		{"ConsumeChainSkipsKeysWithoutQuota", testConsumeChainSkipsKeysWithoutQuota},
		{"ConsumeChainRefillsPerKey", testConsumeChainRefillsPerKey},
		{"ConsumeChainNotFound", testConsumeChainNotFound},
		{"ConsumeConcurrent", testConsumeConcurrent},
		{"ConsumeChainConcurrent", testConsumeChainConcurrent},
		{"RevokePresented", testRevokePresented},
		{"RaceRevoke", testRaceRevoke},
		{"RaceRevokePresented", testRaceRevokePresented},
		{"RaceRevokeStore", testRaceRevokeStore},
		{"RaceAdminDisable", testRaceAdminDisable},
		{"RaceOwnerDisable", testRaceOwnerDisable},
		{"RaceNarrowRotate", testRaceNarrowRotate},
		{"RaceRotate", testRaceRotate},
		{"RaceRotateUnaligned", testRaceRotateUnaligned},
		{"RaceRotateStore", testRaceRotateStore},
		{"RaceQuota", testRaceQuota},
		{"RaceQuotaLower", testRaceQuotaLower},
		{"ChangeQuotaRefillDue", testChangeQuotaRefillDue},
		{"RaceQuotaLowerRefillDue", testRaceQuotaLowerRefillDue},
		{"RaceQuotaOwnerLower", testRaceQuotaOwnerLower},
		{"RaceQuotaSelfVsOwner", testRaceQuotaSelfVsOwner},
		{"RaceKeyLimit", testRaceKeyLimit},
		{"RaceKeyLimitStore", testRaceKeyLimitStore},
		{"CountBySecret", testCountBySecret},
		{"SecretRotation", testSecretRotation},
		{"RaceRehash", testRaceRehash},
		{"AllowedIPs", testAllowedIPs},
		{"OrgKeys", testOrgKeys},
		{"RaceOrgKeyLimit", testRaceOrgKeyLimit},
		{"RaceMetadata", testRaceMetadata},
		{"RaceDescription", testRaceDescription},
		{"Resources", testResources},
		{"ResourcesDelegation", testResourcesDelegation},
		{"ResourcesProperty", testResourcesProperty},
		{"RaceResources", testRaceResources},
		{"Prune", testPrune},
		{"RacePrune", testRacePrune},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}
