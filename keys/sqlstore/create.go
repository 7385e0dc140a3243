package sqlstore

import (
	"context"
	"database/sql"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Create implements [keys.Store] with a single INSERT: the record, at
// Version 1, with its hash and its permissions, is stored whole or not at
// all. A duplicate id or hash is [keys.ErrConflict]. The hash must be 32
// bytes (HMAC-SHA256).
//
// With maxLive > 0 the owner's live keys (not revoked, not expired at
// k.CreatedAt) are counted and the record inserted as one step for that
// owner, across processes too, so the limit is exact. Each dialect does it
// the simplest way it allows:
//   - SQLite: one statement, INSERT ... SELECT ... WHERE (SELECT COUNT(*)
//     ...) < maxLive. A write statement takes the database's write lock
//     before it reads, so no other write runs between its count and its
//     insert.
//   - Postgres: a READ COMMITTED transaction first takes an advisory lock
//     on the table and owner (pg_advisory_xact_lock, released at commit);
//     its count then sees every key an earlier holder created.
//   - MySQL: a transaction first locks the owner's row in
//     <prefix>key_owners (SELECT ... FOR UPDATE; the row is inserted
//     before the transaction if missing). A locking read takes no
//     snapshot: under REPEATABLE READ the snapshot is taken by the count
//     that follows, which therefore sees every key an earlier holder
//     created. No plain read may come before the lock.
//
// When the owner is at the limit Create returns a [*policy.KeyLimitError]
// and stores nothing.
func (s *Store) Create(ctx context.Context, k *keys.Key, maxLive int) error {
	return s.create(ctx, s.db, k, maxLive)
}

func (s *Store) create(ctx context.Context, db execer, k *keys.Key, maxLive int) error {
	if err := check(k); err != nil {
		return err
	}
	args, err := s.args(k)
	if err != nil {
		return err
	}
	switch {
	case maxLive <= 0:
		_, err = db.ExecContext(ctx, s.q.insert, args...)
		return s.wrap(ctx, "create", err)
	case s.dialect == SQLite:
		return s.createSQLite(ctx, db, k, args, maxLive)
	}
	return s.createLocked(ctx, k, args, maxLive)
}

func (s *Store) createSQLite(ctx context.Context, db execer, k *keys.Key, args []any, maxLive int) error {
	res, err := db.ExecContext(ctx, s.q.insertLimited, append(args, k.OwnerID, s.timeArg(k.CreatedAt), maxLive)...)
	if err != nil {
		return s.wrap(ctx, "create", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(ctx, "create", err)
	}
	if n == 0 {
		return &policy.KeyLimitError{Limit: maxLive}
	}
	return nil
}

func (s *Store) createLocked(ctx context.Context, k *keys.Key, args []any, maxLive int) error {
	lock, opts := any(k.OwnerID), (*sql.TxOptions)(nil)
	if s.dialect == Postgres {
		lock = s.table + " " + k.OwnerID
		// Under REPEATABLE READ or SERIALIZABLE (a server default may say
		// so) the snapshot would predate the lock.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	} else if _, err := s.db.ExecContext(ctx, s.q.ensureOwner, k.OwnerID); err != nil {
		// Outside the transaction: two transactions inserting the same
		// new row would deadlock on its locks.
		return s.wrap(ctx, "create", err)
	}
	full := false
	err := s.inTx(ctx, "create", opts, func(tx *sql.Tx) (bool, error) {
		if _, err := tx.ExecContext(ctx, s.q.lockOwner, lock); err != nil {
			return false, err
		}
		var live int
		if err := tx.QueryRowContext(ctx, s.q.countLive, k.OwnerID, s.timeArg(k.CreatedAt)).Scan(&live); err != nil {
			return false, err
		}
		if full = live >= maxLive; full {
			return false, nil
		}
		_, err := tx.ExecContext(ctx, s.q.insert, args...)
		return err == nil, err
	})
	if err == nil && full {
		return &policy.KeyLimitError{Limit: maxLive}
	}
	return err
}
