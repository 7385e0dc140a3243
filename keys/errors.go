package keys

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by this package. Verification failures that a client
// must not tell apart (unknown id, wrong secret, revoked) all wrap
// [ErrInvalid]; the specific sentinel is there for logs and audits.
var (
	ErrMalformed        = errors.New("keys: malformed key")                        // bad form or checksum; no storage was asked
	ErrInvalid          = errors.New("keys: invalid key")                          // unknown, wrong secret, revoked, disabled or owner gone
	ErrRevoked          = fmt.Errorf("%w: revoked", ErrInvalid)                    // the key was revoked
	ErrDisabled         = fmt.Errorf("%w: disabled", ErrInvalid)                   // the key was disabled by an admin
	ErrOwnerGone        = fmt.Errorf("%w: owner unknown or disabled", ErrInvalid)  // the owner no longer exists or is disabled
	ErrExpired          = errors.New("keys: key expired")                          // past its expiry or the policy's lifetime
	ErrDisabledByAdmin  = errors.New("keys: key was disabled by an administrator") // the owner may not enable it
	ErrAlreadyRevoked   = errors.New("keys: key is revoked")                       // a revoked key cannot be changed
	ErrNotFound         = errors.New("keys: key not found")                        // no such key for this owner
	ErrConflict         = errors.New("keys: id or hash already exists")            // returned by Store.Create
	ErrStoreUnavailable = errors.New("keys: store unavailable")                    // the store could not be asked
	ErrUnknownSubject   = errors.New("keys: unknown subject")                      // returned by a Subjects for a deleted user
)

// FieldError reports a field of a request that is not acceptable, such as
// an empty name.
type FieldError struct {
	Field  string // the JSON name: "name", "expires_in", "grace_seconds"
	Reason string // what to change
}

func (e *FieldError) Error() string { return "keys: " + e.Field + ": " + e.Reason }

// DelegationError reports a key-authenticated request asking for something
// beyond the calling key: a later expiry than the key's own.
type DelegationError struct {
	Reason    string
	ExpiresAt time.Time // the calling key's expiry
}

func (e *DelegationError) Error() string { return "keys: delegation: " + e.Reason }
