package middleware

import (
	"errors"
	"net/http"
	"strings"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
)

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	const scheme = "Bearer "
	if len(auth) <= len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(auth[len(scheme):]), true
}

// isKey reports whether token has the form of this Keycap's keys (the
// prefix of one of their kinds), as Authenticate tells keys from other
// bearer tokens.
func (kc *Keycap) isKey(token string) bool {
	for _, prefix := range kc.prefixes {
		if len(token) > len(prefix) && token[:len(prefix)] == prefix && token[len(prefix)] == '_' {
			return true
		}
	}
	return false
}

// keyCaller returns the key a request presents, verified (and rate
// limited) by Authenticate in front, or else here, with its state; the
// zero Principal when the request presents no key.
func (kc *Keycap) keyCaller(w http.ResponseWriter, r *http.Request) (Principal, *state, error) {
	if st := stateFrom(r.Context()); st != nil && st.key != nil {
		return st.keyPrincipal(), st, nil
	}
	raw, ok := kc.keyFrom(r)
	if !ok {
		return Principal{}, nil, nil
	}
	v, err := kc.verify(r, raw)
	if err != nil {
		return Principal{}, nil, err
	}
	st := keyState(r.Context(), kc, v)
	p := st.keyPrincipal()
	if kc.rateLimit.enabled() {
		if err := kc.limit(w, r, &p); err != nil {
			return Principal{}, nil, err
		}
	}
	return p, st, nil
}

// spend counts v's introspection as a use: one request of its rate limit
// (the headers go nowhere: they are about v, not the caller) and of its
// quota. ok is false when either refuses.
func (kc *Keycap) spend(r *http.Request, v *keys.Verified) (ok bool, err error) {
	if kc.rateLimit.enabled() {
		p := Principal{kind: KindKey, keyID: v.ID, ownerID: v.OwnerID}
		var refused *keycap.Error
		if err := kc.limit(&headerRecorder{header: http.Header{}}, r, &p); errors.As(err, &refused) && refused.Code == keycap.CodeRateLimited {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	_, ok, err = kc.manager.Consume(r.Context(), v)
	return ok, err
}
