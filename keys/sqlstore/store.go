package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// execer is a *sql.DB, *sql.Conn or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Create implements [keys.Store] with a single INSERT: the record, its hash
// and its permissions are stored together or not at all. A duplicate id or
// hash is [keys.ErrConflict]. The hash must be 32 bytes (HMAC-SHA256).
func (s *Store) Create(ctx context.Context, k *keys.Key) error {
	return s.create(ctx, s.db, k)
}

func (s *Store) create(ctx context.Context, db execer, k *keys.Key) error {
	if err := check(k); err != nil {
		return err
	}
	args, err := s.args(k)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, s.q.insert, args...)
	return s.wrap(ctx, "create", err)
}

// Get implements [keys.Store]. Times come back in UTC, truncated to the
// millisecond.
func (s *Store) Get(ctx context.Context, id string) (*keys.Key, error) {
	stmt, err := s.prepareGet(ctx)
	if err != nil {
		return nil, s.wrap(ctx, "get", err)
	}
	k, err := s.scanKey(stmt.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keys.ErrNotFound
	}
	if err != nil {
		return nil, s.wrap(ctx, "get", err)
	}
	return k, nil
}

// prepareGet returns the prepared lookup by id, preparing it on first use
// (not in New, which touches no table): every verification that misses
// the cache runs it, and SQLite would otherwise compile it each time.
// database/sql re-prepares it on new connections by itself.
func (s *Store) prepareGet(ctx context.Context) (*sql.Stmt, error) {
	if stmt := s.getStmt.Load(); stmt != nil {
		return stmt, nil
	}
	s.getMu.Lock()
	defer s.getMu.Unlock()
	if stmt := s.getStmt.Load(); stmt != nil {
		return stmt, nil
	}
	stmt, err := s.db.PrepareContext(ctx, s.q.get)
	if err != nil {
		return nil, err
	}
	s.getStmt.Store(stmt)
	return stmt, nil
}

// List implements [keys.Store] with keyset pagination on the (owner_id,
// id) index, so a page deep in the list costs what the first one does.
func (s *Store) List(ctx context.Context, owner string, page keys.Page) ([]*keys.Key, error) {
	limit := page.Limit
	if limit <= 0 {
		limit = keys.DefaultPageLimit
	}
	var (
		rows *sql.Rows
		err  error
	)
	if page.Before == "" {
		rows, err = s.db.QueryContext(ctx, s.q.list, owner, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, s.q.listBefore, owner, page.Before, limit)
	}
	if err != nil {
		return nil, s.wrap(ctx, "list", err)
	}
	defer rows.Close()
	out := make([]*keys.Key, 0, min(limit, keys.MaxPageLimit+1))
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

// Update implements [keys.Store] with a single UPDATE of every column. A
// hash stored for another key is [keys.ErrConflict].
func (s *Store) Update(ctx context.Context, k *keys.Key) error {
	if err := check(k); err != nil {
		return err
	}
	args, err := s.args(k)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q.update, append(args[1:], k.ID)...)
	if err != nil {
		return s.wrap(ctx, "update", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return s.wrap(ctx, "update", err)
	}
	// MySQL counts changed rows, not matched ones: an update that changes
	// nothing also affects 0 rows. Tell it from a missing key.
	err = s.db.QueryRowContext(ctx, s.q.exists, k.ID).Scan(new(int))
	if errors.Is(err, sql.ErrNoRows) {
		return keys.ErrNotFound
	}
	return s.wrap(ctx, "update", err)
}

// Touch implements [keys.Store]: last_used_at only moves forward, in one
// conditional UPDATE, so concurrent writers cannot move it back.
func (s *Store) Touch(ctx context.Context, id string, t time.Time, ip string) error {
	if t.IsZero() {
		return nil
	}
	at := s.timeArg(t)
	_, err := s.db.ExecContext(ctx, s.q.touch, at, ip, id, at)
	return s.wrap(ctx, "touch", err)
}
