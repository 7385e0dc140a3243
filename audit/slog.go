package audit

import (
	"cmp"
	"context"
	"log/slog"
)

// Slog returns an Auditor writing each event to logger (nil: the default
// logger) at Info level, or Warn for refusals and denied verifications,
// with the message "keycap audit". Keys and hashes are never in events.
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
		logger.LogAttrs(ctx, level, "keycap audit", attrs...)
	})
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
