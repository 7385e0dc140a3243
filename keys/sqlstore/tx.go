package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// txAttempts bounds how often a transaction that lost a deadlock or a
// serialization check is run again.
const txAttempts = 4

// inTx runs fn in a transaction of opts and commits it when fn returns
// true, or rolls it back when fn returns false (fn's answer is then in its
// own variables). A transaction the database aborts to break a deadlock or
// a serialization conflict is run again, up to txAttempts times, from the
// start: fn must set its variables afresh each time. Database errors are
// wrapped as [Store.wrap] does, for op.
func (s *Store) inTx(ctx context.Context, op string, opts *sql.TxOptions, fn func(tx *sql.Tx) (commit bool, err error)) error {
	attempts := txAttempts
	if s.dialect == SQLite {
		attempts *= 3 // BUSY on a lock upgrade comes at once, without waiting: try more often
	}
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, opts, fn)
		if err == nil || attempt == attempts || !isRetryable(s.dialect, err) || ctx.Err() != nil {
			return s.wrap(ctx, op, err)
		}
		select {
		case <-ctx.Done():
			return s.wrap(ctx, op, err)
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

func (s *Store) tryTx(ctx context.Context, opts *sql.TxOptions, fn func(tx *sql.Tx) (bool, error)) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	commit, err := fn(tx)
	if err != nil || !commit {
		if rerr := tx.Rollback(); err == nil && !errors.Is(rerr, sql.ErrTxDone) {
			err = rerr
		}
		return err
	}
	return tx.Commit()
}
