package keys

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Errors returned by this package. Verification failures that a client
// must not tell apart (unknown id, wrong secret, revoked) all wrap
// [ErrInvalid]; the specific sentinel is there for logs and audits.
var (
	ErrMalformed        = errors.New("keys: malformed key")                        // bad form or checksum; no storage was asked
	ErrInvalid          = errors.New("keys: invalid key")                          // unknown, wrong secret, revoked, disabled or owner gone
	errRevoked          = fmt.Errorf("%w: revoked", ErrInvalid)                    // the key was revoked
	errDisabled         = fmt.Errorf("%w: disabled", ErrInvalid)                   // the key was disabled
	errOwnerGone        = fmt.Errorf("%w: owner unknown or disabled", ErrInvalid)  // the owner no longer exists or is disabled
	ErrExpired          = errors.New("keys: key expired")                          // past its expiry or the policy's lifetime
	ErrDisabledByAdmin  = errors.New("keys: key was disabled by an administrator") // the owner may not enable it
	ErrAlreadyRevoked   = errors.New("keys: key is revoked")                       // a revoked key cannot be changed
	ErrAlreadyExpired   = errors.New("keys: key has expired")                      // an expired key cannot be changed
	ErrNotFound         = errors.New("keys: key not found")                        // no such key for this owner, or out of the caller's reach
	ErrConflict         = errors.New("keys: the key changed at the same time")     // a concurrent change won; decide again on fresh state
	ErrStoreUnavailable = errors.New("keys: store unavailable")                    // the store could not be asked

	// ErrAdminChange refuses a change to another user's key other than
	// disabling, enabling or revoking it: admins stop keys, they do not
	// shape them, nor take a secret that acts as their owner (rotation).
	ErrAdminChange = errors.New("keys: only the owner may create, rename or rotate a key or change its permissions or expiry")
	// ErrPreviousSecret refuses key management to a key presented with its
	// previous secret (in a rotation's grace period): a secret on its way
	// out may still call the API but may not mint, change, rotate or revoke
	// keys, so a leaked old secret cannot lock out the new one.
	ErrPreviousSecret = errors.New("keys: a key's previous secret cannot manage keys; use the new secret")
	// ErrIPNotAllowed refuses a key presented from a client address
	// outside its allow-list ([Key].AllowedIPs, or an ancestor's), or from
	// an unknown address. Unlike [ErrInvalid] it is only returned once the
	// key's secret matched: whoever sees it holds the key.
	ErrIPNotAllowed = errors.New("keys: the key may not be used from this address")
)

// FieldError reports a field of a request that is not acceptable, such as
// an empty name.
type FieldError struct {
	Field  string // the JSON name: "name", "expires_in", "grace_seconds"
	Reason string // what to change
}

// Error returns "keys: <field>: <reason>".
func (e *FieldError) Error() string { return "keys: " + e.Field + ": " + e.Reason }

// DelegationError reports a key-authenticated request asking for something
// beyond the calling key: a later expiry than the key's own, a key created
// through more than 8 keys, or a key of another owner.
type DelegationError struct {
	Reason    string    // what went beyond the calling key and what to do, for humans
	ExpiresAt time.Time // the calling key's expiry, when that is the bound; else zero
	MaxDepth  int       // the most keys a key may be created through (8), when that is the bound; else 0
}

// Error returns "keys: delegation: <reason>".
func (e *DelegationError) Error() string { return "keys: delegation: " + e.Reason }

// KeyLimitError reports that the owner already has as many live keys as
// the policy allows ([policy.Config].MaxKeys).
type KeyLimitError struct {
	Limit int // the live keys (neither revoked nor expired) an owner may hold
}

// Error returns a sentence naming Limit.
func (e *KeyLimitError) Error() string {
	return "keys: the owner already has " + strconv.Itoa(e.Limit) + " live keys, the most allowed"
}
