package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keycaphq/keycap/audit"

	"github.com/keycaphq/keycap/policy"
)

// AuditTimeout bounds each insert of an [Auditor]: an audited request
// waits at most this long for the database.
const AuditTimeout = 2 * time.Second

// Lengths past which an event's free text is cut before it is stored.
const (
	maxReasonBytes = 4096
	maxIPBytes     = 64
	maxDescription = 500 // characters, as keys.Key.Description
)

// eventColumns of the events table, in the order of [Auditor.Audit] and
// [scanEvent].
const eventColumns = "type, time, actor, owner_id, key_id, before_permissions, after_permissions, reason, ip, before_resources, after_resources, before_description, after_description, before_quota, after_quota"

// Auditor is a [audit.Log] on a [Store]'s database: it records events
// in the <prefix>events table (created by [Store.Migrate], migration
// 0002_audit) and lists them newest first, for GET /api-keys/activity. It
// is safe for concurrent use. Create it with [NewAuditor].
//
// Events carry no key or hash, so none is stored. Events without an owner
// (an anonymous client presenting a key that does not exist) are not
// stored: nobody could list them, and storing them would let anyone make
// the database write. Put an Auditor first in an audit.Tee with
// audit.Slog to log those too.
type Auditor struct {
	s                   *Store
	insert, list, prune string
}

var _ audit.Log = (*Auditor)(nil)

