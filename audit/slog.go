package audit

import (
	"cmp"
	"context"
	"log/slog"
	"time"
)

// Slog returns an Auditor writing each event to logger (nil: the default
// logger) at Info level, or Warn for refusals and denied verifications,
// with the message "keycap audit". Keys and hashes are never in events.
// Every field an event sets is logged: permissions (before, after),
// restrictions to records (before_resources, after_resources), a changed
// description (before_description, after_description), and a quota change
// as before_quota and after_quota groups
// (remaining, refill_amount, refill_interval_seconds); a side without a
// quota is left out.
func Slog(logger *slog.Logger) Auditor {
	logger = cmp.Or(logger, slog.Default())
	return Func(func(ctx context.Context, e Event) {
		level := slog.LevelInfo
		if e.Type == Refused || e.Type == VerificationDenied {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{slog.String("event", string(e.Type)), slog.Time("time", e.Time)}
		for _, a := range []struct{ name, value string }{
			{"actor", e.Actor.String()}, {"owner", e.OwnerID}, {"key_id", e.KeyID}, {"reason", e.Reason}, {"ip", e.IP},
		} {
			if a.value != "" {
				attrs = append(attrs, slog.String(a.name, a.value))
			}
		}
		if e.Before != nil {
			attrs = append(attrs, slog.String("before", e.Before.String()))
		}
		if e.After != nil {
			attrs = append(attrs, slog.String("after", e.After.String()))
		}
		if e.BeforeResources != nil {
			attrs = append(attrs, slog.Any("before_resources", e.BeforeResources))
		}
		if e.AfterResources != nil {
			attrs = append(attrs, slog.Any("after_resources", e.AfterResources))
		}
		if e.BeforeDescription != e.AfterDescription || (e.Type == Created && e.AfterDescription != "") {
			attrs = append(attrs, slog.String("before_description", e.BeforeDescription), slog.String("after_description", e.AfterDescription))
		}
		if e.BeforeQuota != nil {
			attrs = append(attrs, quotaAttr("before_quota", e.BeforeQuota))
		}
		if e.AfterQuota != nil {
			attrs = append(attrs, quotaAttr("after_quota", e.AfterQuota))
		}
		logger.LogAttrs(ctx, level, "keycap audit", attrs...)
	})
}

// quotaAttr is q as a group named name: remaining, and the refill
// (refill_amount, refill_interval_seconds) when it has one.
func quotaAttr(name string, q *Quota) slog.Attr {
	attrs := []any{slog.Int64("remaining", q.Remaining)}
	if q.RefillAmount > 0 {
		attrs = append(attrs, slog.Int64("refill_amount", q.RefillAmount), slog.Int64("refill_interval_seconds", int64(q.RefillInterval/time.Second)))
	}
	return slog.Group(name, attrs...)
}

// Tee returns an Auditor that hands each event to every one of auditors
// in order; nil entries are skipped.
func Tee(auditors ...Auditor) Auditor {
	var list tee
	for _, a := range auditors {
		if a != nil {
			list = append(list, a)
		}
	}
	return list
}

type tee []Auditor

func (t tee) Audit(ctx context.Context, e Event) {
	for _, a := range t {
		a.Audit(ctx, e)
	}
}
