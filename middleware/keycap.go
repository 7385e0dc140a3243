package middleware

import (
	"errors"
	"net"
	"net/http"
	"strings"

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
	// TrustedOrigins may make cross-origin requests to the keys handler
	// (e.g. "https://admin.example.com"). Other cross-origin browser
	// requests that change state get 403 CSRF.
	TrustedOrigins []string
	// MaxBodyBytes bounds request bodies of the keys handler; 0 means 64 KiB.
	MaxBodyBytes int64
	// ClientIP returns the client address recorded as a key's last use;
	// nil means the host of r.RemoteAddr. Set it when behind a proxy.
	ClientIP func(r *http.Request) string
	// RateLimit limits key-authenticated requests per key and per owner
	// (429 RATE_LIMITED with Retry-After and RateLimit-* headers). The zero
	// value sets no limit.
	RateLimit RateLimit
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
	keys       http.Handler // the keys API: see KeysHandler
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
		csrf:       http.NewCrossOriginProtection(),
		maxBody:    o.MaxBodyBytes,
		clientIP:   o.ClientIP,
		rateLimit:  o.RateLimit,
	}
	if err := kc.rateLimit.validate(); err != nil {
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
	kc.keys = kc.keysRoutes()
	return kc, nil
}

// Manager returns the keys.Manager the Keycap uses.
func (kc *Keycap) Manager() *keys.Manager { return kc.manager }

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
