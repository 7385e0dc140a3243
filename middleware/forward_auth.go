package middleware

import (
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/policy"
)

// ForwardAuth sets up {Path}/forward-auth, which answers a gateway's
// question "may this request through?" (nginx auth_request, Caddy
// forward_auth, Traefik ForwardAuth, Envoy ext_authz over HTTP). The
// gateway sends it the client's headers, with the original method and URI
// in MethodHeader and URIHeader; the key is read exactly as Authenticate
// reads it. The answer is 200 with the caller in OwnerHeader, KeyHeader and
// PermissionsHeader, or keycap's usual refusal: 401 (no key, a bad one),
// 403 (a permission missing, no rule for the route), 429 (rate limit,
// quota). The zero value (no Rules) sets nothing up: the route answers 404.
type ForwardAuth struct {
	// Rules says which permissions a key needs for each route of the
	// forwarded request: http.ServeMux patterns, with or without a method
	// and without a host ("GET /api/files/{id}", "DELETE /api/", "/"), to
	// the permissions a key must all hold there ("resource:action"); an
	// empty list lets any working key through. The most specific pattern
	// wins, as in a ServeMux. A route no rule matches is refused (403
	// FORBIDDEN): add "/" for a default. Set by the app, never read from
	// the request.
	Rules map[string][]string
	// MethodHeader and URIHeader carry the original request's method and
	// URI (path and query), as the gateway sets them; "" means
	// "X-Forwarded-Method" and "X-Forwarded-Uri" (Caddy and Traefik set
	// these; nginx needs proxy_set_header). A request without them is 400
	// INVALID_FIELD: the gateway is not configured.
	MethodHeader, URIHeader string
	// OwnerHeader, KeyHeader and PermissionsHeader name the headers of a
	// 200 answer: the key's owner, its id, and its effective permissions
	// ("files:read projects:read"). "" means "X-Keycap-Owner",
	// "X-Keycap-Key-Id" and "X-Keycap-Permissions". Have the gateway copy
	// them to the upstream request, replacing whatever the client sent.
	OwnerHeader, KeyHeader, PermissionsHeader string
}

// forwardRules is a ForwardAuth compiled by [New].
type forwardRules struct {
	ForwardAuth
	mux   *http.ServeMux      // the patterns of Rules, to match forwarded requests
	needs map[string][]string // pattern → permissions
}

func compileForwardAuth(f ForwardAuth) (rules *forwardRules, err error) {
	if len(f.Rules) == 0 {
		return nil, nil
	}
	defaults := []struct {
		field *string
		name  string
	}{{&f.MethodHeader, "X-Forwarded-Method"}, {&f.URIHeader, "X-Forwarded-Uri"},
		{&f.OwnerHeader, "X-Keycap-Owner"}, {&f.KeyHeader, "X-Keycap-Key-Id"}, {&f.PermissionsHeader, "X-Keycap-Permissions"}}
	for _, d := range defaults {
		if *d.field == "" {
			*d.field = d.name
		}
		if !validHeaderName(*d.field) {
			return nil, fmt.Errorf("middleware: Options.ForwardAuth: %q is not a header name", *d.field)
		}
		*d.field = textproto.CanonicalMIMEHeaderKey(*d.field)
	}
	rules = &forwardRules{ForwardAuth: f, mux: http.NewServeMux(), needs: map[string][]string{}}
	defer func() { // ServeMux.Handle panics on a bad or conflicting pattern
		if p := recover(); p != nil {
			rules, err = nil, fmt.Errorf("middleware: Options.ForwardAuth.Rules: %v", p)
		}
	}()
	for pattern, perms := range f.Rules {
		if _, err := policy.Parse(perms...); len(perms) > 0 && err != nil {
			return nil, fmt.Errorf("middleware: Options.ForwardAuth.Rules[%q]: %v", pattern, err)
		}
		if _, route, _ := strings.Cut(pattern, " "); !strings.HasPrefix(route, "/") && !strings.HasPrefix(pattern, "/") {
			return nil, fmt.Errorf("middleware: Options.ForwardAuth.Rules[%q]: a pattern is [METHOD ]/path, with no host", pattern)
		}
		rules.mux.Handle(pattern, http.NotFoundHandler())
		rules.needs[pattern] = append([]string(nil), perms...)
	}
	return rules, nil
}

