package audit

import (
	"context"
	"time"
)

// Observer sees every key verification, for metrics and tracing: pass it
// as keys.Config.Observer. Key changes reach it as events ([Event]) when it
// is also the (or one of the, see [Tee]) keys.Config.Auditor. Verification is called
// on the request path, after the verdict: it must be safe for concurrent use
// and cheap (an atomic add, a histogram observation), and must not block.
type Observer interface {
	// Verification is told the outcome of one key verification, with the
	// request's context (for a trace span), after Verify decided and
	// before it returns.
	Verification(ctx context.Context, v Verification)
}

// Verification is what an [Observer] learns of one verification. It never
// holds the key or its hash.
type Verification struct {
	// Outcome is a stable, low-cardinality label: "accepted", or why the
	// key was refused: "malformed", "unknown", "wrong_secret" (a key
	// hashed under a retired server secret included), "revoked",
	// "disabled", "expired", "owner_gone", "parent_invalid",
	// "ip_not_allowed" (used from outside its allowed IPs), or
	// "unavailable" (the store could not be asked) and "error" (anything
	// else).
	Outcome  string
	KeyID    string        // the key's id, when the key was well formed
	OwnerID  string        // the owner, when the record was found
	Duration time.Duration // the time the verification took
}
