package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/keycaphq/keycap/audit"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
)

// Migrations returns the migrations of dialect with the default table
// names: the files as they are, for tests.
func Migrations(dialect Dialect) []Migration { return migrationsOf(dialect) }

// CreateTx stores k within tx, for tests that load many records quickly.
func (s *Store) CreateTx(ctx context.Context, tx *sql.Tx, k *keys.Key) error {
	return s.create(ctx, tx, k, 0)
}

// ListQuery is the statement List runs for a page with a cursor.
func (s *Store) ListQuery() string { return s.q.list[1][0] }

// ListWithinQuery is the statement List runs for a page with a cursor,
// confined to a key and the keys created through it.
func (s *Store) ListWithinQuery() string { return s.q.list[1][1] }

// DueQuery is the statement Due runs for q, with its arguments.
func (s *Store) DueQuery(q notify.Query) (string, []any, error) { return s.due(q) }

// MigrateTo applies the migrations up to version (included) one statement
// at a time and records them, as a release that knew no later migration
// would have: a database to upgrade.
func (s *Store) MigrateTo(ctx context.Context, version int) error {
	versions := s.prefix + "schema_migrations"
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(versionTable[s.dialect], versions)); err != nil {
		return err
	}
	record := rebind(s.dialect, "INSERT INTO "+versions+" (version, name, applied_at) VALUES (?, ?, ?)")
	for _, m := range s.Migrations() {
		if m.Version > version {
			break
		}
		for _, stmt := range statements(m.SQL) {
			if _, err := s.db.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		if _, err := s.db.ExecContext(ctx, record, m.Version, m.Name, s.timeArg(time.Now())); err != nil {
			return err
		}
	}
	return nil
}

// InsertV2 stores k as a release at schema version 2 did: without the
// columns of 0003, with actors as the given strings.
func (s *Store) InsertV2(ctx context.Context, k *keys.Key, createdBy, revokedBy, disabledBy string) error {
	args, err := s.args(k)
	if err != nil {
		return err
	}
	args = args[:25]
	args[10], args[17], args[20] = createdBy, revokedBy, disabledBy
	cols := strings.Join(columns[:25], ", ")
	marks := strings.TrimSuffix(strings.Repeat("?, ", 25), ", ")
	_, err = s.db.ExecContext(ctx, rebind(s.dialect, "INSERT INTO "+s.table+" ("+cols+") VALUES ("+marks+")"), args...)
	return err
}

// ApplyStatements runs the first n statements of migration version, and
// records nothing: a Migrate that stopped half-way.
func (s *Store) ApplyStatements(ctx context.Context, version, n int) error {
	var sql string
	for _, m := range s.Migrations() {
		if m.Version == version {
			sql = m.SQL
		}
	}
	for _, stmt := range statements(sql)[:n] {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// AuditRaw records an event of owner about keyID with actor stored as is.
func (a *Auditor) AuditRaw(ctx context.Context, owner, keyID, actor string, at time.Time) error {
	// The columns of 0002, which every version since has.
	insert := rebind(a.s.dialect, "INSERT INTO "+a.s.prefix+"events (type, time, actor, owner_id, key_id, before_permissions, after_permissions, reason, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
	_, err := a.s.db.ExecContext(ctx, insert, string(audit.Updated), a.s.timeArg(at), actor, owner, keyID, nil, nil, "", "")
	return err
}

// PruneQueries are the statements PruneKeys runs (see pruneQueries).
func (s *Store) PruneQueries(revokedBefore, expiredBefore time.Time, limit int) (string, []any, string, []any) {
	return s.pruneQueries(revokedBefore, expiredBefore, limit)
}

// AuditTx records e in tx, as Audit does outside one.
func (a *Auditor) AuditTx(ctx context.Context, tx *sql.Tx, e audit.Event) error {
	args, err := a.args(e)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, a.insert, args...)
	return err
}

// PruneQuery is the statement Prune runs.
func (a *Auditor) PruneQuery() string { return a.prune }

// SetSlowStatement sets how long a lookup statement counts against the
// Store's limit of statements in flight, until the returned func restores it.
func SetSlowStatement(d time.Duration) (restore func()) {
	old := slowStatement.Swap(int64(d))
	return func() { slowStatement.Store(old) }
}
