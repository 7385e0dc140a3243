package keys

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by this package. Verification failures that a client
// must not tell apart (malformed, unknown id, wrong secret, revoked) all
// wrap [ErrInvalid]; the text says which, for logs and operators, and
// [audit.Verification].Outcome names it for observers.
var (
	ErrInvalid          = errors.New("keys: invalid key")                            // malformed, unknown, wrong secret, revoked, disabled or owner gone
	errMalformed        = fmt.Errorf("%w: malformed (form or checksum)", ErrInvalid) // no storage was asked
	errRevoked          = fmt.Errorf("%w: revoked", ErrInvalid)                      // the key was revoked
	errDisabled         = fmt.Errorf("%w: disabled", ErrInvalid)                     // the key was disabled
	errOwnerGone        = fmt.Errorf("%w: owner unknown or disabled", ErrInvalid)    // the owner no longer exists or is disabled
	ErrExpired          = errors.New("keys: key expired")                            // past its expiry or the policy's lifetime
	ErrAlreadyRevoked   = errors.New("keys: key is revoked")                         // a revoked key cannot be changed
	ErrAlreadyExpired   = errors.New("keys: key has expired")                        // an expired key cannot be changed
	ErrNotFound         = errors.New("keys: key not found")                          // no such key for this owner, or out of the caller's reach
	ErrConflict         = errors.New("keys: the key changed at the same time")       // a concurrent change won; decide again on fresh state
	ErrStoreUnavailable = errors.New("keys: store unavailable")                      // the store could not be asked

	// ErrAdminChange refuses a change that crosses the line between a
	// key's owner and an administrator of it: an admin may disable, enable
	// or revoke another user's key but not shape it, nor take a secret
	// that acts as its owner (rotation); and an owner may not change or
	// enable a key an administrator disabled (the error then says so).
	ErrAdminChange = errors.New("keys: admins may only disable, enable or revoke another user's key; its owner renames or rotates it and changes its permissions or expiry")
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
// through more than 8 keys, a key of another owner, or any key management
// by a key presented with its previous secret.
type DelegationError struct {
	Reason    string    // what went beyond the calling key and what to do, for humans
	ExpiresAt time.Time // the calling key's expiry, when that is the bound; else zero
	MaxDepth  int       // the most keys a key may be created through (8), when that is the bound; else 0
	// PreviousSecret marks a key presented with its previous secret (in a
	// rotation's grace period): a secret on its way out may still call the
	// API but may not mint, change, rotate or revoke keys, so a leaked old
	// secret cannot lock out the new one.
	PreviousSecret bool
}

// Error returns "keys: delegation: <reason>".
func (e *DelegationError) Error() string { return "keys: delegation: " + e.Reason }

// errDisabledByAdmin refuses the owner's side a change of a key an
// administrator disabled: the admin's decision holds. It is an
// [ErrAdminChange] with its own words.
var errDisabledByAdmin error = disabledByAdmin{}

type disabledByAdmin struct{}

func (disabledByAdmin) Error() string {
	return "keys: an administrator disabled this key; ask them to enable it"
}

func (disabledByAdmin) Is(target error) bool { return target == ErrAdminChange }
