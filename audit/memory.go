package audit

import (
	"context"
	"sync"
)

// Memory keeps the latest events in memory, per owner: a [Log] for tests
// and single-process apps; they are lost when the process exits. Create it with [NewMemory]; it is
// safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	perUser int
	events  map[string][]Event // owner → oldest first, at most perUser
}

// NewMemory returns a Memory keeping up to perOwner events per owner
// (0 means 100).
func NewMemory(perOwner int) *Memory {
	if perOwner <= 0 {
		perOwner = 100
	}
	return &Memory{perUser: perOwner, events: map[string][]Event{}}
}

// Audit implements [Auditor]. Events with no owner (a malformed key
// presented by an anonymous client) are not kept.
func (m *Memory) Audit(_ context.Context, e Event) {
	if e.OwnerID == "" {
		return
	}
	m.mu.Lock()
	list := append(m.events[e.OwnerID], e)
	if len(list) > m.perUser {
		list = append([]Event(nil), list[len(list)-m.perUser:]...)
	}
	m.events[e.OwnerID] = list
	m.mu.Unlock()
}

// Events implements [Log]: the latest events of owner, newest first, up
// to limit (which must not be negative).
func (m *Memory) Events(_ context.Context, owner string, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.events[owner]
	out := make([]Event, 0, min(limit, len(list)))
	for i := len(list) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, list[i])
	}
	return out, nil
}
