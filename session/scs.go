package session

import (
	"cmp"
	"context"
	"errors"
	"net/http"

	"github.com/alexedwards/scs/v2"
)

// SCSSessions reads the logged-in user id from an scs session. Create it
// with [SCS]; it is safe for concurrent use.
type SCSSessions struct {
	manager *scs.SessionManager
	key     string
}

// SCS returns [Sessions] that read the user id stored under key (as a
// string, by sm.Put(ctx, key, id)) in sm's session. Requests must pass
// through sm.LoadAndSave; outside it, UserID returns [ErrNoSession] rather
// than letting scs panic. An empty key means "userID".
func SCS(sm *scs.SessionManager, key string) *SCSSessions {
	key = cmp.Or(key, "userID")
	return &SCSSessions{manager: sm, key: key}
}

var _ Loader = (*SCSSessions)(nil)

// LoadAndSave implements [Loader]: sm.LoadAndSave(next).
func (s *SCSSessions) LoadAndSave(next http.Handler) http.Handler { return s.manager.LoadAndSave(next) }

// Empty implements [Loader]: a new scs session, never committed, with no
// store access and no cookie. Reads of it see nobody logged in.
func (s *SCSSessions) Empty(ctx context.Context) context.Context {
	ctx, _ = s.manager.Load(ctx, "") // no token: no store access, never an error
	return ctx
}

// UserID implements [Sessions].
func (s *SCSSessions) UserID(ctx context.Context) (id string, err error) {
	// scs panics when the context holds no session data: a wiring error,
	// reported as such instead of crashing the request.
	err = guard(func() error { id = s.manager.GetString(ctx, s.key); return nil })
	return id, err
}

// LogIn records that user id is logged in: it renews the session token
// (against session fixation) and stores id under the adapter's key.
func (s *SCSSessions) LogIn(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("session: empty user id")
	}
	return guard(func() error {
		if err := s.manager.RenewToken(ctx); err != nil {
			return err
		}
		s.manager.Put(ctx, s.key, id)
		return nil
	})
}

// LogOut destroys the session.
func (s *SCSSessions) LogOut(ctx context.Context) error {
	return guard(func() error { return s.manager.Destroy(ctx) })
}

// guard runs f, turning scs's "no session data" panic into [ErrNoSession].
func guard(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v != "scs: no session data in context" {
				panic(v) // not the wiring error: not ours to hide
			}
			err = ErrNoSession
		}
	}()
	return f()
}
