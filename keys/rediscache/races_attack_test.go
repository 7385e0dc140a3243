package rediscache_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/internal/testenv"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/keys/storetest"
)

// TestAttack14OverPostgres runs the attacker's races of issue 14
// (keys/storetest RunAttack14) on the cache over Postgres, as deployed:
// every Manager of a trial shares one cache prefix, so a stale cached
// record would show as a move or a report undone.
func TestAttack14OverPostgres(t *testing.T) {
	storetest.RunAttack14(t, overPostgres(t))
}

// overPostgres returns a constructor of caches over Postgres, each on
// tables and a Redis prefix of its own, as newStore of storetest.
func overPostgres(t *testing.T) func(t *testing.T) keys.Store {
	db, err := sql.Open("pgx", testenv.Env("KEYCAP_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		testenv.Unavailable(t, "Postgres", strings.Join(strings.Fields(err.Error()), " "))
	}
	db.SetMaxOpenConns(8) // other packages' tests share the server's connection limit (100)
	return func(t *testing.T) keys.Store {
		prefix := "kt" + strings.ToLower(rand.Text()[:10]) + "_"
		pg, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{TablePrefix: prefix})
		require.NoError(t, err)
		require.NoError(t, pg.Migrate(t.Context()))
		t.Cleanup(func() {
			for _, table := range []string{"keys", "events", "key_owners", "notices", "schema_migrations"} {
				_, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+prefix+table)
			}
		})
		_, redisPrefix := testenv.Redis(t)
		return newCache(t, pg, redisPrefix, newSecret(), nil)
	}
}
