package sqlstore_test

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// TestListScale stores 10,000 keys for one owner (and 1,000 for another)
// and shows that a page deep in the list costs what the first page does:
// the query plan walks the (owner_id, id) index backwards from the cursor,
// with no sort and no scan of the rows before it. Timings are logged, not
// asserted.
func TestListScale(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 11,000 rows per database")
	}
	const total, limit, deep = 10_000, 50 + 1, 9_000
	for _, d := range dialects {
		if d.name == "SQLiteMemory" {
			continue
		}
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			s := newStore(t, db, d.dialect)

			start := time.Now()
			ids := load(t, db, s, "owner-big", total) // newest first
			load(t, db, s, "owner-other", 1_000)
			t.Logf("inserted %d keys in one transaction: %v", total+1_000, time.Since(start).Round(time.Millisecond))
			analyze(t, db, d.dialect, s.TablePrefix()+"keys")

			first, err := s.List(t.Context(), "owner-big", keys.Page{Limit: limit})
			require.NoError(t, err)
			require.Equal(t, ids[:limit], idsOf(first))
			cursor := ids[deep-1]
			page, err := s.List(t.Context(), "owner-big", keys.Page{Before: cursor, Limit: limit})
			require.NoError(t, err)
			require.Equal(t, ids[deep:deep+limit], idsOf(page))

			requireIndexPlan(t, db, s, cursor, limit)
			requireWithinPlan(t, db, s, cursor, ids[deep+5], limit)
			t.Logf("List, median of 20: first page %v, page after %d keys %v",
				medianList(t, s, keys.Page{Limit: limit}), deep, medianList(t, s, keys.Page{Before: cursor, Limit: limit}))
		})
	}
}

// load stores n keys of owner in one transaction and returns their ids,
// newest first.
func load(t *testing.T, db *sql.DB, s *sqlstore.Store, owner string, n int) []string {
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	defer tx.Rollback()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, n)
	for i := range n {
		k := testKey(t, owner)
		k.ID = keyforge.ID(base.Add(time.Duration(i) * time.Millisecond))
		k.Permissions = policy.Permissions{"invoices": {"read", "write"}}
		require.NoError(t, s.CreateTx(t.Context(), tx, k))
		ids[n-1-i] = k.ID
	}
	require.NoError(t, tx.Commit())
	return ids
}

func idsOf(list []*keys.Key) []string {
	out := make([]string, len(list))
	for i, k := range list {
		out[i] = k.ID
	}
	return out
}

func analyze(t *testing.T, db *sql.DB, d sqlstore.Dialect, table string) {
	query := map[sqlstore.Dialect]string{sqlstore.SQLite: "ANALYZE", sqlstore.Postgres: "ANALYZE " + table, sqlstore.MySQL: "ANALYZE TABLE " + table}[d]
	rows, err := db.QueryContext(t.Context(), query) // MySQL answers with a result set
	require.NoError(t, err)
	require.NoError(t, rows.Close())
}

func medianList(t *testing.T, s *sqlstore.Store, page keys.Page) time.Duration {
	times := make([]time.Duration, 20)
	for i := range times {
		start := time.Now()
		_, err := s.List(t.Context(), "owner-big", page)
		require.NoError(t, err)
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[len(times)/2].Round(time.Microsecond)
}
