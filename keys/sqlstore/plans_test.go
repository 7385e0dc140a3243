package sqlstore_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

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

// requireWithinPlan checks that a page confined to a key (Page.Within)
// walks the same index, with no sort: the confinement is a filter.
func requireWithinPlan(t *testing.T, db *sql.DB, s *sqlstore.Store, cursor, within string, limit int) {
	index := s.TablePrefix() + "keys_owner_id_id"
	query, args := s.ListWithinQuery(), []any{"owner-big", cursor, within, within, limit}
	switch s.Dialect() {
	case sqlstore.SQLite:
		plan := strings.Join(column(t, db, "detail", "EXPLAIN QUERY PLAN "+query, args...), "\n")
		t.Logf("within plan: %s", plan)
		require.Contains(t, plan, "INDEX "+index)
		require.NotContains(t, plan, "TEMP B-TREE", "no sort")
	case sqlstore.Postgres:
		var out string
		require.NoError(t, db.QueryRowContext(t.Context(), "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&out))
		var plans []struct{ Plan pgPlan }
		require.NoError(t, json.Unmarshal([]byte(out), &plans))
		// For a filter it expects to be selective, the planner may collect
		// the rows in a bitmap from an index (the owner's, or the primary
		// key's range below the cursor) and sort the few that match, or walk
		// the owner's index backwards: an index bounds the rows read, never
		// a scan of the table.
		require.NotNil(t, plans[0].Plan.find(func(p pgPlan) bool { return p.IndexName != "" }), out)
		require.Nil(t, plans[0].Plan.find(func(p pgPlan) bool { return p.NodeType == "Seq Scan" }), out)
	case sqlstore.MySQL:
		key, extra := column(t, db, "key", "EXPLAIN "+query, args...), column(t, db, "Extra", "EXPLAIN "+query, args...)
		t.Logf("within plan: %v, extra %v", key, extra)
		require.Equal(t, []string{index}, key)
		require.NotContains(t, strings.Join(extra, " "), "filesort", "no sort")
	}
	list, err := s.List(t.Context(), "owner-big", keys.Page{Before: cursor, Within: within, Limit: limit})
	require.NoError(t, err)
	require.Equal(t, []string{within}, idsOf(list))
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