// NewAuditor returns an Auditor writing to s's database with s's table
// prefix; s must not be nil. It touches no table: run [Store.Migrate]
// first.
func NewAuditor(s *Store) *Auditor {
	table := s.prefix + "events"
	return &Auditor{
		s:      s,
		insert: rebind(s.dialect, "INSERT INTO "+table+" ("+eventColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		list:   rebind(s.dialect, "SELECT "+eventColumns+" FROM "+table+" WHERE owner_id = ? ORDER BY id DESC LIMIT ?"),
		prune:  rebind(s.dialect, "DELETE FROM "+table+" WHERE time < "+timePlaceholder(s.dialect)),
	}
}

// Prune deletes the events recorded before before and returns how many it
// deleted. The events table has no retention of its own: call Prune from a
// periodic job (say, daily, keeping 90 days).
func (a *Auditor) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := a.s.db.ExecContext(ctx, a.prune, a.s.timeArg(before))
	if err != nil {
		return 0, a.s.wrapOther(ctx, "prune events", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, a.s.wrapOther(ctx, "prune events", err)
	}
	return n, nil
}

// Audit implements [audit.Auditor]: it inserts e, waiting at most
// [AuditTimeout] even when ctx ends sooner (the request is done, the event
// is still recorded). It never panics and returns nothing: a failed insert
// is logged with the Store's [Options].Logger at Error level, naming the
// event but never a key. A zero e.Time is the current time.
func (a *Auditor) Audit(ctx context.Context, e audit.Event) {
	if e.OwnerID == "" {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	err := a.audit(ctx, e)
	if err != nil {
		a.s.logger.LogAttrs(ctx, slog.LevelError, "sqlstore: recording an audit event failed",
			slog.String("event", string(e.Type)), slog.String("owner", e.OwnerID),
			slog.String("key_id", e.KeyID), slog.String("err", err.Error()))
	}
}

func (a *Auditor) audit(ctx context.Context, e audit.Event) error {
	args, err := a.args(e)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AuditTimeout)
	defer cancel()
	_, err = a.s.db.ExecContext(ctx, a.insert, args...)
	return a.s.wrapOther(ctx, "audit", err)
}

// args returns e's column values in the order of [eventColumns].
func (a *Auditor) args(e audit.Event) ([]any, error) {
	before, err := permissionsArg(e.Before)
	if err != nil {
		return nil, err
	}
	after, err := permissionsArg(e.After)
	if err != nil {
		return nil, err
	}
	beforeRes, err := permissionsArg(policy.Permissions(e.BeforeResources))
	if err != nil {
		return nil, err
	}
	afterRes, err := permissionsArg(policy.Permissions(e.AfterResources))
	if err != nil {
		return nil, err
	}
	return []any{string(e.Type), a.s.timeArg(e.Time), text(e.Actor.String(), -1), e.OwnerID, e.KeyID,
		before, after, text(e.Reason, maxReasonBytes), text(e.IP, maxIPBytes), beforeRes, afterRes,
		characters(text(e.BeforeDescription, -1), maxDescription), characters(text(e.AfterDescription, -1), maxDescription),
		quotaArg(e.BeforeQuota), quotaArg(e.AfterQuota)}, nil
}

// Events implements [audit.Log]: up to limit of owner's events, newest
// first. A limit below 1 means 50; above
// maxEvents (200), that.
func (a *Auditor) Events(ctx context.Context, owner string, limit int) ([]audit.Event, error) {
	if limit < 1 {
		limit = 50
	}
	limit = min(limit, maxEvents)
	rows, err := a.s.db.QueryContext(ctx, a.list, owner, limit)
	if err != nil {
		return nil, a.s.wrapOther(ctx, "events", err)
	}
	defer rows.Close()
	out := make([]audit.Event, 0, limit)
	for rows.Next() {
		e, err := a.scanEvent(rows)
		if err != nil {
			return nil, a.s.wrapOther(ctx, "events", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, a.s.wrapOther(ctx, "events", err)
	}
	return out, nil
}

// scanEvent reads a row of [eventColumns].
func (a *Auditor) scanEvent(row interface{ Scan(...any) error }) (audit.Event, error) {
	var (
		e                   audit.Event
		typ                 string
		actor               string
		before, after       sql.NullString
		beforeRes, afterRes sql.NullString
		beforeQ, afterQ     sql.NullString
	)
	err := row.Scan(&typ, a.s.timeDest(&e.Time), &actor, &e.OwnerID, &e.KeyID, &before, &after, &e.Reason, &e.IP, &beforeRes, &afterRes,
		&e.BeforeDescription, &e.AfterDescription, &beforeQ, &afterQ)
	if err != nil {
		return e, err
	}
	e.Type = audit.Type(typ)
	if err = e.Actor.UnmarshalText([]byte(actor)); err != nil {
		return e, fmt.Errorf("sqlstore: event of key %q: actor %q: %w", e.KeyID, actor, err)
	}
	for _, p := range []struct {
		column string
		from   sql.NullString
		to     *policy.Permissions
	}{{"before_permissions", before, &e.Before}, {"after_permissions", after, &e.After},
		{"before_resources", beforeRes, (*policy.Permissions)(&e.BeforeResources)}, {"after_resources", afterRes, (*policy.Permissions)(&e.AfterResources)}} {
		if p.from.Valid {
			if err := json.Unmarshal([]byte(p.from.String), p.to); err != nil {
				return e, fmt.Errorf("sqlstore: event of key %q: %s: %w", e.KeyID, p.column, err)
			}
		}
	}
	if e.BeforeQuota, err = quotaOf(beforeQ); err != nil {
		return e, fmt.Errorf("sqlstore: event of key %q: before_quota: %w", e.KeyID, err)
	}
	if e.AfterQuota, err = quotaOf(afterQ); err != nil {
		return e, fmt.Errorf("sqlstore: event of key %q: after_quota: %w", e.KeyID, err)
	}
	return e, nil
}

// permissionsArg is p as JSON text, or NULL when p is nil.
func permissionsArg(p policy.Permissions) (any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit: permissions: %w", err)
	}
	return string(b), nil
}

// text makes s storable in every dialect's text columns: valid UTF-8, no
// NUL (Postgres refuses both), and at most limit bytes (-1: no limit), cut
// at a character boundary.
func text(s string, limit int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if limit < 0 || len(s) <= limit {
		return s
	}
	for limit > 0 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return s[:limit]
}

// characters cuts s to at most limit characters.
func characters(s string, limit int) string {
	for i := range s {
		if limit == 0 {
			return s[:i]
		}
		limit--
	}
	return s
}

// maxEvents is the most events one call to Events lists.
const maxEvents = 200
