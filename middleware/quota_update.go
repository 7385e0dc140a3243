package middleware

import (
	"encoding/json"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// nullable accepts JSON null as well as what decode accepts: null sets
// *isNull and leaves decode's destination nil.
func nullable(decode fieldDecoder, isNull *bool) fieldDecoder {
	return func(raw json.RawMessage) error {
		if string(raw) == "null" {
			*isNull = true
			return nil
		}
		return decode(raw)
	}
}

// quotaUpdate puts the quota fields of a PATCH on u: "remaining" (a
// count, or null to remove the quota), "refill_amount" and
// "refill_interval_seconds" (both positive, or both 0 or null for no
// refill; one given alone counts the other as 0). Whether the key may take
// them is keys.Manager.Update's decision (the policy's cap, a calling key's
// own quota); a refill asked for along with the quota's removal is refused
// here, as a refill without a quota is on create.
func quotaUpdate(u *keys.UpdateRequest, remaining, refillAmount, refillInterval *int64, removeQuota, refillGiven bool) error {
	u.Remaining, u.RemoveQuota = remaining, removeQuota
	if !refillGiven {
		return nil
	}
	q := &keys.Quota{}
	if refillAmount != nil {
		q.RefillAmount = *refillAmount
	}
	if refillInterval != nil {
		q.RefillInterval = time.Duration(*refillInterval) * time.Second
	}
	if removeQuota && (q.RefillAmount > 0 || q.RefillInterval > 0) {
		return invalidBody("a refill needs a quota: remaining null removes it; leave the refill out or set remaining", "remaining")
	}
	u.Refill = q
	return nil
}
