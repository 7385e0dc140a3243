package middleware

import "net/http"

// SkipForKeys wraps session middleware, such as scs's LoadAndSave, so that
// requests Authenticate verified a key for bypass it. An API call made
// with a key needs no session, and loading one (plus the cookie and Vary
// bookkeeping) costs scs about as much as verifying the key. Requests
// without a key, browser requests included, go through it as before:
//
//	handler := kc.Authenticate(kc.SkipForKeys(sm.LoadAndSave)(mux))
//
// With this wiring, handlers reached with a key must not read the session
// (scs panics without session data); keycap's own handlers never do.
func (kc *Keycap) SkipForKeys(sessions func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		withSessions := sessions(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if st := stateFrom(r.Context()); st != nil && st.principal.Kind == KindKey {
				next.ServeHTTP(w, r)
				return
			}
			withSessions.ServeHTTP(w, r)
		})
	}
}
