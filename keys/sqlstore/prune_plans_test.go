package sqlstore_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/internal/keyforge"
	"github.com/keycaphq/keycap/keys/sqlstore"
)

// TestPrunePlans stores 20,000 keys as an app pruning every day holds
// them (most live, some revoked or expired within the last 90 days, 1 in
// 200 revoked and 1 in 200 expired before that: what the day's prune
// deletes) and checks the plans of the prune statement: revoked keys, expired keys and both are
// found through the revoked_at and expires_at indexes (migration 0006),
// never by a scan of the keys table, on SQLite and Postgres (MySQL runs
// the same condition in a SELECT … FOR UPDATE, checked too). The plans
// and timings are logged.
func TestPrunePlans(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 rows per database")
	}
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	cut := now.Add(-90 * 24 * time.Hour)
	for _, d := range dialects {
		if d.name == "SQLiteMemory" {
			continue
		}
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			s := newStore(t, db, d.dialect)
			revoked, expired := loadPruneStates(t, db, s, now, 20_000)
			require.Positive(t, revoked*expired)
			analyze(t, db, d.dialect, s.TablePrefix()+"keys")
			for _, c := range []struct {
				name             string
				revoked, expired time.Time
			}{{"revoked", cut, time.Time{}}, {"expired", time.Time{}, cut}, {"both", cut, cut}} {
				q, args, pick, pickArgs := s.PruneQueries(c.revoked, c.expired, 500)
				if d.dialect == sqlstore.MySQL {
					q, args = pick, pickArgs
				}
				plan := requirePruneByIndex(t, db, s, q, args)
				tx, err := db.BeginTx(t.Context(), nil)
				require.NoError(t, err)
				start := time.Now()
				rows, err := tx.QueryContext(t.Context(), q, args...)
				require.NoError(t, err)
				n := 0
				for rows.Next() {
					n++
				}
				require.NoError(t, rows.Err())
				rows.Close()
				took := time.Since(start)
				require.NoError(t, tx.Rollback()) // each case prunes the same rows
				require.Equal(t, map[string]int{"revoked": revoked, "expired": expired, "both": revoked + expired}[c.name], n, "the dead keys of %s", c.name)
				t.Logf("%s: a batch of %d in %v; %s", c.name, n, took.Round(time.Microsecond), plan)
			}
		})
	}
}

// loadPruneStates stores n keys in one transaction, created over 400
// days: 1 in 200 revoked and 1 in 200 expired 100 to 300 days ago, 1 in
// 10 revoked or expired within the last 90 days, the rest live.
// It returns how many keys each rule of the day's prune deletes.
func loadPruneStates(t *testing.T, db *sql.DB, s *sqlstore.Store, now time.Time, n int) (revoked, expired int) {
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	defer tx.Rollback()
	ago := func(days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }
	for i := range n {
		k := testKey(t, fmt.Sprint("owner-", i%500))
		k.CreatedAt = ago(400 - i*400/n)
		k.ID, k.UpdatedAt = keyforge.ID(k.CreatedAt), k.CreatedAt
		days := int(now.Sub(k.CreatedAt).Hours()/24) - 1 // dead at most since the day after its creation
		switch {
		case i%200 == 0 && days > 100:
			k.RevokedAt, k.RevokedBy = ago(100+i%min(200, days-99)), audit.User("admin")
			revoked++
		case i%200 == 1 && days > 100:
			k.ExpiresAt = ago(100 + i%min(200, days-99))
			expired++
		case i%20 == 2:
			k.RevokedAt, k.RevokedBy = ago(i%min(89, max(days, 1))), audit.User(k.OwnerID)
		case i%20 == 3:
			k.ExpiresAt = ago(i % min(89, max(days, 1)))
		default:
			k.ExpiresAt = now.Add(time.Duration(30+i%300) * 24 * time.Hour)
		}
		require.NoError(t, s.CreateTx(t.Context(), tx, k))
	}
	require.NoError(t, tx.Commit())
	return revoked, expired
}

