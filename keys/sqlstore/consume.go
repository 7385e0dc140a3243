package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// Consume implements [keys.Store]. It writes only remaining and
// last_refill_at, with the conditional UPDATE of consumeQuery: it refills
// (when due) and decrements remaining where it is above 0, so it is exact
// under any concurrency, across processes too. Times are truncated to the
// millisecond.
//
// One id (the only key of a chain with a quota: a [keys.Manager] names
// no other) costs that one statement, with no transaction; a key without
// a quota, or whose quota is spent, costs a second query (a read) and no
// write. Several ids (a key and its ancestors) run the statement for each
// in one transaction, which is rolled back as soon as one quota is spent
// or one id is unknown, so the spend is all or nothing.
// The ids come leaf first, the order in which every request along a
// delegation path locks them, so two such transactions cannot deadlock;
// should the database still abort one (a deadlock, or a serialization
// conflict), it is run again.
func (s *Store) Consume(ctx context.Context, ids []string, now time.Time) (remaining int64, ok bool, err error) {
	switch len(ids) {
	case 0:
		return -1, true, nil
	case 1:
		return s.consumeOne(ctx, ids[0], now)
	}
	var spent, missing bool
	err = s.inTx(ctx, "consume", nil, func(tx *sql.Tx) (bool, error) {
		remaining, spent, missing = -1, false, false
		for _, id := range ids {
			left, found, err := s.spend(ctx, tx, id, now)
			switch {
			case err != nil:
				return false, err
			case found == notFound:
				missing = true
				return false, nil
			case found == exhausted:
				spent = true
				return false, nil
			case found == spentOne && (remaining < 0 || left < remaining):
				remaining = left
			}
		}
		return remaining >= 0, nil // no quota at all: nothing written
	})
	switch {
	case err != nil:
		return 0, false, err
	case missing:
		return 0, false, keys.ErrNotFound
	case spent:
		return 0, false, nil
	}
	return remaining, true, nil
}

// consumeOne spends from the quota of one key, with no transaction.
func (s *Store) consumeOne(ctx context.Context, id string, now time.Time) (int64, bool, error) {
	left, found, err := s.spend(ctx, s.db, id, now)
	switch {
	case err != nil:
		return 0, false, s.wrap(ctx, "consume", err)
	case found == notFound:
		return 0, false, keys.ErrNotFound
	case found == noQuota:
		return -1, true, nil
	case found == exhausted:
		return 0, false, nil
	}
	return left, true, nil
}

// outcome is what spending from one key's quota came to.
type outcome int

const (
	spentOne  outcome = iota // a unit was spent; the new remaining is returned
	noQuota                  // the key has no quota: nothing written
	exhausted                // the quota is spent: nothing written
	notFound                 // no such key
)

// spend runs consumeQuery for id on db and, when it wrote nothing, reads
// why. Errors are the database's, unwrapped.
func (s *Store) spend(ctx context.Context, db querier, id string, now time.Time) (int64, outcome, error) {
	at := s.timeArg(now)
	args := []any{at, at, at, id, at}
	if s.dialect == MySQL {
		res, err := db.ExecContext(ctx, s.q.consume, args...)
		if err != nil {
			return 0, 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, 0, err
		}
		if n == 1 {
			left, err := res.LastInsertId() // LAST_INSERT_ID(new remaining)
			return left, spentOne, err
		}
	} else {
		var left int64
		err := db.QueryRowContext(ctx, s.q.consume, args...).Scan(&left)
		if err == nil {
			return left, spentOne, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, err
		}
	}
	// Nothing was spent: no such key, no quota, or a spent quota.
	var left sql.NullInt64
	err := db.QueryRowContext(ctx, s.q.remaining, id).Scan(&left)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, notFound, nil
	case err != nil:
		return 0, 0, err
	case !left.Valid:
		return 0, noQuota, nil
	}
	return 0, exhausted, nil
}
