package middleware

import (
	"net/http"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/policy"
)

// eventJSON is the JSON form of an audit event.
type eventJSON struct {
	Type   audit.Type         `json:"type"`
	Time   time.Time          `json:"time"`
	Actor  string             `json:"actor,omitempty"`
	Kind   audit.Kind         `json:"actor_kind,omitempty"` // user, key, operator or system
	KeyID  string             `json:"key_id,omitempty"`
	Before policy.Permissions `json:"before,omitempty"`
	After  policy.Permissions `json:"after,omitempty"`
	Reason string             `json:"reason,omitempty"`
	IP     string             `json:"ip,omitempty"`

	BeforeResources policy.Resources `json:"before_resources,omitempty"` // the key's restriction to records before
	AfterResources  policy.Resources `json:"after_resources,omitempty"`  // and after; for a refusal, the records refused

	BeforeDescription string `json:"before_description,omitempty"` // the key's description before a change of it
	AfterDescription  string `json:"after_description,omitempty"`  // and after it; a new key's description

	// BeforeQuota and AfterQuota are the key's quota before and after an
	// update that changed it; one left out means the key had (or has) none.
	BeforeQuota *quotaJSON `json:"before_quota,omitempty"`
	AfterQuota  *quotaJSON `json:"after_quota,omitempty"`
}

// quotaJSON is a quota in an event, in the fields of a key's JSON.
type quotaJSON struct {
	Remaining      int64 `json:"remaining"`
	RefillAmount   int64 `json:"refill_amount,omitempty"`
	RefillInterval int64 `json:"refill_interval_seconds,omitempty"` // whole seconds
}

func toQuotaJSON(q *audit.Quota) *quotaJSON {
	if q == nil {
		return nil
	}
	return &quotaJSON{Remaining: q.Remaining, RefillAmount: q.RefillAmount, RefillInterval: int64(q.RefillInterval / time.Second)}
}

// activity serves GET /activity: recent events about the caller's keys,
// when Options.Activity is set.
func (kc *Keycap) activity(w http.ResponseWriter, r *http.Request, p Principal) error {
	if kc.events == nil {
		return keycap.New(keycap.CodeNotFound, "no activity log is configured (middleware.Options.Activity)")
	}
	if p.kind == KindKey {
		// The owner's activity names keys out of the calling key's reach
		// (their ids, permissions, revocation reasons, client addresses).
		return keycap.New(keycap.CodeDelegationNotAllowed, "the activity of your keys is for you, logged in, not for API keys")
	}
	owner, err := kc.owner(r, p)
	if err != nil {
		return err
	}
	limit, err := pageLimit(r, 50)
	if err != nil {
		return err
	}
	events, err := kc.events.Events(r.Context(), owner, limit)
	if err != nil {
		return err
	}
	out := make([]eventJSON, len(events))
	for i, e := range events {
		out[i] = eventJSON{Type: e.Type, Time: e.Time.UTC(), Actor: actorJSON(e.Actor), Kind: e.Actor.Kind, KeyID: e.KeyID, Before: e.Before, After: e.After, Reason: e.Reason, IP: e.IP,
			BeforeResources: e.BeforeResources, AfterResources: e.AfterResources,
			BeforeDescription: e.BeforeDescription, AfterDescription: e.AfterDescription,
			BeforeQuota: toQuotaJSON(e.BeforeQuota), AfterQuota: toQuotaJSON(e.AfterQuota)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
	return nil
}
