package sqlstore_test

import (
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/storetest"
)

// TestConformance runs the Store contract against every dialect, each
// subtest on fresh tables (SQLite: a fresh database).
func TestConformance(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			if d.dialect != "sqlite" {
				db := d.open(t) // shared by the subtests, each with its own tables
				storetest.Run(t, func(t *testing.T) keys.Store { return newStore(t, db, d.dialect) })
				return
			}
			storetest.Run(t, func(t *testing.T) keys.Store { return newStore(t, d.open(t), d.dialect) })
		})
	}
}
