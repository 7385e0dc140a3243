package sqlstore

import (
	"context"
	"embed"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema change of the store's tables.
type Migration struct {
	Version int    // 1, 2, ...: applied in this order, recorded once applied
	Name    string // from the file name: "keys" for 0001_keys.sql
	// SQL is the file's text: statements ending in ";". Schema statements
	// are idempotent (CREATE ... IF NOT EXISTS) where the dialect allows;
	// SQLite and MySQL have no ADD COLUMN IF NOT EXISTS, so [Store.Migrate]
	// skips an ADD COLUMN whose column exists. Data statements (0003
	// rewrites actors "alice" to "user:alice") must run once: Migrate runs
	// them in the transaction that records the version. A tool of your own
	// must apply each file once, as migration tools do.
	SQL string
}

//go:embed migrations
var migrationFiles embed.FS

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// migrations holds each dialect's migrations in version order.
var migrations = func() map[Dialect][]Migration {
	all := map[Dialect][]Migration{}
	for _, d := range []Dialect{SQLite, Postgres, MySQL} {
		dir := path.Join("migrations", string(d))
		entries, err := migrationFiles.ReadDir(dir)
		if err != nil {
			panic("sqlstore: " + err.Error())
		}
		for _, e := range entries {
			m := migrationName.FindStringSubmatch(e.Name())
			if m == nil {
				panic("sqlstore: migration file name " + e.Name() + " is not NNNN_name.sql")
			}
			text, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
			if err != nil {
				panic("sqlstore: " + err.Error())
			}
			v, _ := strconv.Atoi(m[1])
			all[d] = append(all[d], Migration{Version: v, Name: m[2], SQL: string(text)})
		}
		sort.Slice(all[d], func(i, j int) bool { return all[d][i].Version < all[d][j].Version })
	}
	return all
}()

// migrationsOf returns a copy of the migrations of dialect in version
// order, with the default table names (keycap_keys, ...); nil for an
// unknown dialect.
func migrationsOf(dialect Dialect) []Migration {
	return append([]Migration(nil), migrations[dialect]...)
}

// Migrations returns the migrations of the Store's dialect in version
// order, with its table prefix in every table and index name: the files
// under migrations/<dialect>/ in this package, for apps that apply schema
// changes with their own tool. The slice is the caller's to keep.
func (s *Store) Migrations() []Migration {
	out := migrationsOf(s.dialect)
	for i := range out {
		out[i].SQL = strings.ReplaceAll(out[i].SQL, DefaultTablePrefix, s.prefix)
	}
	return out
}

// statements splits a migration into its statements, without comments:
// the files hold no "--" or ";" inside string literals.
func statements(sql string) []string {
	var b strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		line, _, _ = strings.Cut(line, "--")
		b.WriteString(line + "\n")
	}
	var out []string
	for _, stmt := range strings.Split(b.String(), ";") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// schemaStatement matches a statement that changes the schema (and on
// MySQL commits at once); addColumn one that adds a column without IF NOT
// EXISTS, naming the table and the column.
var (
	schemaStatement = regexp.MustCompile(`(?i)^(CREATE|ALTER|DROP|RENAME)\s`)
	addColumn       = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)\s`)
	createIndex     = regexp.MustCompile(`(?is)^CREATE\s+INDEX\s+(\w+)\s+ON\s+(\w+)\s`)
)

func isSchema(stmt string) bool { return schemaStatement.MatchString(stmt) }

// leadingSchema returns how many of stmts, from the first, change the schema.
func leadingSchema(stmts []string) int {
	for i, stmt := range stmts {
		if !isSchema(stmt) {
			return i
		}
	}
	return len(stmts)
}

// execSchema runs stmt on db, except an ADD COLUMN whose column exists
// (SQLite and MySQL have no ADD COLUMN IF NOT EXISTS) or, on MySQL, a
// CREATE INDEX whose index exists (MySQL has no CREATE INDEX IF NOT
// EXISTS): the file was applied before by another tool, or on MySQL, a
// Migrate stopped half-way.
func (s *Store) execSchema(ctx context.Context, db querier, stmt string) error {
	if m := createIndex.FindStringSubmatch(stmt); m != nil && s.dialect == MySQL && !strings.EqualFold(m[1], "IF") {
		const query = "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?"
		var n int
		if err := db.QueryRowContext(ctx, query, m[2], m[1]).Scan(&n); err != nil || n > 0 {
			return err
		}
	}
	if m := addColumn.FindStringSubmatch(stmt); m != nil && !strings.EqualFold(m[2], "IF") {
		var query string
		switch s.dialect {
		case SQLite:
			query = "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?"
		case MySQL:
			query = "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?"
		case Postgres:
			query = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2"
		}
		var n int
		if err := db.QueryRowContext(ctx, query, m[1], m[2]).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
	_, err := db.ExecContext(ctx, stmt)
	return err
}
