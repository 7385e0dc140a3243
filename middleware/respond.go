package middleware

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// keyJSON is the JSON form of a key record. It never holds the key's hash;
// Key (the key itself) is set only in the answer that creates or rotates it.
type keyJSON struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	Description       string             `json:"description"` // the owner's free text; "" when none
	Hint              string             `json:"hint"`
	Prefix            string             `json:"prefix"`
	OwnerID           string             `json:"owner_id"`
	Permissions       policy.Permissions `json:"permissions"`
	Status            string             `json:"status"` // active, expired, revoked or disabled
	CreatedAt         time.Time          `json:"created_at"`
	UpdatedAt         time.Time          `json:"updated_at"`
	ExpiresAt         *time.Time         `json:"expires_at"`
	LastUsedAt        *time.Time         `json:"last_used_at"`
	RevokedAt         *time.Time         `json:"revoked_at"`
	RevokedBy         string             `json:"revoked_by,omitempty"`
	RevokedByKind     audit.Kind         `json:"revoked_by_kind,omitempty"` // user, key, operator or system
	RevokedReason     string             `json:"revoked_reason,omitempty"`
	CreatedBy         string             `json:"created_by"`
	CreatedByKind     audit.Kind         `json:"created_by_kind,omitempty"` // user, key, operator or system
	ChangedBy         string             `json:"changed_by,omitempty"`      // who made the last change; left out before any
	ChangedByKind     audit.Kind         `json:"changed_by_kind,omitempty"` // user, key, operator or system
	Kind              string             `json:"kind,omitempty"`            // the key's kind; left out for the default kind
	Metadata          json.RawMessage    `json:"metadata,omitempty"`        // the app's JSON object; left out when none
	PreviousExpiresAt *time.Time         `json:"previous_secret_expires_at,omitempty"`
	Remaining         *int64             `json:"remaining,omitempty"`
	Key               string             `json:"key,omitempty"`

	LastUsedIP string `json:"last_used_ip,omitempty"` // the client address of the last recorded use; left out when unknown
	// RefillAmount and RefillInterval are the quota's refill: Remaining is
	// reset to RefillAmount every RefillInterval seconds; left out when the
	// key's quota does not refill. LastRefillAt is the last reset.
	RefillAmount   int64      `json:"refill_amount,omitempty"`
	RefillInterval int64      `json:"refill_interval_seconds,omitempty"`
	LastRefillAt   *time.Time `json:"last_refill_at,omitempty"`
	// ParentID is the key that created this one (delegation); left out for
	// a key created by a person.
	ParentID string `json:"parent_id,omitempty"`

	AllowedIPs []string `json:"allowed_ips"` // the ranges the key may be used from; []: anywhere
	// Resources limits the key to records per resource; {}: every record
	// its owner can reach.
	Resources policy.Resources `json:"resources"`
}

func (kc *Keycap) toJSON(k *keys.Key, now time.Time) keyJSON {
	perms := k.Permissions
	if perms == nil {
		perms = policy.Permissions{}
	}
	j := keyJSON{
		ID: k.ID, Name: k.Name, Description: k.Description, Hint: k.Hint, Prefix: k.Prefix, OwnerID: k.OwnerID,
		Permissions: perms, Status: kc.status(k, now), CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
		ExpiresAt: timePtr(k.ExpiresAt), LastUsedAt: timePtr(k.LastUsedAt), RevokedAt: timePtr(k.RevokedAt),
		RevokedBy: actorJSON(k.RevokedBy), RevokedByKind: k.RevokedBy.Kind, RevokedReason: k.RevokedReason,
		CreatedBy: actorJSON(k.CreatedBy), CreatedByKind: k.CreatedBy.Kind, Remaining: k.Remaining,
		AllowedIPs: rangesJSON(k.AllowedIPs), ChangedBy: actorJSON(k.ChangedBy), ChangedByKind: k.ChangedBy.Kind,
		Kind: k.Kind, Metadata: k.Metadata, Resources: k.Resources, LastUsedIP: k.LastUsedIP,
	}
	if k.RefillAmount > 0 && k.RefillInterval > 0 {
		j.RefillAmount, j.RefillInterval = k.RefillAmount, int64(k.RefillInterval/time.Second)
		j.LastRefillAt = timePtr(k.LastRefillAt)
	}
	if n := len(k.Ancestors); n > 0 {
		j.ParentID = k.Ancestors[n-1]
	}
	if j.Resources == nil {
		j.Resources = policy.Resources{}
	}
	if k.PreviousHash != nil && now.Before(k.PreviousExpiresAt) {
		j.PreviousExpiresAt = timePtr(k.PreviousExpiresAt)
	}
	return j
}

// actorJSON is how an actor reads in answers: a user's id as it is, any
// other actor as "kind:id" ("key:<id>" for a key). A user id may itself
// look like "key:<id>": the *_kind field beside it says which it is.
func actorJSON(a audit.Actor) string {
	if a.Kind == audit.KindUser {
		return a.ID
	}
	return a.String()
}

// status is what verification would say of k at now: revoked, disabled,
// expired (by its own expiry, or the policy's current maximum lifetime
// counted from creation), or active.
func (kc *Keycap) status(k *keys.Key, now time.Time) string {
	maxAge := kc.manager.Policy().MaxLifetime(k.Permissions)
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case k.Disabled:
		return "disabled"
	case k.IsExpired(now), maxAge > 0 && !now.Before(k.CreatedAt.Add(maxAge)):
		return "expired"
	}
	return "active"
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// writeJSON writes v with status. Answers about keys are never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func sortStrings(s []string) { sort.Strings(s) }
