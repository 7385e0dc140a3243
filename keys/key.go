package keys

import (
	"encoding/json"
	"net/netip"
	"slices"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/policy"
)

// Key is the stored record of an API key. It never holds the key itself,
// only its keyed hash. Records returned by a [Store] or a [Manager] are the
// caller's to keep; a Store must not retain or mutate a record it was given.
// A Key is a plain value: not safe for concurrent use while it is being
// modified (see [Key.Clone]). A zero time means "never" or "not yet", as
// each field says.
type Key struct {
	ID      string // time-ordered; also embedded in the key
	OwnerID string // the subject who owns the key
	Name    string // chosen by the owner
	// Description is the owner's free text about the key (what it is for,
	// who runs it): at most 500 characters, line breaks allowed, no other
	// control or invisible characters. "": none.
	Description string
	Prefix      string             // the key's prefix, e.g. "kc"
	Hint        string             // what may be shown again: prefix, id and last characters
	Hash        []byte             // HMAC-SHA256 of the key
	Permissions policy.Permissions // as granted, normalized; capped again at every verification

	// SecretID names the server secret that Hash (and PreviousHash) were
	// computed under: [Config].SecretID or a key of [Config].OldSecrets;
	// "" means "1", the id of a single Config.Secret. A key on an old secret
	// moves to the newest at its next successful use; a key on a secret no
	// longer configured is refused.
	SecretID string
	// AllowedIPs are the client address ranges the key may be used from: a
	// request from outside all of them is refused ([ErrIPNotAllowed]). nil:
	// from anywhere. Normalized: masked, IPv4-mapped ranges as IPv4,
	// sorted, no duplicates, at most 64. Read-only once stored.
	AllowedIPs []netip.Prefix
	// Resources limits the key to particular records, per resource
	// ({"projects": ["1"]}): a record guard (middleware.RequireRecord)
	// admits it only for those records, and only while its owner can still
	// do the action on them. A resource with no entry is not limited. nil:
	// no restriction. Normalized ([policy.NormalizeResources]): no list is
	// empty. Read-only once stored.
	Resources policy.Resources

	// Version counts the changes made to the record (1 when created). A
	// [Change] names the version its decision was made on and is refused
	// with [ErrConflict] if the record has moved on. Touch and Consume do
	// not count: they change no field a decision reads.
	Version int64

	CreatedAt time.Time // when the record was created; lifetimes and refills count from it
	// UpdatedAt is when a [Change] was last written (CreatedAt until then).
	// Touch and Consume leave it alone.
	UpdatedAt time.Time
	ExpiresAt time.Time   // zero: never
	CreatedBy audit.Actor // the owner, one of the owner's keys (delegation), a member managing an organization's keys, or the system
	// ChangedBy is who made the last [Change] (a rename, new permissions,
	// a disable, a rotation, a revocation): the zero Actor until the first
	// change, and on records written before it was kept.
	ChangedBy audit.Actor

	// Kind names the kind of key (see [Config].Kinds): "" for the
	// Manager's default kind. Set at creation; no change alters it, and
	// the key's prefix says it.
	Kind string
	// Metadata is the app's own JSON object about the key (an environment,
	// a customer reference): compact, at most 4 KiB, never read by an
	// authorization decision. nil: none.
	Metadata json.RawMessage

	// Ancestors are the keys that created this one (delegation), the first
	// created directly by a person, the last this key's parent; nil for a
	// key created by a person. A key reaches (may manage) itself and the
	// keys whose Ancestors hold it. A delegated key is capped by each of them at
	// every verification and stops working when any stops working.
	Ancestors []string
	// ParentGeneration is the parent's Generation when it created this key:
	// the key works only while the parent's secret of that generation does.
	ParentGeneration int64

	// Generation counts rotations: 0 for the first secret.
	Generation int64
	// PreviousHash is the hash of the secret a rotation replaced, which keeps
	// working until PreviousExpiresAt (a grace period); nil when the
	// rotation gave none, or before any rotation.
	PreviousHash []byte
	// PreviousExpiresAt is when PreviousHash stops working; zero when there
	// is no previous secret. Once past, PreviousHash works no more, though
	// the record may still hold it.
	PreviousExpiresAt time.Time

	LastUsedAt time.Time // coalesced: updated at most once per key per interval; zero: never used
	// LastUsedIP is the client address of the use recorded in LastUsedAt, as
	// the app's ClientIP function gave it; "" when unknown or never used.
	LastUsedIP string

	RevokedAt time.Time // zero: not revoked; revoked keys are kept for the record
	// RevokedBy is who revoked the key; the zero Actor when it is not
	// revoked.
	RevokedBy audit.Actor
	// RevokedReason is the free-text reason given at revocation (at most 500
	// bytes); "" when none was given or the key is not revoked.
	RevokedReason string
	Disabled      bool        // turned off; can be turned back on
	DisabledBy    audit.Actor // who turned it off; an admin's disable holds against the owner; zero when enabled
	// DisabledAt is when the key was last turned off (a disable by another
	// actor counts anew); zero when it is enabled.
	DisabledAt time.Time

	// Remaining is the key's quota: when set, each admitted request spends
	// one and none is admitted at 0. nil: the key has no quota of its own
	// (its ancestors' quotas still apply).
	Remaining      *int64
	RefillAmount   int64         // Remaining is reset to this every RefillInterval (0: no refill)
	RefillInterval time.Duration // 0: no refill
	// LastRefillAt is when Remaining was last reset to RefillAmount; zero
	// before the first refill, when refills count from CreatedAt.
	LastRefillAt time.Time
}

// IsExpired reports whether the key's own expiry has passed at now (an
// expiry equal to now has passed). It does not apply the policy's maximum
// lifetime, which [Manager.Verify] also checks; a key with no expiry never
// expires by this test.
func (k *Key) IsExpired(now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
}

// Clone returns a deep copy of k: hashes, ancestors, permissions,
// allowed IPs, resources and quota included, so the copy can be changed without touching k.
func (k *Key) Clone() *Key {
	c := *k
	c.Hash = slices.Clone(k.Hash)
	c.PreviousHash = slices.Clone(k.PreviousHash)
	c.Ancestors = slices.Clone(k.Ancestors)
	c.AllowedIPs = slices.Clone(k.AllowedIPs)
	c.Metadata = slices.Clone(k.Metadata)
	c.Permissions = k.Permissions.Clone()
	c.Resources = k.Resources.Clone()
	if k.Remaining != nil {
		r := *k.Remaining
		c.Remaining = &r
	}
	return &c
}
