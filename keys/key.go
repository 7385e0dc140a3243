package keys

import (
	"time"

	"github.com/keycaphq/keycap/policy"
)

// Key is the stored record of an API key. It never holds the key itself,
// only its keyed hash. Records returned by a [Store] or a [Manager] are the
// caller's to keep; a Store must not retain or mutate a record it was given.
type Key struct {
	ID          string             // time-ordered; also embedded in the key
	OwnerID     string             // the subject who owns the key
	Name        string             // chosen by the owner
	Prefix      string             // the key's prefix, e.g. "kc"
	Hint        string             // what may be shown again: prefix, id and last characters
	Hash        []byte             // HMAC-SHA256 of the key
	Permissions policy.Permissions // as granted, normalized; capped again at every verification

	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time // zero: never
	CreatedBy string    // who created it: the owner, an admin, or "key:<id>" for a delegated key
	// ParentID is the key that created this one (delegation), or "". A
	// delegated key is capped by its parent at every verification and stops
	// working when the parent is revoked, disabled or expired.
	ParentID string

	// Rotation: the previous secret's hash keeps working until PreviousExpiresAt.
	PreviousHash      []byte
	PreviousExpiresAt time.Time

	LastUsedAt time.Time // coalesced: updated at most once per key per interval
	LastUsedIP string

	RevokedAt     time.Time // zero: not revoked; revoked keys are kept for the record
	RevokedBy     string
	RevokedReason string
	Disabled      bool   // turned off; can be turned back on
	DisabledBy    string // who turned it off; an admin's disable holds against the owner

	// Quota: when Remaining is set, each admitted request spends one.
	Remaining      *int64
	RefillAmount   int64         // Remaining is reset to this every RefillInterval (0: no refill)
	RefillInterval time.Duration // 0: no refill
	LastRefillAt   time.Time
}

// IsRevoked reports whether the key was revoked.
func (k *Key) IsRevoked() bool { return !k.RevokedAt.IsZero() }

// IsExpired reports whether the key's own expiry has passed at now.
func (k *Key) IsExpired(now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
}

// Clone returns a deep copy of k.
func (k *Key) Clone() *Key {
	c := *k
	c.Hash = append([]byte(nil), k.Hash...)
	c.PreviousHash = append([]byte(nil), k.PreviousHash...)
	if k.PreviousHash == nil {
		c.PreviousHash = nil
	}
	c.Permissions = k.Permissions.Clone()
	if k.Remaining != nil {
		r := *k.Remaining
		c.Remaining = &r
	}
	return &c
}
