package keys

import (
	"context"
	"time"
)

// QuotaStore is a [Store] that can spend a key's quota atomically: one
// Consume is exact under any concurrency, across processes when the store is
// shared, so N calls against a quota of n admit exactly min(N, n).
//
// Consume spends one unit of key id's quota at now:
//   - A key without a quota (Remaining nil) returns remaining -1 and ok
//     true, and nothing is written.
//   - When a refill is due (RefillInterval and RefillAmount both > 0 and
//     now is at least LastRefillAt + RefillInterval, counting from CreatedAt
//     when LastRefillAt is zero), Remaining is first reset to RefillAmount
//     and LastRefillAt set to now; unused units do not carry over.
//   - Then, if Remaining is above 0, it is decremented: ok is true and
//     remaining is what is left after this request (0 for the last one).
//   - Otherwise the quota is spent: ok is false, remaining is 0, and nothing
//     is written.
//
// An unknown id returns [ErrNotFound]; a store that could not be reached
// wraps [ErrStoreUnavailable]. keys/memstore and keys/sqlstore implement it.
type QuotaStore interface {
	Consume(ctx context.Context, id string, now time.Time) (remaining int64, ok bool, err error)
}
