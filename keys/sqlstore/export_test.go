package sqlstore

import (
	"context"
	"database/sql"

	"github.com/keycaphq/keycap/keys"
)

// CreateTx stores k within tx, for tests that load many records quickly.
func (s *Store) CreateTx(ctx context.Context, tx *sql.Tx, k *keys.Key) error {
	return s.create(ctx, tx, k)
}

// ListQuery is the statement List runs for a page with a cursor.
func (s *Store) ListQuery() string { return s.q.listBefore }
