package keys

import (
	"context"

	"github.com/keycaphq/keycap/policy"
)

// Subjects tells a [Manager] who a key's owner is now: their roles,
// attributes and whether they are disabled. It is called at creation and at
// every verification, so it should be fast (an in-memory lookup or a cached
// query). Return [ErrUnknownSubject] for a user that no longer exists: their
// keys are then refused.
type Subjects interface {
	Subject(ctx context.Context, id string) (policy.Subject, error)
}

// SubjectsFunc adapts a function to [Subjects].
type SubjectsFunc func(ctx context.Context, id string) (policy.Subject, error)

// Subject calls f.
func (f SubjectsFunc) Subject(ctx context.Context, id string) (policy.Subject, error) {
	return f(ctx, id)
}
