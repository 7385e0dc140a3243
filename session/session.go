// Package session tells keycap who is logged in. [SCS] adapts an
// *scs.SessionManager; apps with another session system implement
// [Sessions] themselves.
package session

import (
	"context"
	"errors"
	"net/http"
)

// Sessions reports the logged-in user of a request from its context.
// Implementations must be safe for concurrent use.
type Sessions interface {
	// UserID returns the id of the logged-in user, or "" when nobody is
	// logged in. It returns [ErrNoSession] when the request carries no
	// session at all because the app's wiring is wrong (for scs: the
	// handler is not behind LoadAndSave).
	UserID(ctx context.Context) (string, error)
}

// Loader is [Sessions] that also load sessions around handlers, for
// middleware.Keycap.SkipForKeys: requests without an API key get their
// session loaded and saved as usual; requests made with a key get an empty
// one. [SCSSessions] is a Loader.
type Loader interface {
	Sessions
	// LoadAndSave loads the request's session for next and saves it after
	// (for scs: SessionManager.LoadAndSave).
	LoadAndSave(next http.Handler) http.Handler
	// Empty returns ctx with an empty session that is never saved: reads
	// see nobody logged in and writes are dropped. It touches no store.
	Empty(ctx context.Context) context.Context
}

// ErrNoSession reports a request whose context has no session data: the
// session middleware (scs's LoadAndSave) does not wrap the handler.
var ErrNoSession = errors.New("session: no session data in the request context; wrap the handler with the session manager's LoadAndSave")

// Func adapts a function to [Sessions].
type Func func(ctx context.Context) (string, error)

// UserID calls f.
func (f Func) UserID(ctx context.Context) (string, error) { return f(ctx) }
