package audit

import (
	"context"
	"log/slog"

	"github.com/keycaphq/keycap/keys"
)

// Slog returns an Auditor writing each event to logger (nil: the default
// logger) at Info level, or Warn for refusals and denied verifications,
// with the message "keycap audit". Keys and hashes are never in events.
func Slog(logger *slog.Logger) keys.Auditor {
	if logger == nil {
		logger = slog.Default()
	}
	return keys.AuditorFunc(func(ctx context.Context, e keys.Event) {
		level := slog.LevelInfo
		if e.Type == keys.EventRefused || e.Type == keys.EventVerificationDenied {
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
// in order; nil entries are skipped. If the first non-nil auditor is a
// [keys.EventLog], so is the result, listing from it.
func Tee(auditors ...keys.Auditor) keys.Auditor {
	var list []keys.Auditor
	for _, a := range auditors {
		if a != nil {
			list = append(list, a)
		}
	}
	t := tee(list)
	if len(list) > 0 {
		if log, ok := list[0].(keys.EventLog); ok {
			return teeLog{tee: t, log: log}
		}
	}
	return t
}

type tee []keys.Auditor

func (t tee) Audit(ctx context.Context, e keys.Event) {
	for _, a := range t {
		a.Audit(ctx, e)
	}
}

type teeLog struct {
	tee
	log keys.EventLog
}

func (t teeLog) Events(ctx context.Context, owner string, limit int) ([]keys.Event, error) {
	return t.log.Events(ctx, owner, limit)
}
