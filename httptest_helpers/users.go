package keycaptest

import (
	"context"
	"sync"

	"github.com/keycaphq/keycap/policy"
)

// Users is an in-memory, mutable user directory implementing
// [policy.Subjects], so tests can demote, disable or delete users between
// requests. The zero Users is an empty directory, ready to use; it must
// not be copied after first use. Safe for concurrent use.
type Users struct {
	mu    sync.RWMutex
	users map[string]policy.Subject
}

// NewUsers returns an empty directory, as the zero Users is.
func NewUsers() *Users { return &Users{users: map[string]policy.Subject{}} }

// Set adds or replaces user id with roles (none: no roles), enabled.
func (u *Users) Set(id string, roles ...string) {
	u.Put(policy.Subject{ID: id, Roles: roles})
}

// Put adds or replaces s, under s.ID.
func (u *Users) Put(s policy.Subject) {
	u.mu.Lock()
	if u.users == nil {
		u.users = map[string]policy.Subject{}
	}
	u.users[s.ID] = s
	u.mu.Unlock()
}

// Disable marks user id disabled (or enabled again). An unknown id stays
// unknown: disabling it does not create a user.
func (u *Users) Disable(id string, disabled bool) {
	u.mu.Lock()
	if s, ok := u.users[id]; ok {
		s.Disabled = disabled
		u.users[id] = s
	}
	u.mu.Unlock()
}

// Delete removes user id; an unknown id is ignored.
func (u *Users) Delete(id string) {
	u.mu.Lock()
	delete(u.users, id)
	u.mu.Unlock()
}

// Subject implements [policy.Subjects]: an unknown id is
// [policy.ErrUnknownSubject].
func (u *Users) Subject(_ context.Context, id string) (policy.Subject, error) {
	u.mu.RLock()
	s, ok := u.users[id]
	u.mu.RUnlock()
	if !ok {
		return policy.Subject{}, policy.ErrUnknownSubject
	}
	return s, nil
}
