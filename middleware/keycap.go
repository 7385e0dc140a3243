package middleware

import (
	"cmp"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// Options configures [New]. Manager is required; zero values of the rest
// mean the documented defaults.
type Options struct {
	// Manager verifies and manages keys.
	Manager *keys.Manager
	// Sessions tells who is logged in, for the keys handler and for
	// session-authenticated callers of guarded routes. nil means only API
	// keys authenticate, and the keys handler answers UNAUTHENTICATED to
	// every request without a key.
	Sessions session.Sessions
	// Path is where the keys handler is mounted; "" means "/api-keys".
	Path string
	// RequireKey makes Authenticate refuse requests that carry no key with
	// 401 UNAUTHENTICATED. By default they pass through untouched, so
	// session-authenticated browser requests keep working. Use it on a
	// Keycap that wraps only API routes: around the whole app it also
	// refuses the logged-in users of the keys handler, who have no key yet.
	RequireKey bool
	// AllowDelegation lets a request authenticated by an API key use the
	// keys handler. Such a key reaches only itself and the keys it created
	// (others answer KEY_NOT_FOUND); the keys it creates stay within its
	// permissions and expire no later, and at every verification they are
	// cut to it again and stop working when it does. By default such
	// requests get 403 DELEGATION_NOT_ALLOWED.
	AllowDelegation bool
	// AdminPermission, when set (e.g. "keys:admin"), lets callers holding
	// it list, revoke and disable any user's keys with ?owner=<user id>.
	AdminPermission string
	// TrustedOrigins may make cross-origin requests that change state, to
	// the keys handler and to session-authenticated guarded routes (e.g.
	// "https://admin.example.com"). Other cross-origin browser requests
	// that change state get 403 CSRF. Set it or CrossOrigin, not both.
	TrustedOrigins []string
	// CrossOrigin is the protection against cross-origin requests that
	// change state, for the keys handler and session-authenticated guarded
	// routes; nil means a new http.CrossOriginProtection trusting
	// TrustedOrigins. Set your own to share its trusted origins and bypass
	// patterns with the rest of the app. keycap uses its Check method: its
	// deny handler is not called; refusals are 403 CSRF through OnError.
	CrossOrigin *http.CrossOriginProtection
	// Activity lists recent events for GET /api-keys/activity, such as the
	// Auditor given to keys.Config (audit.Memory, sqlstore.NewAuditor).
	// nil: that route answers 404 NOT_FOUND.
	Activity audit.Log
	// Logger receives what keycap logs: the causes of 5xx answers (never a
	// key). nil means slog.Default().
	Logger *slog.Logger
	// OnError writes every refusal and error keycap answers (behind
	// Authenticate: a Require with no Authenticate in front has no Keycap
	// to ask, and answers 500 MISCONFIGURED itself), after keycap
	// has set its headers (WWW-Authenticate, Allow, Retry-After,
	// RateLimit-*) and logged the cause of a 5xx. err is a *keycap.Error;
	// write its Code's Status. nil means keycap.WriteError (the JSON body
	// {"code", "message", "details"}, or an RFC 9457 problem when the
	// request's Accept prefers application/problem+json). Like scs's
	// ErrorFunc and http.CrossOriginProtection's deny handler.
	OnError func(w http.ResponseWriter, r *http.Request, err *keycap.Error)
	// MaxBodyBytes bounds request bodies of the keys handler; 0 means 64 KiB.
	MaxBodyBytes int64
	// ClientIP returns the client address of a request: checked against
	// a key's allowed_ips (403 IP_NOT_ALLOWED from outside), recorded as
	// its last use and audited with refusals. nil means the host of
	// r.RemoteAddr, right when clients connect to the app itself. Behind
	// proxies of your own, use [ForwardedClientIP] with their addresses:
	// never read X-Forwarded-For as it comes, which any client can send.
	// Return "" when the address is unknown: a key limited to IP ranges
	// is then refused.
	ClientIP func(r *http.Request) string
	// RateLimit limits key-authenticated requests per key and per owner
	// (429 RATE_LIMITED with Retry-After and RateLimit-* headers). The zero
	// value sets no limit.
	RateLimit RateLimit
	// Introspection sets up POST {Path}/introspect (RFC 7662) for other
	// services; the zero value leaves it off (404).
	Introspection Introspection
	// ForwardAuth sets up {Path}/forward-auth for gateways; the zero value
	// leaves it off (404).
	ForwardAuth ForwardAuth
}

// Keycap holds the HTTP side of keycap. Create it with [New]; it is
// immutable and safe for concurrent use.
type Keycap struct {
	manager    *keys.Manager
	sessions   session.Sessions
	path       string
	requireKey bool
	delegation bool
	admin      string
	csrf       *http.CrossOriginProtection
	maxBody    int64
	clientIP   func(*http.Request) string
	rateLimit  RateLimit
	events     audit.Log // nil: no activity route
	logger     *slog.Logger
	onError    func(http.ResponseWriter, *http.Request, *keycap.Error)
	keys       http.Handler // the keys API: see KeysHandler
	prefixes   []string     // of every kind of key, the default's first

	introspection Introspection
	forward       *forwardRules // nil: no forward auth
	openapi       []byte        // the OpenAPI document, for path
}

// New validates o and returns a Keycap. Configuration errors are reported
// here, never per request.
func New(o Options) (*Keycap, error) {
	if o.Manager == nil {
		return nil, errors.New("middleware: Options.Manager is required")
	}
	kc := &Keycap{
		manager:    o.Manager,
		sessions:   o.Sessions,
		path:       strings.TrimSuffix(o.Path, "/"),
		requireKey: o.RequireKey,
		delegation: o.AllowDelegation,
		admin:      o.AdminPermission,
		csrf:       cmp.Or(o.CrossOrigin, http.NewCrossOriginProtection()),
		events:     o.Activity,
		logger:     cmp.Or(o.Logger, slog.Default()),
		onError:    o.OnError,
		maxBody:    o.MaxBodyBytes,
		clientIP:   o.ClientIP,
		rateLimit:  o.RateLimit,
	}
	kinds := o.Manager.Kinds()
	kc.prefixes = []string{kinds[""].Prefix} // the default kind's first
	for name, k := range kinds {
		if name != "" {
			kc.prefixes = append(kc.prefixes, k.Prefix)
		}
	}
	if err := kc.rateLimit.validate(); err != nil {
		return nil, err
	}
	if err := kc.protocols(o); err != nil {
		return nil, err
	}
	if o.Path == "" {
		kc.path = "/api-keys"
	}
	if !strings.HasPrefix(kc.path, "/") {
		return nil, errors.New(`middleware: Options.Path must start with "/"`)
	}
	if kc.admin != "" {
		if _, err := policy.Parse(kc.admin); err != nil {
			return nil, errors.New("middleware: Options.AdminPermission: " + err.Error())
		}
	}
	if o.CrossOrigin != nil && len(o.TrustedOrigins) > 0 {
		return nil, errors.New("middleware: set Options.TrustedOrigins or Options.CrossOrigin, not both: add the origins to your CrossOrigin")
	}
	for _, origin := range o.TrustedOrigins {
		if err := kc.csrf.AddTrustedOrigin(origin); err != nil {
			return nil, errors.New("middleware: Options.TrustedOrigins: " + err.Error())
		}
	}
	if o.MaxBodyBytes < 0 {
		return nil, errors.New("middleware: Options.MaxBodyBytes must not be negative")
	}
	if kc.maxBody == 0 {
		kc.maxBody = 64 << 10
	}
	if kc.clientIP == nil {
		kc.clientIP = remoteHost
	}
	if kc.onError == nil {
		kc.onError = func(w http.ResponseWriter, r *http.Request, err *keycap.Error) { keycap.WriteError(w, r, err) }
	}
	kc.keys = kc.keysRouter()
	var methodHeader, uriHeader string
	if kc.forward != nil {
		methodHeader, uriHeader = kc.forward.MethodHeader, kc.forward.URIHeader
	}
	kc.openapi = openAPIFor(kc.path, methodHeader, uriHeader)
	return kc, nil
}

// Manager returns the keys.Manager the Keycap uses.
func (kc *Keycap) Manager() *keys.Manager { return kc.manager }

// remoteHost returns the host of r.RemoteAddr. The server sets it as
// "host:port" (IPv6 hosts in brackets): the common IPv4 form is cut at its
// only colon without parsing; anything else goes through SplitHostPort.
func remoteHost(r *http.Request) string {
	a := r.RemoteAddr
	if i := strings.IndexByte(a, ':'); i > 0 && a[0] != '[' && strings.IndexByte(a[i+1:], ':') < 0 {
		return a[:i]
	}
	host, _, err := net.SplitHostPort(a)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// fail answers r with err: a 5xx cause is logged, never sent, and the
// error is written by Options.OnError.
func (kc *Keycap) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := keycap.From(err)
	status := e.Code.Status()
	if status >= 500 {
		kc.logger.LogAttrs(r.Context(), slog.LevelError, "keycap", slog.String("code", string(e.Code)),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", e.Err))
	}
	if status == http.StatusUnauthorized {
		keycap.SetChallenge(w.Header(), e.Code) // RFC 6750, whoever writes the body
	}
	kc.onError(w, r, e)
}
