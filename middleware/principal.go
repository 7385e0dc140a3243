package middleware

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

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

// String returns "key", "session", or "none" for the zero Kind.
func (k Kind) String() string {
	switch k {
	case KindKey:
		return "key"
	case KindSession:
		return "session"
	}
	return "none"
}

// Principal is who makes a request, as keycap sees it. The zero Principal
// is nobody (Kind 0). It is a value and may be kept; what its methods return
// is the caller's to change, and changing it changes nothing in keycap.
type Principal struct {
	kind    Kind
	keyID   string
	ownerID string
	perms   policy.Permissions // shared with keycap: never handed out
	key     *keys.Verified     // the key, for KindKey; shared: never handed out

	subject     policy.Subject   // the owner as the Subjects said at this request, for the policy's Records
	restriction policy.Resources // the key's effective restriction to records; shared: never handed out
	st          *state           // the request's state: its answers about records; nil outside a request
}

// Kind says how the caller authenticated: KindKey or KindSession.
func (p Principal) Kind() Kind { return p.kind }

// KeyID returns the key's id; "" for a session.
func (p Principal) KeyID() string { return p.keyID }

// OwnerID returns the user: the key's owner, or the logged-in user.
func (p Principal) OwnerID() string { return p.ownerID }

// Permissions returns what the caller may do now: a key's effective
// permissions (its own cut to the owner's current cap and its ancestors'),
// or a session user's cap. It is a copy (checking with [Principal.Has]
// copies nothing).
func (p Principal) Permissions() policy.Permissions { return p.perms.Clone() }

// Has reports whether the principal holds every "resource:action".
func (p Principal) Has(permissions ...string) bool {
	return policy.Satisfies(p.perms, permissions...)
}

// Key reads the key's current record from the Store for KindKey (its
// name, metadata, expiry, quota, last use...): one read through the
// Manager ([keys.Manager.Get]) at each call, as no cache holds what
// verification does not need. nil and no error for a session; the Store's
// error ([keys.ErrNotFound] once the key is pruned) otherwise. The record
// is the caller's.
func (p Principal) Key(ctx context.Context) (*keys.Key, error) {
	if p.key == nil {
		return nil, nil
	}
	if p.st == nil {
		return nil, errors.New("middleware: Principal.Key needs the Principal of a request (PrincipalFrom)")
	}
	return p.st.kc.manager.Get(ctx, keys.Ref{Owner: p.ownerID, ID: p.keyID})
}

// Organization reports whether the caller is a key of an organization (or
// another non-person subject, [policy.Subject].Organization): OwnerID is
// then the organization's id, not a user's. False for a session.
func (p Principal) Organization() bool { return p.key != nil && p.key.Subject.Organization }

// KeyKind returns the kind of the key ([keys.Verified].Kind), picked from
// its prefix: "" for the default kind and for a session.
func (p Principal) KeyKind() string {
	if p.key == nil {
		return ""
	}
	return p.key.Kind
}

type stateKey struct{} // unexported: nobody else can collide

// state is what Authenticate leaves in the request context: the verified
// key, or what is needed to resolve the session user on demand (most
// requests that carry no key never need it). It is itself the request's
// context (the parent, plus itself under stateKey), which saves the
// allocations of a context.WithValue on every request. It is small (48
// bytes for a key) because it is allocated on every request: the key's
// Principal is derived from the shared Verified when asked for.
type state struct {
	context.Context
	kc         *Keycap
	key        *keys.Verified                // the key, for KindKey: set before the request is handed on, never written after; shared, read-only
	session    *sessionState                 // the session user, resolved on demand; nil for a key
	quotaSpent bool                          // Require consumed the key's quota for this request
	records    atomic.Pointer[recordAnswers] // the policy's answers about records, asked once per request and record; made when first asked
}

// answers returns the request's answers about records, made at the first
// question: most requests ask none, and the state stays small.
func (s *state) answers() *recordAnswers {
	if a := s.records.Load(); a != nil {
		return a
	}
	s.records.CompareAndSwap(nil, new(recordAnswers))
	return s.records.Load()
}

// sessionState resolves the session user of a request without a key, once.
type sessionState struct {
	once      sync.Once
	principal Principal
	err       error
}

// newState returns the state of a request with context ctx that presents
// no key (yet): one allocation holds both parts.
func newState(ctx context.Context, kc *Keycap) *state {
	both := &struct {
		state
		sessionState
	}{state: state{Context: ctx, kc: kc}}
	both.state.session = &both.sessionState
	return &both.state
}

// keyState returns the state of a request with context ctx authenticated
// by the key v.
func keyState(ctx context.Context, kc *Keycap, v *keys.Verified) *state {
	return &state{Context: ctx, kc: kc, key: v}
}

// keyPrincipal returns the Principal of the verified key of s.
func (s *state) keyPrincipal() Principal {
	v := s.key
	return Principal{kind: KindKey, keyID: v.ID, ownerID: v.OwnerID, perms: v.Permissions, key: v,
		subject: v.Subject, restriction: v.Resources, st: s}
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
	if s.key != nil {
		return s.keyPrincipal(), nil
	}
	ss := s.session
	ss.once.Do(func() {
		ss.principal, ss.err = s.kc.sessionPrincipal(ctx)
		if ss.principal.kind != 0 {
			ss.principal.st = s
		}
	})
	return ss.principal, ss.err
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
	return p, err == nil && p.kind != 0
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