func validHeaderName(name string) bool {
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return name != ""
}

// forwardAuth serves {Path}/forward-auth, whatever its method.
func (kc *Keycap) forwardAuth(w http.ResponseWriter, r *http.Request) {
	fa := kc.forward
	if fa == nil {
		kc.notConfigured(w, r, "ForwardAuth")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	needs, err := fa.route(r)
	if err != nil {
		kc.fail(w, r, err)
		return
	}
	p, st, err := kc.keyCaller(w, r)
	switch {
	case err != nil:
	case p.kind == 0:
		err = keycap.New(keycap.CodeUnauthenticated, "an API key is required: send Authorization: Bearer <key>")
	case p.perms.IsEmpty():
		// Introspection calls such a key inactive: no gateway route lets it
		// through either, whatever the rule asks.
		err = keycap.New(keycap.CodeForbidden, "this key holds no permission any more (its owner's rights changed): create a new one")
	case needs == nil:
		err = keycap.New(keycap.CodeForbidden, "no route of this gateway lets API keys reach "+r.Header.Get(fa.MethodHeader)+" "+r.Header.Get(fa.URIHeader))
	default:
		if missing := policy.Missing(p.perms, needs...); missing != nil {
			err = insufficient(w.Header(), KindKey, missing)
		} else if !st.quotaSpent {
			err = kc.consume(w, r, st)
		}
	}
	if err != nil {
		kc.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set(fa.OwnerHeader, p.ownerID)
	h.Set(fa.KeyHeader, p.keyID)
	h.Set(fa.PermissionsHeader, p.perms.String())
	w.WriteHeader(http.StatusOK)
}

// route returns the permissions the forwarded request needs: nil when no
// rule matches it (an empty, non-nil slice when any key will do).
func (fa *forwardRules) route(r *http.Request) ([]string, error) {
	method, uri := r.Header.Get(fa.MethodHeader), r.Header.Get(fa.URIHeader)
	if method == "" || uri == "" {
		return nil, &keycap.Error{Code: keycap.CodeInvalidField, Message: "the gateway must send the original method and URI in " + fa.MethodHeader + " and " + fa.URIHeader,
			Details: &keycap.InvalidFieldDetails{Field: fa.URIHeader, Reason: "missing"}}
	}
	if !upperToken(method) {
		// Backends disagree on methods' case (Go's ServeMux matches it
		// exactly, others upper-case it): a rule must mean one method.
		return nil, &keycap.Error{Code: keycap.CodeInvalidField, Message: "the forwarded method must be upper-case letters, such as GET: " + method,
			Details: &keycap.InvalidFieldDetails{Field: fa.MethodHeader, Reason: "not an upper-case method"}}
	}
	u, err := url.ParseRequestURI(uri)
	// An escaped slash (%2F) or any other escape that decodes differently
	// from how it reads (u.RawPath set) would let the backend route on a
	// path the rule never saw; a backslash is a separator to some servers.
	if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") || cleanPath(u.Path) != u.Path || u.RawPath != "" ||
		strings.ContainsRune(u.Path, '\\') {
		return nil, &keycap.Error{Code: keycap.CodeInvalidField, Message: "the forwarded URI is not a clean absolute path: " + uri,
			Details: &keycap.InvalidFieldDetails{Field: fa.URIHeader, Reason: "not a clean absolute path"}}
	}
	_, pattern := fa.mux.Handler(&http.Request{Method: method, URL: u, Host: ""})
	needs, ok := fa.needs[pattern]
	if !ok {
		return nil, nil
	}
	if needs == nil {
		needs = []string{}
	}
	return needs, nil
}

// cleanPath is path.Clean keeping a trailing slash, as ServeMux has it.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// upperToken reports whether m is an HTTP method of upper-case letters.
func upperToken(m string) bool {
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return m != ""
}
