package middleware

import (
	"net/http"

	"github.com/keycaphq/keycap/session"
)

// SkipForKeys loads sessions around next for requests without an API key,
// as sessions.LoadAndSave does, and gives requests [Keycap.Authenticate]
// verified a key for an empty session instead: an API call made with a key
// needs none, and loading one (a store read when the client sends a
// cookie, the cookie and Vary bookkeeping) costs scs about as much as
// verifying the key. Put it inside Authenticate:
//
//	handler := kc.Authenticate(kc.SkipForKeys(sessions)(mux))
//
// Handlers reached with a key may read the session (they see nobody logged
// in, never a panic); what they write to it is dropped. Where handlers must
// see or keep a session on requests that also carry a key, load sessions
// outside Authenticate instead, which is the plainer wiring:
//
//	handler := sm.LoadAndSave(kc.Authenticate(mux))
func (kc *Keycap) SkipForKeys(sessions session.Loader) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		withSessions := sessions.LoadAndSave(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st := stateFrom(r.Context())
			if st == nil || st.key == nil {
				withSessions.ServeHTTP(w, r)
				return
			}
			// The request's context is st, which no handler has seen yet:
			// put the empty session under it rather than copy the request.
			st.Context = sessions.Empty(st.Context)
			next.ServeHTTP(w, r)
		})
	}
}
