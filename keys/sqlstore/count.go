package sqlstore

import (
	"context"
	"time"
)

// CountBySecret implements [keys.Store] with one grouped COUNT over the
// live rows (revoked_at IS NULL, expires_at NULL or after now). It reads
// every live row: an operator's call, not a request's.
func (s *Store) CountBySecret(ctx context.Context, now time.Time) (map[string]int, error) {
	query := rebind(s.dialect, "SELECT secret_id, COUNT(*) FROM "+s.table+
		" WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > "+timePlaceholder(s.dialect)+") GROUP BY secret_id")
	rows, err := s.db.QueryContext(ctx, query, s.timeArg(now))
	if err != nil {
		return nil, s.wrapOther(ctx, "count by secret", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, s.wrapOther(ctx, "count by secret", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrapOther(ctx, "count by secret", err)
	}
	return out, nil
}
