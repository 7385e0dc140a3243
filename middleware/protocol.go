package middleware

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
)

// protocolRoutes are the routes of the keys handler that serve other
// programs rather than a user's keys: introspection (RFC 7662), revocation
// of a presented key (RFC 7009), forward auth for gateways and the OpenAPI
// document. None of them acts on a session, so none needs the CSRF check:
// they are routed before it.
func (kc *Keycap) protocolRoutes(mux *http.ServeMux) {
	p := kc.path
	mux.HandleFunc("POST "+p+"/introspect", kc.introspect)
	mux.HandleFunc("POST "+p+"/revoke", kc.revokePresented)
	mux.HandleFunc("GET "+p+"/openapi.json", kc.serveOpenAPI)
	for _, name := range []string{"/introspect", "/revoke"} { // not key ids: 405, not a key lookup
		for _, method := range []string{"GET ", "PATCH ", "DELETE "} {
			mux.Handle(method+p+name, kc.methodNotAllowed("POST"))
		}
	}
	for _, method := range []string{"POST ", "PATCH ", "DELETE "} {
		mux.Handle(method+p+"/openapi.json", kc.methodNotAllowed("GET, HEAD"))
	}
}

// protocols validates and keeps the options of the protocol routes.
func (kc *Keycap) protocols(o Options) error {
	if err := o.Introspection.validate(); err != nil {
		return err
	}
	kc.introspection = o.Introspection
	forward, err := compileForwardAuth(o.ForwardAuth)
	kc.forward = forward
	return err
}

// revokedByHolder is the revocation of a key by whoever presents it.
var revokedByHolder = keys.RevokeRequest{Reason: "revoked by its holder (RFC 7009)"}

// isProtocol reports whether path is one of the protocol routes.
func (kc *Keycap) isProtocol(path string) bool {
	switch path {
	case kc.path + "/introspect", kc.path + "/revoke", kc.path + "/forward-auth", kc.path + "/openapi.json":
		return true
	}
	return false
}

// readToken reads the token parameter of an OAuth-style form body
// (application/x-www-form-urlencoded, as RFC 7662 and RFC 7009 send it):
// exactly one non-empty token, and the whole form for the other
// parameters a handler reads (token_type_hint is ignored). Anything else
// is INVALID_BODY.
func (kc *Keycap) readToken(w http.ResponseWriter, r *http.Request) (string, url.Values, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return "", nil, invalidBody("send the key as a form: Content-Type: application/x-www-form-urlencoded, token=<key>", "")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, kc.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", nil, invalidBody("the body is larger than "+strconv.FormatInt(kc.maxBody, 10)+" bytes", "")
		}
		return "", nil, invalidBody("the body could not be read", "")
	}
	form, err := url.ParseQuery(string(data))
	if err != nil {
		return "", nil, invalidBody("the body is not a valid form", "")
	}
	switch tokens := form["token"]; {
	case len(tokens) == 0 || tokens[0] == "":
		return "", nil, invalidBody("send the key as token=<key>", "token")
	case len(tokens) > 1:
		return "", nil, invalidBody("send one token", "token")
	default:
		return tokens[0], form, nil
	}
}

// revokePresented serves POST {Path}/revoke (RFC 7009): whoever holds a
// key revokes it by presenting it as token=<key>. The answer is 200 with
// an empty body whether or not the token was a key, so that nothing is
// learnt from it; only a bad form (400) and a store that cannot be asked
// (503) are refused.
func (kc *Keycap) revokePresented(w http.ResponseWriter, r *http.Request) {
	token, _, err := kc.readToken(w, r)
	if err == nil {
		req := revokedByHolder
		req.Presented = token
		_, err = kc.manager.Revoke(r.Context(), req)
		if errors.Is(err, keys.ErrInvalid) {
			err = nil // not a key of ours: the same answer, nothing learnt
		}
	}
	if err != nil {
		kc.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// notConfigured is the answer of a protocol route the app did not set up.
func (kc *Keycap) notConfigured(w http.ResponseWriter, r *http.Request, option string) {
	kc.fail(w, r, keycap.New(keycap.CodeNotFound, "no such route under "+kc.path+" (the app has not set middleware.Options."+option+")"))
}
