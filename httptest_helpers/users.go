package keycaptest

import (
	"context"
	"sync"

	"github.com/keycaphq/keycap/policy"
)

// Users is an in-memory, mutable user directory implementing
// [policy.Subjects], so tests can demote, disable or delete users between
// requests. Safe for concurrent use.
type Users struct {
	mu    sync.RWMutex
	users map[string]policy.Subject
}

// NewUsers returns an empty directory.
func NewUsers() *Users { return &Users{users: map[string]policy.Subject{}} }

// Set adds or replaces user id with roles.
func (u *Users) Set(id string, roles ...string) {
	u.Put(policy.Subject{ID: id, Roles: roles})
}

// Put adds or replaces a subject.
func (u *Users) Put(s policy.Subject) {
	u.mu.Lock()
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

// Delete removes user id.
func (u *Users) Delete(id string) {
	u.mu.Lock()
	delete(u.users, id)
	u.mu.Unlock()
}

// Subject implements [policy.Subjects].
func (u *Users) Subject(_ context.Context, id string) (policy.Subject, error) {
	u.mu.RLock()
	s, ok := u.users[id]
	u.mu.RUnlock()
	if !ok {
		return policy.Subject{}, policy.ErrUnknownSubject
	}
	return s, nil
}
