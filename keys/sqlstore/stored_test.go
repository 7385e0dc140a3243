package sqlstore_test

import (
	"database/sql"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// storedForm reads back how one record's columns are stored, as text.
var storedForm = map[sqlstore.Dialect]string{
	sqlstore.SQLite: `SELECT CAST(created_at AS TEXT), CAST(expires_at IS NULL AS TEXT), permissions,
		CAST(refill_interval_ms AS TEXT), CAST(remaining IS NULL AS TEXT), CAST(length(hash) AS TEXT) FROM %skeys`,
	sqlstore.Postgres: `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), (expires_at IS NULL)::text,
		permissions, refill_interval_ms::text, (remaining IS NULL)::text, length(hash)::text FROM %skeys`,
	sqlstore.MySQL: `SELECT CAST(created_at AS CHAR), CAST(expires_at IS NULL AS CHAR), permissions,
		CAST(refill_interval_ms AS CHAR), CAST(remaining IS NULL AS CHAR), CAST(LENGTH(hash) AS CHAR) FROM %skeys`,
}

// TestStoredForm checks the columns hold what the migrations promise (UTC
// times with milliseconds, NULL for zero, JSON permissions, milliseconds
// of refill interval), whatever time zone the driver or session uses.
func TestStoredForm(t *testing.T) {
	type backend struct {
		name    string
		dialect sqlstore.Dialect
		open    func(testing.TB) *sql.DB
	}
	backends := []backend{{"SQLite", sqlstore.SQLite, openSQLiteMemory}}
	pgTokyo := func(t testing.TB) *sql.DB {
		return openService(t, "Postgres", "pgx", postgresURL+"&timezone="+url.QueryEscape("Asia/Tokyo"))
	}
	backends = append(backends, backend{"Postgres", sqlstore.Postgres, openPostgres}, backend{"PostgresTokyo", sqlstore.Postgres, pgTokyo})
	for _, variant := range []struct {
		name      string
		parseTime bool
		loc       string
	}{{"MySQL", true, "UTC"}, {"MySQLText", false, "UTC"}, {"MySQLTokyo", true, "Asia/Tokyo"}} {
		backends = append(backends, backend{variant.name, sqlstore.MySQL, func(t testing.TB) *sql.DB {
			cfg, err := mysql.ParseDSN(mysqlDSN)
			require.NoError(t, err)
			cfg.ParseTime = variant.parseTime
			cfg.Loc, err = time.LoadLocation(variant.loc)
			require.NoError(t, err)
			return openService(t, "MySQL", "mysql", cfg.FormatDSN())
		}})
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			s := newStore(t, db, b.dialect)
			at := time.Date(2025, 3, 4, 23, 59, 58, 123_456_789, time.FixedZone("X", -7*3600))
			k := testKey(t, "u1")
			k.CreatedAt, k.LastUsedAt = at, at.Add(time.Hour)
			k.Permissions = policy.Permissions{"users": {"read"}, "invoices": {"read", "write"}}
			k.RefillInterval = 90 * time.Second
			require.NoError(t, s.Create(t.Context(), k, 0))

			got, err := s.Get(t.Context(), k.ID)
			require.NoError(t, err)
			require.Equal(t, at.UTC().Truncate(time.Millisecond), got.CreatedAt, "UTC, truncated to the millisecond")
			require.Equal(t, at.Add(time.Hour).UTC().Truncate(time.Millisecond), got.LastUsedAt)
			require.Equal(t, time.UTC, got.CreatedAt.Location())

			var created, noExpiry, permissions, interval, noQuota, hashLength string
			query := fmt.Sprintf(storedForm[b.dialect], s.TablePrefix())
			require.NoError(t, db.QueryRowContext(t.Context(), query).Scan(&created, &noExpiry, &permissions, &interval, &noQuota, &hashLength))
			if b.dialect == sqlstore.SQLite {
				require.Equal(t, "1741157998123", created, "Unix milliseconds")
			} else {
				require.Equal(t, "2025-03-05 06:59:58.123", created, "UTC")
			}
			require.Contains(t, []string{"1", "true"}, noExpiry)
			require.Equal(t, `{"invoices":["read","write"],"users":["read"]}`, permissions)
			require.Equal(t, "90000", interval)
			require.Contains(t, []string{"1", "true"}, noQuota)
			require.Equal(t, "32", hashLength)

			// Touch compares times in SQL: it must move forward only here too.
			require.NoError(t, s.Touch(t.Context(), k.ID, at.Add(30*time.Minute), "192.0.2.9"))
			got, err = s.Get(t.Context(), k.ID)
			require.NoError(t, err)
			require.Equal(t, at.Add(time.Hour).UTC().Truncate(time.Millisecond), got.LastUsedAt)
		})
	}
}
