package audit

import (
	"context"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// Type names what happened to a key.
type Type string

// Event types an [Auditor] receives.
const (
	Created            Type = "created"
	Updated            Type = "updated"
	Rotated            Type = "rotated"
	Revoked            Type = "revoked"
	Disabled           Type = "disabled"
	Enabled            Type = "enabled"
	Refused            Type = "refused"             // a create or change beyond a bound
	VerificationDenied Type = "verification_denied" // a presented key was refused
	// Leaked is a revocation because the key was found in public (a secret
	// scanner's report): it replaces Revoked for that key, with where the
	// key was found in Reason.
	Leaked Type = "leaked"
	// Pruned is the deletion of a dead key's record (revoked or expired
	// long enough ago) by an operator: keys.Manager.Prune.
	Pruned Type = "pruned"
)

// Notice types: what keys/notify tells a key's owner about, besides the
// Revoked, Leaked and Disabled events it also notices (when someone other
// than the owner caused them). A Manager never audits these.
const (
	Expiring Type = "expiring" // the key expires soon
	Expired  Type = "expired"  // the key has expired
	Stale    Type = "stale"    // the key has not been used for a while
)

// Event is one audited action. It never holds a key or its hash. An
// Auditor receives it by value, but its permissions are maps it must treat
// as read-only (clone them to keep a changed copy).
type Event struct {
	Type    Type      // what happened
	Time    time.Time // when, on the Manager's clock (keys.Config.Now)
	Actor   Actor     // who acted; zero for an anonymous client (a refused verification)
	OwnerID string    // the key's owner, when known
	KeyID   string    // the key, when known
	// Before is the key's permissions before the action: set for Updated,
	// Rotated, Revoked, Leaked and, when the key's record was found,
	// VerificationDenied; nil otherwise.
	Before policy.Permissions
	// After is the key's permissions after the action: set for Created,
	// Updated and Rotated, and for Refused the requested permissions beyond
	// the cap (nil when the refusal was for something else); nil otherwise.
	After policy.Permissions
	// BeforeResources is the key's restriction to records before the
	// action (nil: none), for Updated; AfterResources the restriction
	// after it, for Created and Updated, and for Refused the records
	// refused (a policy.RecordsError). nil otherwise.
	BeforeResources, AfterResources policy.Resources
	// BeforeDescription and AfterDescription are the key's description
	// before and after an Updated event that changed it (both "" when it
	// did not change); AfterDescription is also the description of a
	// Created key. "" otherwise.
	BeforeDescription, AfterDescription string
	// BeforeQuota and AfterQuota are the key's quota before and after an
	// Updated event that changed it (a remaining count set, lowered or
	// removed, a refill set or stopped): nil in one of them means the key
	// had (or has) no quota. Both are nil when the quota did not change,
	// and for every other event type.
	BeforeQuota, AfterQuota *Quota

	Reason string // why: the refusal or denial reason, or a revocation reason
	IP     string // the client's address, for a denied verification
}

// Quota is a key's request budget as an [Event] records it: Remaining
// requests left, reset to RefillAmount every RefillInterval when both are
// set (0: no refill).
type Quota struct {
	Remaining      int64         // requests left
	RefillAmount   int64         // what Remaining is reset to every RefillInterval; 0: no refill
	RefillInterval time.Duration // 0: no refill
}

// Auditor receives events. Audit is called synchronously after the action
// took effect (or was refused); it must be safe for concurrent use and
// should not block for long. Errors are the auditor's to handle.
type Auditor interface {
	// Audit records e. ctx is the request's (or the operation's) context:
	// an auditor that outlives the call, such as one that writes later,
	// must not use it after returning.
	Audit(ctx context.Context, e Event)
}

// Func adapts a function to [Auditor].
type Func func(ctx context.Context, e Event)

// Audit calls f.
func (f Func) Audit(ctx context.Context, e Event) { f(ctx, e) }

// Log is an [Auditor] that can also list what it recorded, for an
// "activity" view (middleware.Options.Activity serves it at GET
// /api-keys/activity).
type Log interface {
	Auditor
	// Events returns up to limit events about owner's keys (or by owner),
	// newest first.
	Events(ctx context.Context, owner string, limit int) ([]Event, error)
}
