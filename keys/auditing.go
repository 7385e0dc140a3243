package keys

import (
	"context"

	"github.com/keycaphq/keycap/audit"
)

// audit hands e to the Manager's Auditor, if any.
func (m *Manager) audit(ctx context.Context, e audit.Event) {
	if m.auditor != nil {
		m.auditor.Audit(ctx, e)
	}
}

// actsFor reports whether a acts on the owner's side for a key of owner:
// the owner, one of the owner's keys (keys act only for their own owner),
// keycap itself, or nobody recorded. An admin or an operator does not.
func actsFor(a audit.Actor, owner string) bool {
	switch a.Kind {
	case "", audit.KindKey, audit.KindSystem:
		return true
	case audit.KindUser:
		return a.ID == owner
	}
	return false
}
