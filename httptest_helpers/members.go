package keycaptest

import (
	"context"
	"sync"

	"github.com/keycaphq/keycap/policy"
)

// Members is an in-memory, mutable directory of organization members and
// their rights, for [policy.Config].Members, so tests can add, demote and
// remove members between requests. The zero Members is empty and ready to
// use; it must not be copied after first use. Safe for concurrent use.
type Members struct {
	mu     sync.RWMutex
	rights map[string]map[string]policy.Permissions // org, user
}

// Set gives user rights in org (replacing any), making them a member.
func (m *Members) Set(org, user string, rights policy.Permissions) {
	m.mu.Lock()
	if m.rights == nil {
		m.rights = map[string]map[string]policy.Permissions{}
	}
	if m.rights[org] == nil {
		m.rights[org] = map[string]policy.Permissions{}
	}
	m.rights[org][user] = rights.Clone()
	m.mu.Unlock()
}

// Remove makes user no longer a member of org.
func (m *Members) Remove(org, user string) {
	m.mu.Lock()
	delete(m.rights[org], user)
	m.mu.Unlock()
}

// Rights implements [policy.Config].Members: a user who is not a member
// is [policy.ErrNotMember].
func (m *Members) Rights(_ context.Context, org policy.Subject, user string) (policy.Permissions, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.rights[org.ID][user]
	if !ok {
		return nil, policy.ErrNotMember
	}
	return r.Clone(), nil
}
