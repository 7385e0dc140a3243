package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keycaphq/keycap/keys"
)

// execer is a *sql.DB, *sql.Conn or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Get implements [keys.Store]. Times come back in UTC, truncated to the
// millisecond.
func (s *Store) Get(ctx context.Context, id string) (*keys.Key, error) {
	if s.batch != nil && batchable(id) {
		return s.batch.get(ctx, id)
	}
	k, err := s.scanKey(s.lookup.QueryRow(ctx, s.q.get, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keys.ErrNotFound
	}
	if err != nil {
		return nil, s.wrap(ctx, "get", err)
	}
	return k, nil
}

// batchable reports whether id may be read in a statement shared with
// other lookups: an id Postgres refuses as text (not UTF-8, or holding a
// NUL) fails its statement, so it is read in one of its own, failing no
// other lookup.
func batchable(id string) bool {
	return utf8.ValidString(id) && strings.IndexByte(id, 0) < 0
}

// List implements [keys.Store] with keyset pagination on the (owner_id,
// id) index, so a page deep in the list costs what the first one does.
// With page.Within, the same walk keeps the key itself and the keys whose
// ancestors name it.
func (s *Store) List(ctx context.Context, owner string, page keys.Page) ([]*keys.Key, error) {
	limit := page.Limit
	if limit <= 0 {
		limit = 50 // the default of the Store contract
	}
	args := []any{owner}
	var before, within int
	if page.Before != "" {
		before = 1
		args = append(args, page.Before)
	}
	if page.Within != "" {
		within = 1
		args = append(args, page.Within, page.Within)
	}
	rows, err := s.db.QueryContext(ctx, s.q.list[before][within], append(args, limit)...)
	if err != nil {
		return nil, s.wrap(ctx, "list", err)
	}
	defer rows.Close()
	out := make([]*keys.Key, 0, min(limit, 256)) // a Manager asks for at most 201
	for rows.Next() {
		k, err := s.scanKey(rows)
		if err != nil {
			return nil, s.wrap(ctx, "list", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "list", err)
	}
	return out, nil
}

// Touch implements [keys.Store]: last_used_at only moves forward, in one
// conditional UPDATE of last_used_at and last_used_ip alone, so concurrent
// writers cannot move it back nor undo any other change.
func (s *Store) Touch(ctx context.Context, id string, t time.Time, ip string) error {
	if t.IsZero() {
		return nil
	}
	at := s.timeArg(t)
	_, err := s.db.ExecContext(ctx, s.q.touch, at, ip, id, at)
	return s.wrap(ctx, "touch", err)
}