// requirePruneByIndex checks that query reads the keys table through the
// revoked_at or expires_at index and never scans it, and returns the plan
// in a line.
func requirePruneByIndex(t *testing.T, db *sql.DB, s *sqlstore.Store, query string, args []any) string {
	table := s.TablePrefix() + "keys"
	switch s.Dialect() {
	case sqlstore.SQLite:
		plan := column(t, db, "detail", "EXPLAIN QUERY PLAN "+query, args...)
		line := strings.Join(plan, "; ")
		require.NotContains(t, line, "SCAN "+table, "a scan of the keys table: %s", line)
		require.Regexp(t, `SEARCH `+table+` USING (COVERING )?INDEX `+table+`_(revoked|expires)_at`, line)
		return line
	case sqlstore.Postgres:
		var out string
		require.NoError(t, db.QueryRowContext(t.Context(), "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&out))
		var plans []struct{ Plan pgRelPlan }
		require.NoError(t, json.Unmarshal([]byte(out), &plans))
		var nodes []string
		byIndex := false
		plans[0].Plan.walk(func(p pgRelPlan) {
			if p.RelationName == table || strings.HasPrefix(p.IndexName, table) {
				require.NotEqual(t, "Seq Scan", p.NodeType, out)
				nodes = append(nodes, strings.TrimSpace(p.NodeType+" "+p.IndexName))
				byIndex = byIndex || strings.HasSuffix(p.IndexName, "_revoked_at") || strings.HasSuffix(p.IndexName, "_expires_at")
			}
		})
		require.True(t, byIndex, "the dead rows are found through revoked_at or expires_at: %s", out)
		return strings.Join(nodes, ", ")
	default:
		rows := column(t, db, "key", "EXPLAIN "+query, args...)
		access := column(t, db, "type", "EXPLAIN "+query, args...)
		require.NotContains(t, access, "ALL", "a scan of the keys table: %v on %v", access, rows)
		return strings.Join(access, ",") + " on " + strings.Join(rows, ",")
	}
}

// TestAuditPrunePlans stores 20,000 events over 370 days and checks that
// Auditor.Prune of what is older than 365 days (the day's prune) finds the
// events through the time index of migration 0008, not by a scan of the
// events table, on every dialect.
func TestAuditPrunePlans(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 rows per database")
	}
	now := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range dialects {
		if d.name == "SQLiteMemory" {
			continue
		}
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			db := d.open(t)
			s := newStore(t, db, d.dialect)
			a := sqlstore.NewAuditor(s)
			tx, err := db.BeginTx(t.Context(), nil)
			require.NoError(t, err)
			const n = 20_000
			old := 0
			for i := range n {
				at := now.Add(-time.Duration(i) * (370 * 24 * time.Hour / n))
				if at.Before(now.Add(-365 * 24 * time.Hour)) {
					old++
				}
				require.NoError(t, a.AuditTx(t.Context(), tx, audit.Event{Type: audit.Created, Time: at, Actor: audit.User("u"),
					OwnerID: fmt.Sprint("owner-", i%500), KeyID: "k"}))
			}
			require.NoError(t, tx.Commit())
			table := s.TablePrefix() + "events"
			analyze(t, db, d.dialect, table)
			cut := now.Add(-365 * 24 * time.Hour)
			query := a.PruneQuery()
			var plan string
			switch d.dialect {
			case sqlstore.SQLite:
				lines := column(t, db, "detail", "EXPLAIN QUERY PLAN "+query, cut.UnixMilli())
				plan = strings.Join(lines, "; ")
				require.Regexp(t, `SEARCH `+table+` USING (COVERING )?INDEX `+table+`_time`, plan)
			case sqlstore.Postgres:
				var out string
				require.NoError(t, db.QueryRowContext(t.Context(), "EXPLAIN (FORMAT JSON) "+query, cut).Scan(&out))
				var plans []struct{ Plan pgRelPlan }
				require.NoError(t, json.Unmarshal([]byte(out), &plans))
				var nodes []string
				plans[0].Plan.walk(func(p pgRelPlan) { nodes = append(nodes, strings.TrimSpace(p.NodeType+" "+p.IndexName)) })
				plan = strings.Join(nodes, ", ")
				require.Contains(t, plan, "Scan "+table+"_time", out)
				require.NotContains(t, plan, "Seq Scan", out)
			default:
				access := column(t, db, "type", "EXPLAIN "+query, cut)
				keys := column(t, db, "key", "EXPLAIN "+query, cut)
				plan = strings.Join(access, ",") + " on " + strings.Join(keys, ",")
				require.Equal(t, []string{"range"}, access, plan)
				require.Equal(t, []string{table + "_time"}, keys, plan)
			}
			start := time.Now()
			deleted, err := a.Prune(t.Context(), cut)
			require.NoError(t, err)
			require.Positive(t, old)
			require.Equal(t, int64(old), deleted)
			t.Logf("pruned %d of %d events in %v; %s", deleted, n, time.Since(start).Round(time.Microsecond), plan)
		})
	}
}
