package memstore

import (
	"time"

	"github.com/keycaphq/keycap/keys"
)

// applyQuota applies the quota fields of c to n, under the Store's lock:
// a lowering is the lesser of what n holds now and c.Remaining.
func applyQuota(n *keys.Key, c keys.Change) {
	if c.RemoveQuota {
		n.Remaining, n.RefillAmount, n.RefillInterval, n.LastRefillAt = nil, 0, 0, time.Time{}
		return
	}
	if r := c.Remaining; r != nil {
		v := *r
		if !c.RemainingExact && n.Remaining != nil {
			v = min(v, *n.Remaining)
		}
		n.Remaining = &v
	}
	if q := c.Refill; q != nil {
		if q.RefillAmount != n.RefillAmount || q.RefillInterval != n.RefillInterval {
			n.LastRefillAt = c.At
		}
		n.RefillAmount, n.RefillInterval = q.RefillAmount, q.RefillInterval
	}
}
