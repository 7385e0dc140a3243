package middleware

import (
	"net/http"
	"strings"

	"github.com/keycaphq/keycap"
)

// KeysHandler returns the handler for the keys API at Options.Path
// (default "/api-keys"). It serves the path itself and everything below
// it, so mount it for both:
//
//	kc.Mount(mux)                               // http.ServeMux, gorilla/mux
//	r.Mount("/api-keys", kc.KeysHandler())      // chi
//
// Routes, relative to the path, all answering JSON:
//
//	POST   /              create {"name", "description"?, "permissions"? or "template"?, "expires_in"?,
//	                      "remaining"?, "refill_amount"?, "refill_interval_seconds"?, "allowed_ips"?,
//	                      "kind"?, "metadata"?, "resources"?} → 201 with the key, shown once
//	GET    /              list the caller's keys (?limit=, ?cursor=) → {"keys", "next_cursor"}
//	GET    /grantable     the caller's cap (?kind=) → {"permissions", "known", "allow_client_permissions",
//	                      "max_lifetime_seconds", "allow_list_required", "templates", "records"}
//	GET    /activity      recent events about the caller's keys (?limit=), when
//	                      Options.Activity is set (else 404) → {"events"}
//	GET    /{id}          one key
//	PATCH  /{id}          {"name"?, "description"?, "permissions"?, "expires_in"?, "disabled"?,
//	                      "allowed_ips"?, "metadata"?, "resources"?, "remaining"? (null: remove),
//	                      "refill_amount"?, "refill_interval_seconds"?}: one change, all or nothing
//	DELETE /{id}          revoke (optional body {"reason"})
//	POST   /{id}/rotate   {"grace_seconds"?} → the new key, shown once
//
// and, for other programs (no session, no CSRF check):
//
//	POST   /introspect    token=<key> → RFC 7662 {"active", ...}, when Options.Introspection is set
//	POST   /revoke        token=<key> → 200: the holder revokes the key (RFC 7009)
//	*      /forward-auth  a gateway's subrequest → 200 with the caller's headers, or a refusal,
//	                      when Options.ForwardAuth is set
//	GET    /openapi.json  the OpenAPI 3.1 document of all of these ([Keycap.OpenAPI])
//
// The caller is the logged-in session user, or an API key when
// Options.AllowDelegation is set. Another user's key answers 404 like a
// missing one, unless the caller holds Options.AdminPermission and names
// the owner with ?owner=. With ?owner=<organization> a logged-in member
// whose rights in it hold the policy's ManageKeys manages an
// organization's keys on every route, within its cap and their rights
// (keys.Manager.Manages). Cross-origin browser requests that change state
// are refused (403 CSRF). Nothing is written on any refusal. Other methods
// answer 405 with an Allow header.
func (kc *Keycap) KeysHandler() http.Handler { return kc.keys }

// Mount registers [Keycap.KeysHandler] on mux for Options.Path and
// everything below it: two patterns, since a ServeMux pattern ending in a
// slash would redirect POST /api-keys.
func (kc *Keycap) Mount(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle(kc.path, kc.keys)
	mux.Handle(kc.path+"/", kc.keys)
}

// keysRouter builds the keys handler: a ServeMux with method patterns (405
// and Allow come with it), behind CSRF protection and authentication.
func (kc *Keycap) keysRouter() http.Handler {
	mux := http.NewServeMux()
	p := kc.path
	handle := func(pattern string, serve func(http.ResponseWriter, *http.Request, Principal) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			caller, err := kc.caller(r)
			if err == nil {
				err = serve(w, r, caller)
			}
			if err != nil {
				kc.fail(w, r, err)
			}
		})
	}
	for _, collection := range []string{p, p + "/{$}"} {
		handle("POST "+collection, kc.create)
		handle("GET "+collection, kc.list)
	}
	handle("GET "+p+"/grantable", kc.grantable)
	handle("GET "+p+"/activity", kc.activity)
	for _, name := range []string{"/grantable", "/activity"} { // not key ids: 405, not a key lookup
		for _, method := range []string{"PATCH ", "DELETE "} {
			mux.Handle(method+p+name, kc.methodNotAllowed("GET, HEAD"))
		}
	}
	handle("GET "+p+"/{id}", kc.get)
	handle("PATCH "+p+"/{id}", kc.update)
	handle("DELETE "+p+"/{id}", kc.revoke)
	handle("POST "+p+"/{id}/rotate", kc.rotate)
	kc.protocolRoutes(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) > len(p)+1 && strings.HasSuffix(r.URL.Path, "/") && r.URL.RawPath == "" {
			// "/api-keys/{id}/" names what "/api-keys/{id}" does. A path with
			// escaped characters (%2F) is left alone: decoding it here would
			// turn an escaped slash into a separator.
			r = r.Clone(r.Context())
			r.URL.Path = strings.TrimRight(r.URL.Path, "/")
			r.URL.RawPath = ""
		}
		if r.URL.Path == p+"/forward-auth" { // whatever the method: a gateway's subrequest keeps the client's
			kc.forwardAuth(w, r)
			return
		}
		if h, pattern := mux.Handler(r); pattern == "" {
			kc.refuseRoute(w, r, h)
			return
		}
		if !isSafe(r.Method) && !kc.isProtocol(r.URL.Path) {
			if err := kc.csrf.Check(r); err != nil {
				kc.fail(w, r, csrfError(err))
				return
			}
		}
		mux.ServeHTTP(w, r) // matches again, and sets the path values
	})
}

// refuseRoute answers a request no route matched in keycap's JSON: 405 with
// the Allow header the ServeMux computed, or 404.
func (kc *Keycap) refuseRoute(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r) // the mux's own 404 or 405 handler: it only sets headers and a status
	if rec.status == http.StatusMethodNotAllowed {
		allow := rec.header.Get("Allow")
		if name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/'):]; name == "/grantable" || name == "/activity" {
			allow = "GET, HEAD" // the mux also counts the 405 answers registered for them
		}
		kc.methodNotAllowed(allow).ServeHTTP(w, r)
		return
	}
	kc.fail(w, r, keycap.New(keycap.CodeNotFound, "no such route under "+kc.path))
}

// methodNotAllowed answers 405 with allow.
func (kc *Keycap) methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		kc.fail(w, r, keycap.New(keycap.CodeMethodNotAllowed, r.Method+" is not allowed here; use "+allow))
	})
}

// headerRecorder keeps the status and headers of the mux's refusal and
// drops its plain-text body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int)      { h.status = status }

// caller authenticates a request to the keys handler: the key verified by
// Authenticate (or presented here, if Authenticate does not run in front),
// else the session user.
func (kc *Keycap) caller(r *http.Request) (Principal, error) {
	st := stateFrom(r.Context())
	if st == nil {
		st = newState(r.Context(), kc)
		if raw, ok := kc.keyFrom(r); ok {
			v, err := kc.verify(r, raw)
			if err != nil {
				return Principal{}, err
			}
			st = keyState(r.Context(), kc, v)
		}
	}
	p, err := st.resolve(r.Context())
	switch {
	case err != nil:
		return Principal{}, err
	case p.kind == 0:
		return Principal{}, unauthenticated()
	case p.kind == KindKey && !kc.delegation:
		return Principal{}, keycap.New(keycap.CodeDelegationNotAllowed,
			"API keys may not manage API keys here; log in to the app to do this")
	}
	return p, nil
}
