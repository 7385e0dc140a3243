package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// PruneKeys implements [keys.Store] in one statement on SQLite and
// Postgres (DELETE … RETURNING, the condition checked again on each row
// it deletes), and on MySQL in a transaction that locks the rows it
// selects (SELECT … FOR UPDATE) and deletes exactly those.
func (s *Store) PruneKeys(ctx context.Context, revokedBefore, expiredBefore time.Time, limit int) ([]*keys.Key, error) {
	q, qArgs, pick, pickArgs := s.pruneQueries(revokedBefore, expiredBefore, limit)
	if q == "" {
		return nil, nil
	}
	if s.dialect != MySQL {
		rows, err := s.db.QueryContext(ctx, q, qArgs...)
		if err != nil {
			return nil, s.wrapOther(ctx, "prune keys", err)
		}
		ids, err := scanIDs(rows)
		if err != nil {
			return nil, s.wrapOther(ctx, "prune keys", err)
		}
		return ids, nil
	}
	var ids []*keys.Key
	err := s.inTx(ctx, "prune keys", nil, func(tx *sql.Tx) (bool, error) {
		rows, err := tx.QueryContext(ctx, pick+" FOR UPDATE", pickArgs...)
		if err != nil {
			return false, err
		}
		if ids, err = scanIDs(rows); err != nil || len(ids) == 0 {
			return false, err
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		del := make([]any, len(ids))
		for i, k := range ids {
			del[i] = k.ID
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM "+s.table+" WHERE id IN ("+marks+")", del...)
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// pruneQueries returns the statement PruneKeys runs on SQLite and
// Postgres (a DELETE … RETURNING) and the SELECT … FOR UPDATE it runs
// first on MySQL (without FOR UPDATE), each with its arguments; "" when
// there is nothing to prune. Each rule is a range of one indexed column
// (revoked_at, expires_at: migration 0006), so the dead rows are found
// through the indexes, never by a scan of the table (TestPrunePlans).
func (s *Store) pruneQueries(revokedBefore, expiredBefore time.Time, limit int) (q string, qArgs []any, pick string, pickArgs []any) {
	cond, args := s.pruneCondition(revokedBefore, expiredBefore)
	if cond == "" || limit <= 0 {
		return "", nil, "", nil
	}
	pick = "SELECT id, owner_id FROM " + s.table + " WHERE " + cond + " ORDER BY id LIMIT ?"
	pickArgs = append(append([]any{}, args...), limit)
	q = rebind(s.dialect, "DELETE FROM "+s.table+" WHERE id IN (SELECT id FROM ("+pick+") AS dead) AND ("+cond+") RETURNING id, owner_id")
	return q, append(append([]any{}, pickArgs...), args...), rebind(s.dialect, pick), pickArgs
}

// pruneCondition is the WHERE clause of a dead row and its arguments; ""
// when both times are zero.
func (s *Store) pruneCondition(revokedBefore, expiredBefore time.Time) (string, []any) {
	t := timePlaceholder(s.dialect)
	var parts []string
	var args []any
	if !revokedBefore.IsZero() {
		parts = append(parts, "(revoked_at IS NOT NULL AND revoked_at < "+t+")")
		args = append(args, s.timeArg(revokedBefore))
	}
	if !expiredBefore.IsZero() {
		parts = append(parts, "(expires_at IS NOT NULL AND expires_at < "+t+")")
		args = append(args, s.timeArg(expiredBefore))
	}
	return strings.Join(parts, " OR "), args
}

// scanIDs reads rows of id and owner_id, in id order.
func scanIDs(rows *sql.Rows) ([]*keys.Key, error) {
	defer rows.Close()
	var out []*keys.Key
	for rows.Next() {
		k := &keys.Key{}
		if err := rows.Scan(&k.ID, &k.OwnerID); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *keys.Key) int { return strings.Compare(a.ID, b.ID) })
	return out, rows.Err()
}
