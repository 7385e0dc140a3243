package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// newScheduler returns the scheduler of the owners' notices: expiry
// warnings 7, 3 and 1 days ahead, expiries, keys unused for 30 days, and
// revocations and disables by someone else (an admin, a leak report, the
// staleness policy when cfg.DisableUnusedAfter is set). Every instance
// runs one (see run in main.go); they share the claims in the database, so
// each notice is logged once, addressed to those to names for the key's
// owner. The page lists the sent ones (GET /notices).
func newScheduler(cfg config, m *keys.Manager, store notify.Store, logger *slog.Logger, to recipients) (*notify.Scheduler, error) {
	return notify.New(notify.Config{
		Manager: m, Store: store, Logger: logger,
		Notifier:     logNotices(logger, to),
		StaleAfter:   30 * 24 * time.Hour,
		DisableAfter: cfg.DisableUnusedAfter,
		Interval:     cfg.NoticeInterval,
	})
}

// buildNotices makes the notices scheduler, over store (the database
// behind any cache), and the secret scanning endpoint when configured.
func (a *app) buildNotices(cfg config, store notify.Store) (err error) {
	a.noticeStore = store
	if a.scheduler, err = newScheduler(cfg, a.manager, store, a.logger, a.recipients); err != nil {
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

// recipients returns the users told about a key of owner.
type recipients func(ctx context.Context, owner string) ([]string, error)

// recipients tells a user about their own keys, and about an
// organization's keys the members who may manage them at the time of the
// notice (keys.Manager.Manages: keys:manage among their rights now), the
// people who can act on it; an organization's id is nobody's inbox. Nobody
// manages a disabled organization's keys: its notices go to nobody, and
// are listed for its managers once it is enabled again.
func (a *app) recipients(ctx context.Context, owner string) ([]string, error) {
	if _, ok := a.orgs.subject(owner); !ok {
		return []string{owner}, nil
	}
	var to []string
	for _, user := range a.orgs.memberIDs(owner) {
		_, err := a.manager.Manages(ctx, user, owner)
		var cannot *policy.ManageError
		switch {
		case err == nil:
			to = append(to, user)
		case errors.Is(err, policy.ErrNotMember), errors.As(err, &cannot), errors.Is(err, policy.ErrSubjectDisabled):
		default:
			return nil, err // not delivered: offered again at the next run
		}
	}
	return to, nil
}

// logNotices is the example's Notifier: a log line per notice, addressed
// to the users to names, where an app would send them an email.
func logNotices(logger *slog.Logger, to recipients) notify.Notifier {
	return notify.Func(func(ctx context.Context, n notify.Notice) error {
		users, err := to(ctx, n.Key.OwnerID)
		if err != nil {
			return err
		}
		logger.InfoContext(ctx, "keycap notice", "type", string(n.Type), "lead", n.Lead.String(), "at", n.At,
			"to", users, "owner", n.Key.OwnerID, "key_id", n.Key.ID, "key_name", n.Key.Name, "actor", noticeActor(n).String())
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
	owner, err := a.noticesOwner(r, id)
	if err != nil {
		keycap.WriteError(w, r, err)
		return
	}
	list, err := a.noticeStore.Notices(r.Context(), owner, 20)
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

// noticesOwner returns whose notices the request lists: user's own, or
// with ?owner= an organization whose keys user manages now, as the keys
// API decides (403 CANNOT_MANAGE_KEYS for a member who may not manage
// them; 403 FORBIDDEN for anyone else, whether or not the owner exists).
func (a *app) noticesOwner(r *http.Request, user string) (string, error) {
	owner := r.URL.Query().Get("owner")
	if owner == "" || owner == user {
		return user, nil
	}
	_, err := a.manager.Manages(r.Context(), user, owner)
	if errors.Is(err, policy.ErrNotMember) {
		return "", keycap.New(keycap.CodeForbidden, "?owner= names an organization whose keys you manage; leave it out to see the notices about your own keys")
	}
	return owner, err
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
