package sqlstore_test

import (
	"testing"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/keys/storetest"
	"github.com/stretchr/testify/require"
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

// TestConformanceUnbatched runs the Store contract with MaxBatch 1, every
// lookup a statement of its own (the same query on every dialect), on
// SQLite files.
func TestConformanceUnbatched(t *testing.T) {
	for _, d := range dialects[:1] {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			storetest.Run(t, func(t *testing.T) keys.Store {
				if d.dialect == sqlstore.SQLite {
					db = d.open(t)
				}
				prefix := randomName() + "_"
				s, err := sqlstore.New(db, d.dialect, sqlstore.Options{TablePrefix: prefix, MaxBatch: 1})
				require.NoError(t, err)
				require.NoError(t, s.Migrate(t.Context()))
				t.Cleanup(func() { dropTables(t, db, prefix) })
				return s
			})
		})
	}
}
