package middleware

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Introspection sets up POST {Path}/introspect, token introspection (RFC
// 7662): another service posts token=<key> and learns whether the key is
// active and what it may do. The zero value sets nothing up: the route
// answers 404 NOT_FOUND. Set Permission, Secret or both: they say who may
// ask.
type Introspection struct {
	// Permission lets a caller that presents a keycap key holding it
	// (e.g. "keys:introspect") introspect, the key sent as Authenticate
	// reads it; a key without it gets 403 INSUFFICIENT_PERMISSIONS. "":
	// keys may not introspect (403 FORBIDDEN).
	Permission string
	// Secret lets a caller that sends "Authorization: Bearer <Secret>"
	// introspect, compared in constant time; at least 32 bytes, from a
	// secure random source, shared with the services that ask. "": none.
	Secret string
	// CountAsUse makes the introspection of an active key a use of it: its
	// last use is recorded (from the request's client_ip parameter, the
	// address the asking service saw the key presented from), and one request of its rate limit and quota is spent; a
	// key over its limit or quota is then answered inactive. By default an
	// introspection changes nothing and spends nothing.
	CountAsUse bool
}

// configured reports whether the introspection route is set up.
func (i Introspection) configured() bool { return i.Permission != "" || i.Secret != "" }

func (i Introspection) validate() error {
	if i.Permission != "" {
		if _, err := policy.Parse(i.Permission); err != nil {
			return errors.New("middleware: Options.Introspection.Permission: " + err.Error())
		}
	}
	if i.Secret != "" && len(i.Secret) < keys.MinSecretLength {
		return errors.New("middleware: Options.Introspection.Secret must be at least 32 bytes: make one with openssl rand -hex 32")
	}
	if i.CountAsUse && !i.configured() {
		return errors.New("middleware: Options.Introspection.CountAsUse needs Permission or Secret, who may introspect")
	}
	return nil
}

// introspection is RFC 7662's answer. Inactive keys answer only
// {"active": false}, whatever the reason.
type introspection struct {
	Active      bool               `json:"active"`
	Scope       string             `json:"scope,omitempty"`     // the effective permissions, "files:read projects:read"
	Sub         string             `json:"sub,omitempty"`       // the owner
	ClientID    string             `json:"client_id,omitempty"` // the key's id, as RFC 7662 names the client
	KeyID       string             `json:"key_id,omitempty"`    // the same id, as keycap names it
	TokenType   string             `json:"token_type,omitempty"`
	Exp         int64              `json:"exp,omitempty"` // when the key expires, in Unix seconds; left out: never
	Iat         int64              `json:"iat,omitempty"` // when it was created
	Permissions policy.Permissions `json:"permissions,omitempty"`
	Remaining   *int64             `json:"remaining,omitempty"` // the tightest quota left along the key and its ancestors, when one applies
	Previous    bool               `json:"previous_secret,omitempty"`
	// Resources is the key's effective restriction to records (its own cut
	// to its ancestors'): a resource server serving records must admit the
	// key only on these, and only while the owner may; left out: none.
	Resources policy.Resources `json:"resources,omitempty"`
}

// introspect serves POST {Path}/introspect.
func (kc *Keycap) introspect(w http.ResponseWriter, r *http.Request) {
	if !kc.introspection.configured() {
		kc.notConfigured(w, r, "Introspection")
		return
	}
	token, form, err := kc.readToken(w, r)
	var clientIP string
	if err == nil {
		clientIP, err = presentedFrom(form)
	}
	if err == nil {
		err = kc.introspector(w, r)
	}
	var answer introspection
	if err == nil {
		answer, err = kc.describe(r, token, clientIP)
	}
	if err != nil {
		kc.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// presentedFrom reads the optional client_ip parameter of an
// introspection: the address the key was presented from, as the asking
// service saw it (RFC 7662 §2.1 lets a resource server send such context).
// A key limited to IP ranges is active only with one within them.
func presentedFrom(form url.Values) (string, error) {
	switch ips := form["client_ip"]; {
	case len(ips) == 0:
		return "", nil
	case len(ips) > 1:
		return "", invalidBody("send one client_ip", "client_ip")
	default:
		addr, err := netip.ParseAddr(ips[0])
		if err != nil || addr.Zone() != "" {
			return "", fieldError("client_ip", "client_ip must be the IP address the key was presented from, such as 203.0.113.7 or 2001:db8::7")
		}
		return addr.Unmap().String(), nil
	}
}

// introspector authenticates the caller of the introspection endpoint.
func (kc *Keycap) introspector(w http.ResponseWriter, r *http.Request) error {
	c := kc.introspection
	if c.Secret != "" {
		if token, ok := bearer(r); ok && !kc.isKey(token) {
			given, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(c.Secret))
			if subtle.ConstantTimeCompare(given[:], want[:]) == 1 {
				return nil
			}
			return keycap.New(keycap.CodeKeyInvalid, "the introspection credentials are not valid")
		}
	}
	p, _, err := kc.keyCaller(w, r)
	switch {
	case err != nil:
		return err
	case p.kind == 0:
		return keycap.New(keycap.CodeUnauthenticated, "introspection needs credentials: Authorization: Bearer <key or shared secret>")
	case c.Permission == "":
		return keycap.New(keycap.CodeForbidden, "API keys may not introspect here; use the shared secret")
	}
	if missing := policy.Missing(p.perms, c.Permission); missing != nil {
		return insufficient(w.Header(), KindKey, missing)
	}
	return nil
}

// describe introspects token: inactive for anything that is not a key that
// works now (never saying why); an error only when that cannot be told.
func (kc *Keycap) describe(r *http.Request, token, clientIP string) (introspection, error) {
	var v *keys.Verified
	var err error
	if kc.introspection.CountAsUse {
		v, err = kc.manager.Verify(r.Context(), token, clientIP)
	} else {
		v, err = kc.manager.Inspect(r.Context(), token, clientIP)
	}
	switch {
	case errors.Is(err, keys.ErrInvalid), errors.Is(err, keys.ErrExpired),
		errors.Is(err, keys.ErrIPNotAllowed):
		return introspection{}, nil
	case err != nil:
		return introspection{}, err
	case len(v.Permissions) == 0:
		return introspection{}, nil // demoted to nothing: it can do nothing
	case v.Remaining == 0:
		return introspection{}, nil // its quota, or an ancestor's, is spent: every request would be refused
	}
	if kc.introspection.CountAsUse {
		if ok, err := kc.spend(r, v); !ok || err != nil {
			return introspection{}, err
		}
	}
	answer := introspection{Active: true, Scope: v.Permissions.String(), Sub: v.OwnerID, ClientID: v.ID, KeyID: v.ID,
		TokenType: "Bearer", Iat: v.CreatedAt.Unix(), Permissions: v.Permissions, Previous: v.PreviousSecret, Resources: v.Resources}
	if v.Remaining >= 0 {
		answer.Remaining = &v.Remaining
	}
	if !v.ExpiresAt.IsZero() {
		answer.Exp = v.ExpiresAt.Unix()
	}
	return answer, nil
}
