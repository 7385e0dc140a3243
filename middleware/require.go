package middleware

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/policy"
)

// Require returns middleware that lets a request through only if its
// caller holds every permission ("resource:action"): an API key verified by
// [Keycap.Authenticate] is checked against its effective permissions, a
// logged-in session user against their own cap, so one guard serves both.
//
// Refusals: 401 UNAUTHENTICATED with nobody authenticated; 403
// INSUFFICIENT_PERMISSIONS naming the missing permissions in
// details.missing and in the X-Accepted-Permissions header; 403 CSRF for a
// cross-origin browser request that changes state on a session; 500
// MISCONFIGURED when Authenticate does not run in front; 429
// QUOTA_EXCEEDED for a key whose quota is spent. A key with a quota spends
// one request of it when a Require lets the request through (once, however
// many guards it passes); the remainder is in X-Quota-Remaining.
//
// Require panics at once (at route setup, not per request) if a permission
// is not of the form "resource:action" or breaks the permission grammar.
func Require(permissions ...string) func(http.Handler) http.Handler {
	if len(permissions) == 0 {
		panic("middleware.Require: name at least one permission")
	}
	if _, err := policy.Parse(permissions...); err != nil {
		panic("middleware.Require: " + err.Error())
	}
	required := append([]string(nil), permissions...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, p, ok := guard(w, r, "Require")
			if !ok {
				return
			}
			kc := st.kc
			if missing := policy.Missing(p.perms, required...); missing != nil {
				kc.fail(w, r, insufficient(w.Header(), p.kind, missing))
				return
			}
			if p.kind == KindKey && !st.quotaSpent {
				if err := kc.consume(w, r, st); err != nil {
					kc.fail(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// consume spends one request of the key's quota, once per request, after
// every other check passed: a refused request never spends quota.
func (kc *Keycap) consume(w http.ResponseWriter, r *http.Request, st *state) error {
	st.quotaSpent = true
	remaining, ok, err := kc.manager.Consume(r.Context(), st.key)
	switch {
	case err != nil:
		return err
	case !ok:
		return keycap.New(keycap.CodeQuotaExceeded, "this key's request quota is spent; wait for its refill or create a new key")
	case remaining >= 0:
		w.Header().Set("X-Quota-Remaining", strconv.FormatInt(remaining, 10))
	}
	return nil
}

// insufficient returns the refusal of a caller of kind missing
// permissions, and sets its headers in h: X-Accepted-Permissions, and for a
// key the RFC 6750 §3.1 challenge naming the missing scope.
func insufficient(h http.Header, kind Kind, missing []string) *keycap.Error {
	h.Set("X-Accepted-Permissions", strings.Join(missing, ", "))
	if kind == KindKey {
		h.Set("WWW-Authenticate", `Bearer realm="api", error="insufficient_scope", scope="`+strings.Join(missing, " ")+`"`)
	}
	return &keycap.Error{
		Code:    keycap.CodeInsufficientPermissions,
		Message: "this needs permissions the caller does not hold: " + strings.Join(missing, ", "),
		Details: &keycap.InsufficientDetails{Missing: missing},
	}
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

func csrfError(err error) *keycap.Error {
	return &keycap.Error{Code: keycap.CodeCSRF, Err: err,
		Message: "cross-origin requests may not change state here; send the request from the app's own pages"}
}
