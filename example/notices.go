package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/middleware"
)

// newScheduler returns the scheduler of the owners' notices: expiry
// warnings 7, 3 and 1 days ahead, expiries, keys unused for 30 days, and
// revocations and disables by someone else (an admin, a leak report, the
// staleness policy when cfg.DisableUnusedAfter is set). Every instance
// runs one (see run in main.go); they share the claims in the database, so
// each notice is logged once. The page lists the sent ones (GET /notices).
func newScheduler(cfg config, m *keys.Manager, store notify.Store, logger *slog.Logger) (*notify.Scheduler, error) {
	return notify.New(notify.Config{
		Manager: m, Store: store, Logger: logger,
		Notifier:     logNotices(logger),
		StaleAfter:   30 * 24 * time.Hour,
		DisableAfter: cfg.DisableUnusedAfter,
		Interval:     cfg.NoticeInterval,
	})
}

// buildNotices makes the notices scheduler, over store (the database
// behind any cache), and the secret scanning endpoint when configured.
func (a *app) buildNotices(cfg config, store notify.Store) (err error) {
	a.noticeStore = store
	if a.scheduler, err = newScheduler(cfg, a.manager, store, a.logger); err != nil {
		return err
	}
	a.github, err = newGitHub(cfg.GitHubKeysFile, a.manager, a.logger)
	return err
}

// runNotices runs the scheduler until the returned function is called,
// which waits for it to stop. Every instance runs one; they take turns on
// each notice through the database.
func (a *app) runNotices() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.scheduler.Run(ctx) }()
	return func() { cancel(); <-done }
}

// noticeSettings reads KEYCAP_NOTICE_INTERVAL and
// KEYCAP_DISABLE_UNUSED_AFTER into cfg.
func noticeSettings(getenv func(string) string, cfg *config) error {
	for name, d := range map[string]*time.Duration{"KEYCAP_NOTICE_INTERVAL": &cfg.NoticeInterval, "KEYCAP_DISABLE_UNUSED_AFTER": &cfg.DisableUnusedAfter} {
		var err error
		if *d, err = parseDuration(name, getenv(name)); err != nil {
			return err
		}
	}
	return nil
}

// parseDuration reads the environment variable name's value, a positive
// Go duration such as "90s" or "2160h"; "" is 0, the default.
func parseDuration(name, value string) (time.Duration, error) {
	if value == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive duration such as \"90s\", \"15m\" or \"2160h\" (90 days)", name, value)
	}
	return d, nil
}

// logNotices is the example's Notifier: a log line per notice, where an
// app would send an email.
func logNotices(logger *slog.Logger) notify.Notifier {
	return notify.Func(func(ctx context.Context, n notify.Notice) error {
		logger.InfoContext(ctx, "keycap notice", "type", string(n.Type), "lead", n.Lead.String(), "at", n.At,
			"owner", n.Key.OwnerID, "key_id", n.Key.ID, "key_name", n.Key.Name, "actor", noticeActor(n).String())
		return nil
	})
}

// noticeJSON is a sent notice as GET /notices lists it.
type noticeJSON struct {
	Type        audit.Type `json:"type"`                   // expiring, expired, stale, revoked or disabled
	LeadSeconds int64      `json:"lead_seconds,omitempty"` // expiring: how long before the expiry
	At          time.Time  `json:"at"`                     // the expiry, last use, revocation or disable
	SentAt      time.Time  `json:"sent_at"`
	KeyID       string     `json:"key_id"`
	KeyName     string     `json:"key_name"`
	Actor       string     `json:"actor,omitempty"` // who revoked or disabled it
	ActorKind   audit.Kind `json:"actor_kind,omitempty"`
	Reason      string     `json:"reason,omitempty"` // why it was revoked: a leak says where it was found
}

// notices serves GET /notices: the notices sent about the logged-in
// user's keys, newest first. For people: a request made with a key is
// refused, as the activity is.
func (a *app) notices(w http.ResponseWriter, r *http.Request) {
	if p, ok := middleware.PrincipalFrom(r.Context()); ok && p.Kind() == middleware.KindKey {
		keycap.WriteError(w, r, keycap.New(keycap.CodeDelegationNotAllowed, "the notices about your keys are for you, logged in, not for API keys"))
		return
	}
	id, err := a.sessions.UserID(r.Context())
	if err != nil || id == "" {
		keycap.WriteError(w, r, keycap.New(keycap.CodeUnauthenticated, "log in to see the notices about your keys"))
		return
	}
	list, err := a.noticeStore.Notices(r.Context(), id, 20)
	if err != nil {
		a.logger.ErrorContext(r.Context(), "listing notices", "err", err)
		keycap.WriteError(w, r, err)
		return
	}
	out := make([]noticeJSON, len(list))
	for i, n := range list {
		actor := noticeActor(n)
		out[i] = noticeJSON{Type: n.Type, LeadSeconds: int64(n.Lead.Seconds()), At: n.At, SentAt: n.Sent,
			KeyID: n.Key.ID, KeyName: n.Key.Name, Actor: actor.String(), ActorKind: actor.Kind}
		if n.Type == audit.Revoked {
			out[i].Reason = n.Key.RevokedReason
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notices": out})
}

// noticeActor is who caused a revocation or a disable notice.
func noticeActor(n notify.Notice) audit.Actor {
	switch n.Type {
	case audit.Revoked:
		return n.Key.RevokedBy
	case audit.Disabled:
		return n.Key.DisabledBy
	}
	return audit.Actor{}
}
