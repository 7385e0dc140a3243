package sqlstore_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/keys/storetest"
)

// TestConformancePgxLookup runs the Store contract on Postgres with Get
// reading through a native pgx pool (Options.Lookup), as the example does.
func TestConformancePgxLookup(t *testing.T) {
	db := openPostgres(t)
	pool, err := pgxpool.New(context.Background(), postgresURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	lookup := sqlstore.RowReaderFunc(func(ctx context.Context, q string, args ...any) sqlstore.Row {
		return pool.QueryRow(ctx, q, args...)
	})
	storetest.Run(t, func(t *testing.T) keys.Store {
		prefix := randomName() + "_"
		s, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.Options{TablePrefix: prefix, Lookup: lookup})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))
		t.Cleanup(func() { dropTables(t, db, prefix) })
		return s
	})
}
