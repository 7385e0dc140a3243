package keys

import (
	"context"
	"errors"
	"time"

	"github.com/keycaphq/keycap/audit"
)

// observe tells the Observer how the verification of raw went.
func (m *Manager) observe(ctx context.Context, raw string, k *record, err error, took time.Duration) {
	o := audit.Verification{Outcome: outcome(err), Duration: took}
	if k != nil {
		o.KeyID, o.OwnerID = k.id(), k.ownerID
	} else if t, perr := parse(raw); perr == nil && m.kinds.byPrefix[t.Prefix] != nil {
		o.KeyID = t.ID // the id is not secret; the key never leaves this function
	}
	m.observer.Verification(ctx, o)
}

// outcomes are the labels of audit.Verification.Outcome, most specific
// first.
var outcomes = []struct {
	err   error
	label string
}{
	{errMalformed, "malformed"}, {errUnknownID, "unknown"}, {errWrongSecret, "wrong_secret"}, {errRevoked, "revoked"}, {errDisabled, "disabled"},
	{errOwnerGone, "owner_gone"}, {errParentInvalid, "parent_invalid"}, {ErrExpired, "expired"},
	{ErrStoreUnavailable, "unavailable"}, {ErrIPNotAllowed, "ip_not_allowed"},
}

func outcome(err error) string {
	if err == nil {
		return "accepted"
	}
	for _, o := range outcomes {
		if errors.Is(err, o.err) {
			return o.label
		}
	}
	return "error"
}
