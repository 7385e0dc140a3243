package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// Consume implements [keys.QuotaStore] with one conditional UPDATE that
// refills (when due) and decrements remaining where it is above 0, so it is
// exact under any concurrency, across processes too. Times are truncated to
// the millisecond. A key without a quota, or whose quota is spent, costs a
// second query (a read) and no write.
func (s *Store) Consume(ctx context.Context, id string, now time.Time) (remaining int64, ok bool, err error) {
	at := s.timeArg(now)
	args := []any{at, at, at, id, at}
	if s.dialect == MySQL {
		res, err := s.db.ExecContext(ctx, s.q.consume, args...)
		if err != nil {
			return 0, false, s.wrap(ctx, "consume", err)
		}
		n, err := res.RowsAffected()
		if err == nil && n == 1 {
			var left int64
			left, err = res.LastInsertId() // LAST_INSERT_ID(new remaining)
			if err == nil {
				return left, true, nil
			}
		}
		if err != nil {
			return 0, false, s.wrap(ctx, "consume", err)
		}
	} else {
		var left int64
		err := s.db.QueryRowContext(ctx, s.q.consume, args...).Scan(&left)
		if err == nil {
			return left, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, false, s.wrap(ctx, "consume", err)
		}
	}
	// Nothing was spent: no such key, no quota, or a spent quota.
	var left sql.NullInt64
	err = s.db.QueryRowContext(ctx, s.q.remaining, id).Scan(&left)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, keys.ErrNotFound
	case err != nil:
		return 0, false, s.wrap(ctx, "consume", err)
	case !left.Valid:
		return -1, true, nil
	}
	return 0, false, nil
}
