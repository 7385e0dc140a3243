package middleware

import (
	"net/http"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// With Options.AllowDelegation, a key-authenticated request may not obtain
// or restore more than the calling key holds. The Manager bounds what a
// key creates or updates; these close the two ways around it.

// rotateWithinCaller refuses a key-authenticated rotation of a key that
// expires after the calling key: rotation hands the caller the new secret,
// so it must not yield a key that outlives the caller, as creation may not.
func (kc *Keycap) rotateWithinCaller(r *http.Request, p Principal) error {
	if p.Key == nil || p.Key.Key.ExpiresAt.IsZero() {
		return nil
	}
	limit := p.Key.Key.ExpiresAt
	k, err := kc.manager.Get(r.Context(), p.OwnerID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if k.ExpiresAt.IsZero() || k.ExpiresAt.After(limit) {
		return &keys.DelegationError{Reason: "a key may not rotate a key that expires after it", ExpiresAt: limit}
	}
	return nil
}

// enableWithinCaller refuses a key-authenticated request turning back on a
// disabled key that holds more than the calling key or outlives it (unless
// the same request also sets its permissions or expiry, which the Manager
// bounds by the caller): enabling gives the key its power back.
func enableWithinCaller(target *keys.Key, keepsPermissions, keepsExpiry bool, caller *keys.Verified) error {
	if keepsPermissions {
		if excess := policy.Excess(target.Permissions, caller.Permissions); !excess.IsEmpty() {
			return &policy.ExceedsError{Exceeded: excess, Maximum: caller.Permissions.Clone()}
		}
	}
	limit := caller.Key.ExpiresAt
	if keepsExpiry && !limit.IsZero() && (target.ExpiresAt.IsZero() || target.ExpiresAt.After(limit)) {
		return &keys.DelegationError{Reason: "a key may not enable a key that expires after it", ExpiresAt: limit}
	}
	return nil
}
