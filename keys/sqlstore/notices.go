package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
)

// A Store is also the [notify.Store] of keys/notify: the claims of its
// notices live in <prefix>notices (migration 0006), and each type of due
// notice is found by one query on an index of the keys table (see the
// migration), batch after batch.
var _ notify.Store = (*Store)(nil)

// Due implements [notify.Store]: one SELECT with the type's condition and
// an anti-join on the claims.
func (s *Store) Due(ctx context.Context, q notify.Query) ([]*keys.Key, error) {
	query, args, err := s.due(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.wrapOther(ctx, "due notices", err)
	}
	defer rows.Close()
	var out []*keys.Key
	for rows.Next() {
		k, err := s.scanKey(rows)
		if err != nil {
			return nil, s.wrapOther(ctx, "due notices", err)
		}
		out = append(out, k)
	}
	return out, s.wrapOther(ctx, "due notices", rows.Err())
}

// due returns the statement of q and its arguments.
func (s *Store) due(q notify.Query) (string, []any, error) {
	c, ok := s.nq.due[q.Type]
	if !ok {
		return "", nil, fmt.Errorf("sqlstore: notices: no notice of type %q", q.Type)
	}
	var args []any
	for _, name := range c.args {
		switch name {
		case "from":
			from := q.From
			if from.Before(noBound) { // a zero From sets no lower bound
				from = noBound
			}
			args = append(args, s.timeArg(from))
		case "to":
			args = append(args, s.timeArg(q.To))
		case "now":
			args = append(args, s.timeArg(q.Now))
		case "lead":
			args = append(args, q.Lead.Milliseconds())
		}
	}
	return c.where, append(args, string(q.Type), q.Lead.Milliseconds(), s.timeArg(q.Lapsed), q.Limit), nil
}

// noBound is the lower bound of a Query with a zero From: before any
// key, and a time every dialect stores.
var noBound = time.Unix(0, 0).UTC()

// notice is the arguments that name c's notice, in the order of the
// statements' WHERE.
func (s *Store) notice(c notify.Claim) []any {
	return []any{c.KeyID, string(c.Type), c.Lead.Milliseconds(), s.timeArg(c.At)}
}

// Claim implements [notify.Store]: an INSERT that does nothing if the
// notice is claimed, then, if it was, an UPDATE that takes over an unsent
// claim made at or before c.Lapsed. The primary key and the row lock make
// each the decision of one writer.
func (s *Store) Claim(ctx context.Context, c notify.Claim) (bool, error) {
	notice := s.notice(c)
	res, err := s.db.ExecContext(ctx, s.nq.claim, append(notice, c.OwnerID, c.Token, s.timeArg(c.Now))...)
	if won, err := affected(res, err); err != nil || won {
		return won, s.wrapOther(ctx, "claim a notice", err)
	}
	res, err = s.db.ExecContext(ctx, s.nq.steal, append(append([]any{c.Token, s.timeArg(c.Now), c.OwnerID}, notice...), s.timeArg(c.Lapsed))...)
	won, err := affected(res, err)
	return won, s.wrapOther(ctx, "claim a notice", err)
}

// affected reports whether a statement changed a row.
func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Sent implements [notify.Store].
func (s *Store) Sent(ctx context.Context, c notify.Claim, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.nq.sent, append(append([]any{s.timeArg(at)}, s.notice(c)...), c.Token)...)
	return s.wrapOther(ctx, "record a notice sent", err)
}

// Release implements [notify.Store].
func (s *Store) Release(ctx context.Context, c notify.Claim) error {
	_, err := s.db.ExecContext(ctx, s.nq.release, append(s.notice(c), c.Token)...)
	return s.wrapOther(ctx, "release a notice", err)
}

// Notices implements [notify.Store], on the (owner_id, sent_at) index.
func (s *Store) Notices(ctx context.Context, owner string, limit int) ([]notify.Notice, error) {
	rows, err := s.db.QueryContext(ctx, s.nq.list, owner, max(limit, 0))
	if err != nil {
		return nil, s.wrapOther(ctx, "notices", err)
	}
	defer rows.Close()
	var out []notify.Notice
	for rows.Next() {
		var n notify.Notice
		var typ string
		var leadMS int64
		k, err := s.scanKey(prepended{rows, []any{&typ, &leadMS, s.timeDest(&n.At), s.timeDest(&n.Sent)}})
		if err != nil {
			return nil, s.wrapOther(ctx, "notices", err)
		}
		n.Type, n.Lead, n.Key = audit.Type(typ), time.Duration(leadMS)*time.Millisecond, k
		out = append(out, n)
	}
	return out, s.wrapOther(ctx, "notices", rows.Err())
}

// prepended scans its own destinations before those of scanKey.
type prepended struct {
	row   interface{ Scan(...any) error }
	first []any
}

func (p prepended) Scan(dest ...any) error { return p.row.Scan(append(p.first, dest...)...) }

// Prune implements [notify.Store], on the claimed_at index.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.nq.prune, s.timeArg(before))
	if err != nil {
		return 0, s.wrapOther(ctx, "prune notices", err)
	}
	n, err := res.RowsAffected()
	return n, s.wrapOther(ctx, "prune notices", err)
}
