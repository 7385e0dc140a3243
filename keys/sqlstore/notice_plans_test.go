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

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// TestNoticePlans stores 20,000 keys in the states a long-lived app
// accumulates (most used today, many revoked, disabled or expired long
// ago, a few due) and checks that each type of due notice is one query
// that reads the keys table through an index, never by a scan of it, on
// every dialect. Timings are logged, not asserted.
func TestNoticePlans(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 rows per database")
	}
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	qs := []notify.Query{
		{Type: audit.Expiring, Lead: 72 * time.Hour, From: now.Add(24 * time.Hour), To: now.Add(72 * time.Hour)},
		{Type: audit.Expired, From: now.Add(-7 * 24 * time.Hour), To: now},
		{Type: audit.Stale, From: now.Add(-37 * 24 * time.Hour), To: now.Add(-30 * 24 * time.Hour)},
		{Type: notify.Unused, From: now.Add(-97 * 24 * time.Hour), To: now.Add(-90 * 24 * time.Hour)},
		{Type: audit.Revoked, From: now.Add(-7 * 24 * time.Hour), To: now},
		{Type: audit.Disabled, From: now.Add(-7 * 24 * time.Hour), To: now},
	}
	for _, d := range dialects {
		if d.name == "SQLiteMemory" {
			continue
		}
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			s := newStore(t, db, d.dialect)
			loadStates(t, db, s, now, 20_000)
			analyze(t, db, d.dialect, s.TablePrefix()+"keys")
			for _, q := range qs {
				q.Now, q.Lapsed, q.Limit = now, now.Add(-5*time.Minute), 100
				query, args, err := s.DueQuery(q)
				require.NoError(t, err)
				plan := requireKeysByIndex(t, db, s, query, args)
				start := time.Now()
				due, err := s.Due(t.Context(), q)
				require.NoError(t, err)
				t.Logf("%s: %d due in %v; %s", q.Type, len(due), time.Since(start).Round(time.Microsecond), plan)
				require.NotEmpty(t, due, "the load holds keys due for each type")
			}
		})
	}
}

// loadStates stores n keys in one transaction: 1 in 1,000 due for each
// type of notice (a Scheduler running every minute finds few), the rest
// spread over states that are not.
func loadStates(t *testing.T, db *sql.DB, s *sqlstore.Store, now time.Time, n int) {
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	defer tx.Rollback()
	ago := func(days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }
	for i := range n {
		k := testKey(t, fmt.Sprint("owner-", i%500))
		k.CreatedAt = ago(400 - i%300)
		k.ID, k.UpdatedAt, k.LastUsedAt = keyforge.ID(k.CreatedAt), k.CreatedAt, now.Add(-time.Duration(i%1440)*time.Minute)
		switch i % 1000 {
		case 0:
			k.ExpiresAt = now.Add(48 * time.Hour)
		case 1:
			k.ExpiresAt = ago(2)
		case 2:
			k.LastUsedAt = ago(33)
		case 3:
			k.LastUsedAt = ago(93)
		case 4:
			k.RevokedAt, k.RevokedBy = ago(1), audit.User("admin")
		case 5:
			k.Disabled, k.DisabledBy, k.DisabledAt = true, audit.User("admin"), ago(1)
		default:
			switch i % 10 {
			case 6, 7: // revoked by their owner long ago, unused since
				k.RevokedAt, k.RevokedBy, k.LastUsedAt = ago(200), audit.User(k.OwnerID), ago(200)
			case 8: // disabled long ago
				k.Disabled, k.DisabledBy, k.DisabledAt, k.LastUsedAt = true, audit.User(k.OwnerID), ago(150), ago(150)
			case 9: // expired long ago
				k.ExpiresAt, k.LastUsedAt = ago(100), ago(100)
			default: // in use, expiring in months
				k.ExpiresAt = now.Add(time.Duration(30+i%300) * 24 * time.Hour)
			}
		}
		require.NoError(t, s.CreateTx(t.Context(), tx, k))
	}
	require.NoError(t, tx.Commit())
}

// requireKeysByIndex checks that query reads the keys table through an
// index, and returns the plan in a line.
func requireKeysByIndex(t *testing.T, db *sql.DB, s *sqlstore.Store, query string, args []any) string {
	table := s.TablePrefix() + "keys"
	switch s.Dialect() {
	case sqlstore.SQLite:
		plan := column(t, db, "detail", "EXPLAIN QUERY PLAN "+query, args...)
		require.NotContains(t, plan, "SCAN k", "a scan of the keys table: %v", plan)
		require.True(t, slices.ContainsFunc(plan, func(l string) bool { return strings.HasPrefix(l, "SEARCH k USING") }), "%v", plan)
		return strings.Join(plan, "; ")
	case sqlstore.Postgres:
		var out string
		require.NoError(t, db.QueryRowContext(t.Context(), "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&out))
		var plans []struct{ Plan pgRelPlan }
		require.NoError(t, json.Unmarshal([]byte(out), &plans))
		var nodes []string
		plans[0].Plan.walk(func(p pgRelPlan) {
			if p.RelationName == table || p.IndexName != "" && strings.HasPrefix(p.IndexName, table) {
				require.NotEqual(t, "Seq Scan", p.NodeType, out)
				nodes = append(nodes, p.NodeType+" "+p.IndexName)
			}
		})
		require.NotEmpty(t, nodes, out)
		return strings.Join(nodes, ", ")
	default:
		tables, access, key := column(t, db, "table", "EXPLAIN "+query, args...), column(t, db, "type", "EXPLAIN "+query, args...),
			column(t, db, "key", "EXPLAIN "+query, args...)
		i := slices.Index(tables, "k")
		require.GreaterOrEqual(t, i, 0, "%v", tables)
		require.NotEqual(t, "ALL", access[i], "a scan of the keys table: %v %v", access, key)
		return access[i] + " on " + key[i]
	}
}

type pgRelPlan struct {
	NodeType     string      `json:"Node Type"`
	RelationName string      `json:"Relation Name"`
	IndexName    string      `json:"Index Name"`
	Plans        []pgRelPlan `json:"Plans"`
}

func (p pgRelPlan) walk(f func(pgRelPlan)) {
	f(p)
	for _, c := range p.Plans {
		c.walk(f)
	}
}
