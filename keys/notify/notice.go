package notify

import (
	"context"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// Notice is one thing a key's owner is told. It never holds the key, only
// its record (which holds a keyed hash: a Notifier must not pass the
// record on as it is).
type Notice struct {
	// Type is what the notice is about: [audit.Expiring], [audit.Expired],
	// [audit.Stale] (not used for Config.StaleAfter), [audit.Revoked] or
	// [audit.Disabled] (by someone other than the owner and the owner's
	// keys: Key.RevokedBy or Key.DisabledBy says who, Key.RevokedReason
	// why; a leak's reason says where the key was found).
	Type audit.Type
	// Lead is, for Expiring, how long before the expiry this notice is
	// (7, 3 or 1 days by default; the key expires at At); 0 otherwise.
	Lead time.Duration
	// At is the moment the notice is about: the expiry (Expiring,
	// Expired), the last use or, for a key never used, its creation
	// (Stale), the revocation (Revoked) or the disable (Disabled).
	At time.Time
	// Key is the record as it was when the notice was found due (for a
	// listing: as it is now). Read-only: share it, do not modify it.
	Key *keys.Key
	// Sent is when the notice was sent; zero for a notice being sent.
	Sent time.Time
}

// Notifier delivers notices to key owners: send an email, post to a chat,
// write a log line. Notify is called by a [Scheduler], never on a request
// path, one notice at a time, with a context that ends before the claim on
// the notice lapses (half of Config.Lease). An error means "not
// delivered": the notice is offered again at a later run. It must be safe
// for concurrent use when several Schedulers share it.
type Notifier interface {
	// Notify delivers n, or returns why it could not.
	Notify(ctx context.Context, n Notice) error
}

// Func adapts a function to [Notifier].
type Func func(ctx context.Context, n Notice) error

// Notify calls f.
func (f Func) Notify(ctx context.Context, n Notice) error { return f(ctx, n) }
