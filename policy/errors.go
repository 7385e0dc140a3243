package policy

import (
	"errors"
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

// ErrEmpty is wrapped by the [*InvalidError] that [Policy.Grant] returns when
// the permissions to store would be empty.
var ErrEmpty = errors.New("policy: no permissions")

func pathIndex(i int) string { return "[" + strconv.Itoa(i) + "]" }
