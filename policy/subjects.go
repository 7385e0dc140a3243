package policy

import (
	"context"
	"errors"
)

// Subjects tells keycap who a subject (a key's owner, a logged-in user) is
// now: their roles, attributes and whether they are disabled. keys.Manager
// calls it at creation and at every verification, so it should be fast (an
// in-memory lookup or a cached query); it must be safe for concurrent use.
// Return [ErrUnknownSubject] for a subject that no longer exists: their
// keys are then refused.
type Subjects interface {
	// Subject returns the subject with id as it is now. Return
	// [ErrUnknownSubject] (or an error wrapping it) when there is no such
	// subject; any other error is passed on to the caller, and a key
	// verified while it happens is refused.
	Subject(ctx context.Context, id string) (Subject, error)
}

// SubjectsFunc adapts a function to [Subjects].
type SubjectsFunc func(ctx context.Context, id string) (Subject, error)

// Subject calls f.
func (f SubjectsFunc) Subject(ctx context.Context, id string) (Subject, error) { return f(ctx, id) }

// ErrUnknownSubject is what a [Subjects] returns for a subject that does
// not exist (a deleted user): their keys are refused, and they may not
// manage keys.
var ErrUnknownSubject = errors.New("policy: unknown subject")
