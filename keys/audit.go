package keys

import (
	"context"
	"time"

	"github.com/keycaphq/keycap/policy"
)

// EventType names what happened to a key.
type EventType string

// Event types an [Auditor] receives.
const (
	EventCreated            EventType = "created"
	EventUpdated            EventType = "updated"
	EventRotated            EventType = "rotated"
	EventRevoked            EventType = "revoked"
	EventDisabled           EventType = "disabled"
	EventEnabled            EventType = "enabled"
	EventRefused            EventType = "refused"             // a create or update beyond the cap
	EventVerificationDenied EventType = "verification_denied" // a presented key was refused
)

// Event is one audited action. It never holds a key or its hash.
type Event struct {
	Type    EventType
	Time    time.Time
	Actor   Actor  // who acted; zero for an anonymous client (a refused verification)
	OwnerID string // the key's owner, when known
	KeyID   string // the key, when known
	Before  policy.Permissions
	After   policy.Permissions
	Reason  string // why: the refusal or denial reason, or a revocation reason
	IP      string
}

// Auditor receives events. Audit is called synchronously after the action
// took effect (or was refused); it must be safe for concurrent use and
// should not block for long. Errors are the auditor's to handle.
type Auditor interface {
	Audit(ctx context.Context, e Event)
}

// AuditorFunc adapts a function to [Auditor].
type AuditorFunc func(ctx context.Context, e Event)

// Audit calls f.
func (f AuditorFunc) Audit(ctx context.Context, e Event) { f(ctx, e) }

// audit hands e to the Manager's Auditor, if any.
func (m *Manager) audit(ctx context.Context, e Event) {
	if m.auditor != nil {
		m.auditor.Audit(ctx, e)
	}
}

// EventLog is an [Auditor] that can also list what it recorded, for an
// "activity" view. The /api-keys handler serves it at GET /activity when
// the Manager's Auditor implements it.
type EventLog interface {
	Auditor
	// Events returns up to limit events about owner's keys (or by owner),
	// newest first.
	Events(ctx context.Context, owner string, limit int) ([]Event, error)
}

// Auditor returns the Manager's Auditor, or nil.
func (m *Manager) Auditor() Auditor { return m.auditor }
