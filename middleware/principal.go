package middleware

import (
	"context"
	"sync"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Kind says how a caller authenticated. The zero Kind is nobody: no
// caller was authenticated.
type Kind int

// The kinds of callers.
const (
	KindKey     Kind = iota + 1 // an API key
	KindSession                 // a logged-in user's session
)

// Principal is who makes a request, as keycap sees it. The zero Principal
// is nobody (Kind 0). It is a value: a copy may be kept, but its
// Permissions and Key are shared and read-only.
type Principal struct {
	Kind    Kind   // how the caller authenticated: KindKey or KindSession
	KeyID   string // the key's id; "" for a session
	OwnerID string // the user: the key's owner, or the logged-in user
	// Permissions are what the caller may do now: a key's effective
	// permissions (its own cut to the owner's current cap), or a session
	// user's cap. Read-only.
	Permissions policy.Permissions
	// Key is the verified key for KindKey, nil otherwise.
	Key *keys.Verified
}

// Has reports whether the principal holds every "resource:action".
func (p Principal) Has(permissions ...string) bool {
	return policy.Satisfies(p.Permissions, permissions...)
}

type stateKey struct{} // unexported: nobody else can collide

// state is what Authenticate leaves in the request context: the verified
// key, or what is needed to resolve the session user on demand (most
// requests that carry no key never need it). It is itself the request's
// context (the parent, plus itself under stateKey), which saves the
// allocations of a context.WithValue on every request.
type state struct {
	context.Context
	kc         *Keycap
	principal  Principal     // the key's, set before the request is handed on; never written after
	session    Principal     // the session user's, set by resolve under once
	verified   keys.Verified // the key, for KindKey; principal.Key points here
	quotaSpent bool          // Require consumed the key's quota for this request
	once       sync.Once
	err        error
}

// Value implements context.Context.
func (s *state) Value(key any) any {
	if key == (stateKey{}) {
		return s
	}
	return s.Context.Value(key)
}

func stateFrom(ctx context.Context) *state {
	s, _ := ctx.Value(stateKey{}).(*state)
	return s
}

// resolve returns the caller, resolving a session user once.
func (s *state) resolve(ctx context.Context) (Principal, error) {
	if s.principal.Kind == KindKey {
		return s.principal, nil
	}
	// The session principal has its own field: writing principal here would
	// race with the unsynchronized reads of principal.Kind above.
	s.once.Do(func() { s.session, s.err = s.kc.sessionPrincipal(ctx) })
	return s.session, s.err
}

// PrincipalFrom returns the caller of the request with context ctx: the
// API key Authenticate verified, or else the logged-in session user (with
// their current cap as permissions). ok is false when nobody is
// authenticated or Authenticate did not run.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	s := stateFrom(ctx)
	if s == nil {
		return Principal{}, false
	}
	p, err := s.resolve(ctx)
	return p, err == nil && p.Kind != 0
}

// MustPrincipal is like [PrincipalFrom] but panics when there is no
// principal; use it only behind [Require], which guarantees one.
func MustPrincipal(ctx context.Context) Principal {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		panic("middleware.MustPrincipal: no authenticated caller; guard the route with Require")
	}
	return p
}
