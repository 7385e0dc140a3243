package middleware

import (
	"net/http"
	"strings"

	"github.com/keycaphq/keycap"
)

// KeysHandler returns the handler for the keys API, mounted at
// Options.Path (default "/api-keys"); register it for the path and the
// path with a trailing slash:
//
//	mux.Handle("/api-keys", h)  // POST and GET /api-keys
//	mux.Handle("/api-keys/", h) // /api-keys/grantable, /api-keys/{id}, ...
//
// Routes, relative to the path, all answering JSON:
//
//	POST   /              create {"name", "permissions"?, "expires_in"?} → 201 with the key, shown once
//	GET    /              list the caller's keys (?limit=, ?cursor=) → {"keys", "next_cursor"}
//	GET    /grantable     the caller's cap → {"permissions", "known", ...}
//	GET    /{id}          one key
//	PATCH  /{id}          {"name"?, "permissions"?, "expires_in"?, "disabled"?}
//	DELETE /{id}          revoke (optional body {"reason"})
//	POST   /{id}/rotate   {"grace_seconds"?} → the new key, shown once
//	GET    /activity      recent events about the caller's keys (?limit=), when the
//	                      Manager's Auditor is a keys.EventLog → {"events"}
//
// The caller is the logged-in session user, or an API key when
// Options.AllowDelegation is set. Another user's key answers 404 like a
// missing one, unless the caller holds Options.AdminPermission and names
// the owner with ?owner=. Cross-origin browser requests that change state
// are refused (403 CSRF). Nothing is written on any refusal.
func (kc *Keycap) KeysHandler() http.Handler {
	return http.HandlerFunc(kc.serveKeys)
}

type route int

const (
	routeCollection route = iota + 1 // /
	routeGrantable                   // /grantable
	routeKey                         // /{id}
	routeRotate                      // /{id}/rotate
	routeActivity                    // /activity
)

var allowed = map[route]string{
	routeCollection: "GET, POST",
	routeGrantable:  "GET",
	routeKey:        "GET, PATCH, DELETE",
	routeRotate:     "POST",
	routeActivity:   "GET",
}

func (kc *Keycap) serveKeys(w http.ResponseWriter, r *http.Request) {
	rt, id := kc.route(r.URL.Path)
	if rt == 0 {
		keycap.WriteError(w, keycap.New(keycap.CodeNotFound, http.StatusNotFound, "no such route under "+kc.path))
		return
	}
	if !methodAllowed(rt, r.Method) {
		w.Header().Set("Allow", allowed[rt])
		keycap.WriteError(w, keycap.New(keycap.CodeMethodNotAllowed, http.StatusMethodNotAllowed,
			r.Method+" is not allowed here; use "+allowed[rt]))
		return
	}
	if !isSafe(r.Method) {
		if err := kc.csrf.Check(r); err != nil {
			keycap.WriteError(w, csrfError(err))
			return
		}
	}
	p, err := kc.caller(r)
	if err != nil {
		keycap.WriteError(w, err)
		return
	}
	if id != "" {
		r.SetPathValue("id", id)
	}
	switch {
	case rt == routeCollection && r.Method == http.MethodGet:
		err = kc.list(w, r, p)
	case rt == routeCollection:
		err = kc.create(w, r, p)
	case rt == routeGrantable:
		err = kc.grantable(w, r, p)
	case rt == routeActivity:
		err = kc.activity(w, r, p)
	case rt == routeKey && r.Method == http.MethodGet:
		err = kc.get(w, r, p)
	case rt == routeKey && r.Method == http.MethodPatch:
		err = kc.update(w, r, p)
	case rt == routeKey:
		err = kc.revoke(w, r, p)
	default:
		err = kc.rotate(w, r, p)
	}
	if err != nil {
		keycap.WriteError(w, err)
	}
}

// route maps a request path to a route and a key id.
func (kc *Keycap) route(path string) (route, string) {
	rest, ok := strings.CutPrefix(path, kc.path)
	if !ok || (rest != "" && rest[0] != '/') {
		return 0, ""
	}
	rest = strings.Trim(rest, "/")
	if rest == "" {
		return routeCollection, ""
	}
	id, tail, _ := strings.Cut(rest, "/")
	switch {
	case tail == "" && id == "grantable":
		return routeGrantable, ""
	case tail == "" && id == "activity":
		return routeActivity, ""
	case tail == "":
		return routeKey, id
	case tail == "rotate":
		return routeRotate, id
	}
	return 0, ""
}

// caller authenticates a request to the keys handler: the key verified by
// Authenticate (or presented here, if Authenticate does not run in front),
// else the session user.
func (kc *Keycap) caller(r *http.Request) (Principal, error) {
	st := stateFrom(r.Context())
	if st == nil {
		st = &state{Context: r.Context(), kc: kc}
		if raw, ok := kc.keyFrom(r); ok {
			if err := kc.verify(r, raw, st); err != nil {
				return Principal{}, err
			}
		}
	}
	p, err := st.resolve(r.Context())
	switch {
	case err != nil:
		return Principal{}, err
	case p.Kind == 0:
		return Principal{}, unauthenticated()
	case p.Kind == KindKey && !kc.delegation:
		return Principal{}, keycap.New(keycap.CodeDelegationNotAllowed, http.StatusForbidden,
			"API keys may not manage API keys here; log in to the app to do this")
	}
	return p, nil
}

func methodAllowed(rt route, method string) bool {
	for _, m := range strings.Split(allowed[rt], ", ") {
		if m == method {
			return true
		}
	}
	return false
}
