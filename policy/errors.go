package policy

import (
	"errors"
	"fmt"
	"strconv"
)

// InvalidError reports permissions that break the grammar: a name that is
// too long or has a character outside [a-z0-9_.-], too many resources or
// actions, a "*" ([Star]) the policy does not declare, or permissions sent
// where the policy does not let clients choose them.
type InvalidError struct {
	Path   string // where: "files", "files[2]", or "permissions" for the whole set
	Reason string // what to change, for humans
	Err    error  // a sentinel such as [ErrEmpty], or nil
}

// Error returns "invalid permissions at <path>: <reason>".
func (e *InvalidError) Error() string {
	return "invalid permissions at " + e.Path + ": " + e.Reason
}

// Unwrap returns Err.
func (e *InvalidError) Unwrap() error { return e.Err }

// ExceedsError reports requested permissions beyond the cap. Both fields
// are normalized and the error's own: the caller may keep and change them.
type ExceedsError struct {
	Exceeded Permissions // exactly the requested part beyond Maximum; never empty
	Maximum  Permissions // the cap that applied: what may be granted (may be empty)
	// Bounds names the bounds the request went beyond, for a key of an
	// organization: "organization" (its cap) and/or "user" (the rights in
	// it of the member creating or changing the key). nil otherwise.
	Bounds []string
}

// Error names the exceeded permissions, "resource:action" separated by
// spaces.
func (e *ExceedsError) Error() string {
	return "requested permissions exceed the maximum: " + e.Exceeded.String()
}

// ErrSubjectDisabled is returned by [Policy.Cap] and [Policy.Grant] for a
// disabled subject: a disabled user may grant nothing, and their keys work
// for nothing.
var ErrSubjectDisabled = errors.New("policy: subject is disabled")

// ErrNotMember is what [Config].Members returns for a user who is not a
// member of the organization; [Policy.MemberRights] returns it also for a
// subject that is not an organization, or when no Members is configured.
var ErrNotMember = errors.New("policy: not a member of the organization")

// ErrOrganizationDisabled is what [Policy.MemberRights] returns to a member of a
// disabled organization; it wraps [ErrSubjectDisabled].
var ErrOrganizationDisabled = fmt.Errorf("%w: the organization", ErrSubjectDisabled)

// ErrEmpty is wrapped by the [*InvalidError] that [Policy.Grant] returns when
// the permissions to store would be empty.
var ErrEmpty = errors.New("policy: no permissions")

func pathIndex(i int) string { return "[" + strconv.Itoa(i) + "]" }

// ManageError refuses a member of an organization who may not manage its
// keys: their rights in it ([Config].Members) lack [Config].ManageKeys.
type ManageError struct {
	Owner      string // the organization
	Permission string // the permission a member needs: [Config].ManageKeys
}

// Error names the organization and the permission.
func (e *ManageError) Error() string {
	return "policy: managing the keys of " + e.Owner + " needs " + e.Permission + " in it"
}

// KeyLimitError reports that an owner already holds as many live keys
// (neither revoked nor expired) as the policy allows ([Config].MaxKeys):
// a Store refuses the key it would create over the limit with it, exactly
// under any concurrency.
type KeyLimitError struct {
	Limit int // the live keys an owner may hold
}

// Error returns a sentence naming Limit.
func (e *KeyLimitError) Error() string {
	return "policy: the owner already has " + strconv.Itoa(e.Limit) + " live keys, the most allowed"
}
