package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/keycaphq/keycap/policy"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/session"
)

// Authenticate verifies the API key of a request, read from
// "Authorization: Bearer <key>" or "X-API-Key: <key>", and puts the
// [Principal] in the request context for [Require] and [PrincipalFrom].
//
// A bad, revoked or expired key gets 401 (KEY_INVALID or KEY_EXPIRED) with
// a WWW-Authenticate header; a key over Options.RateLimit gets 429
// RATE_LIMITED; a store that cannot be asked gets 503
// STORE_UNAVAILABLE (a key is never accepted because the store was down).
// A request without a key passes through untouched, so session-authenticated
// browser requests keep working, unless Options.RequireKey is set. A Bearer
// token without this keycap's prefix (say, a JWT the app also accepts) is
// not a key and passes through too.
func (kc *Keycap) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := kc.keyFrom(r)
		if !ok {
			if kc.requireKey {
				kc.fail(w, r, keycap.New(keycap.CodeUnauthenticated, "an API key is required: send Authorization: Bearer <key>"))
				return
			}
			next.ServeHTTP(w, r.WithContext(newState(r.Context(), kc)))
			return
		}
		v, err := kc.verify(r, raw)
		if err != nil {
			kc.fail(w, r, err)
			return
		}
		st := keyState(r.Context(), kc, v)
		if kc.rateLimit.enabled() {
			p := st.keyPrincipal()
			if err := kc.limit(w, r, &p); err != nil {
				kc.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(st))
	})
}

// verify checks raw and returns the verified key (shared: read-only).
func (kc *Keycap) verify(r *http.Request, raw string) (*keys.Verified, error) {
	ip := kc.clientIP(r)
	v, err := kc.manager.Verify(r.Context(), raw, ip)
	if errors.Is(err, keys.ErrIPNotAllowed) {
		return nil, ipNotAllowed(ip, err)
	} else if err != nil {
		return nil, err
	}
	return v, nil
}

// keyFrom returns the API key a request presents, if any.
func (kc *Keycap) keyFrom(r *http.Request) (string, bool) {
	// Direct map reads with canonical names: Header.Get would canonicalize
	// "X-API-Key" on every request, which allocates.
	if v := r.Header["X-Api-Key"]; len(v) > 0 && v[0] != "" {
		return v[0], true
	}
	var auth string
	if v := r.Header["Authorization"]; len(v) > 0 {
		auth = v[0]
	}
	const scheme = "Bearer "
	if len(auth) <= len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return "", false
	}
	token := strings.TrimSpace(auth[len(scheme):])
	if !kc.isKey(token) {
		return "", false // another kind of bearer token: not ours to judge
	}
	return token, true
}

// sessionPrincipal returns the logged-in user as a Principal holding their
// cap, or the zero Principal when nobody is logged in.
func (kc *Keycap) sessionPrincipal(ctx context.Context) (Principal, error) {
	if kc.sessions == nil {
		return Principal{}, nil
	}
	id, err := kc.sessions.UserID(ctx)
	if err != nil {
		if errors.Is(err, session.ErrNoSession) {
			return Principal{}, misconfigured("sessions are not loaded for this request: wrap the handler with the session manager's LoadAndSave", err)
		}
		return Principal{}, err
	}
	if id == "" {
		return Principal{}, nil
	}
	subject, err := kc.manager.Subject(ctx, id)
	if errors.Is(err, policy.ErrUnknownSubject) {
		return Principal{}, nil // the user is gone: as good as logged out
	} else if err != nil {
		return Principal{}, err
	}
	userCap, err := kc.manager.Policy().Cap(ctx, subject)
	if err != nil {
		return Principal{}, err
	}
	// The cap may be the policy's own map: Principal never hands it out.
	return Principal{kind: KindSession, ownerID: id, perms: userCap, subject: subject}, nil
}

func misconfigured(message string, cause error) *keycap.Error {
	return &keycap.Error{Code: keycap.CodeMisconfigured, Message: message, Err: cause}
}

func unauthenticated() *keycap.Error {
	return keycap.New(keycap.CodeUnauthenticated, "log in, or send an API key as Authorization: Bearer <key>")
}
