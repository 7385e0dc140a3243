package sqlstore

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/keycaphq/keycap/audit"
)

// storedQuota is an [audit.Quota] as the events table holds it (columns
// before_quota and after_quota, migration 0009): JSON, the refill interval
// in milliseconds as the keys table's refill_interval_ms.
type storedQuota struct {
	Remaining        int64 `json:"remaining"`
	RefillAmount     int64 `json:"refill_amount"`
	RefillIntervalMS int64 `json:"refill_interval_ms"`
}

// quotaArg is q as JSON text, or NULL when q is nil (no quota).
func quotaArg(q *audit.Quota) any {
	if q == nil {
		return nil
	}
	b, _ := json.Marshal(storedQuota{q.Remaining, q.RefillAmount, q.RefillInterval.Milliseconds()}) // cannot fail: three integers
	return string(b)
}

// quotaOf reads a quota column: NULL (no quota, or an event stored before
// migration 0009) is nil.
func quotaOf(s sql.NullString) (*audit.Quota, error) {
	if !s.Valid {
		return nil, nil
	}
	var q storedQuota
	if err := json.Unmarshal([]byte(s.String), &q); err != nil {
		return nil, err
	}
	return &audit.Quota{Remaining: q.Remaining, RefillAmount: q.RefillAmount, RefillInterval: time.Duration(q.RefillIntervalMS) * time.Millisecond}, nil
}
