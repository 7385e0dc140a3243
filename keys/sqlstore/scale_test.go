package sqlstore_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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
	const total, limit, deep = 10_000, keys.DefaultPageLimit + 1, 9_000
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
		k.ID, err = keys.NewID(base.Add(time.Duration(i) * time.Millisecond))
		require.NoError(t, err)
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

// requireIndexPlan checks the plan of a page after cursor: a backward walk
// of the (owner_id, id) index, no sort. On Postgres it also runs the query
// and checks that it read no more rows than the page holds.
func requireIndexPlan(t *testing.T, db *sql.DB, s *sqlstore.Store, cursor string, limit int) {
	index := s.TablePrefix() + "keys_owner_id_id"
	query := s.ListQuery()
	switch s.Dialect() {
	case sqlstore.SQLite:
		plan := strings.Join(column(t, db, "detail", "EXPLAIN QUERY PLAN "+query, "owner-big", cursor, limit), "\n")
		t.Logf("plan: %s", plan)
		require.Contains(t, plan, "INDEX "+index+" (owner_id=? AND id<?)")
		require.NotContains(t, plan, "TEMP B-TREE", "no sort")
	case sqlstore.Postgres:
		var out string
		require.NoError(t, db.QueryRowContext(t.Context(), "EXPLAIN (ANALYZE, FORMAT JSON) "+query, "owner-big", cursor, limit).Scan(&out))
		var plans []struct{ Plan pgPlan }
		require.NoError(t, json.Unmarshal([]byte(out), &plans))
		scan := plans[0].Plan.find(func(p pgPlan) bool { return p.IndexName != "" })
		require.NotNil(t, scan, "no index scan in %s", out)
		t.Logf("plan: %s %s using %s, %d rows read", scan.NodeType, scan.ScanDirection, scan.IndexName, scan.ActualRows)
		// The planner may walk the primary key instead when this owner's ids
		// are contiguous (ids increase with time, and the test loads one
		// owner after the other); what matters is that the scan is bounded
		// by the cursor and reads no more rows than the page.
		require.Contains(t, []string{index, s.TablePrefix() + "keys_pkey"}, scan.IndexName)
		require.Equal(t, "Backward", scan.ScanDirection)
		require.LessOrEqual(t, scan.ActualRows, limit, "rows read")
		require.Nil(t, plans[0].Plan.find(func(p pgPlan) bool { return p.NodeType == "Sort" || p.NodeType == "Seq Scan" }), out)
	case sqlstore.MySQL:
		explain := func(name string) []string {
			return column(t, db, name, "EXPLAIN "+query, "owner-big", cursor, limit)
		}
		key, access, extra := explain("key"), explain("type"), explain("Extra")
		t.Logf("plan: %v on %v, extra %v", access, key, extra)
		require.Equal(t, []string{index}, key)
		require.Equal(t, []string{"range"}, access, "bounded by the cursor")
		require.NotContains(t, strings.Join(extra, " "), "filesort", "no sort")
		var version string
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT VERSION()").Scan(&version))
		if strings.Contains(version, "MariaDB") {
			var out string
			require.NoError(t, db.QueryRowContext(t.Context(), "ANALYZE FORMAT=JSON "+query, "owner-big", cursor, limit).Scan(&out))
			var analyzed struct {
				QueryBlock struct {
					NestedLoop []struct {
						Table struct {
							Rows float64 `json:"r_rows"`
						} `json:"table"`
					} `json:"nested_loop"`
				} `json:"query_block"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &analyzed))
			require.Len(t, analyzed.QueryBlock.NestedLoop, 1, out)
			read := analyzed.QueryBlock.NestedLoop[0].Table.Rows
			t.Logf("rows read: %v", read)
			require.LessOrEqual(t, read, float64(limit), "rows read")
		}
	}
}

type pgPlan struct {
	NodeType      string   `json:"Node Type"`
	IndexName     string   `json:"Index Name"`
	ScanDirection string   `json:"Scan Direction"`
	ActualRows    int      `json:"Actual Rows"`
	Plans         []pgPlan `json:"Plans"`
}

func (p pgPlan) find(match func(pgPlan) bool) *pgPlan {
	if match(p) {
		return &p
	}
	for _, c := range p.Plans {
		if f := c.find(match); f != nil {
			return f
		}
	}
	return nil
}

// column runs query and returns the named column of every row as text.
func column(t *testing.T, db *sql.DB, name, query string, args ...any) []string {
	rows, err := db.QueryContext(t.Context(), query, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	i := slices.Index(cols, name)
	require.GreaterOrEqual(t, i, 0, "no column %s in %v", name, cols)
	var out []string
	for rows.Next() {
		values := make([]any, len(cols))
		dest := make([]any, len(cols))
		for j := range values {
			dest[j] = &values[j]
		}
		require.NoError(t, rows.Scan(dest...))
		out = append(out, fmt.Sprintf("%s", values[i]))
	}
	require.NoError(t, rows.Err())
	return out
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
