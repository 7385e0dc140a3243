package keycap

import (
	"cmp"
	"encoding/json"
	"net/http"
)

// WriteError writes err with its code's status, in the format r's Accept
// header prefers: keycap's JSON {"code": "...", "message": "...",
// "details": {...}}, or, when the client prefers application/problem+json
// to application/json, an RFC 9457 problem ([WriteProblem]). r may be nil:
// keycap's JSON. The cause of an error (Err) is never written, nor logged
// here: middleware.Keycap logs the causes of 5xx answers with its
// Options.Logger before writing. A 401 also gets a WWW-Authenticate header.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if r != nil && PrefersProblem(r.Header) {
		WriteProblem(w, err)
		return
	}
	e, status, message := prepare(w, err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	body := struct {
		Code    Code   `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details"`
	}{e.Code, message, e.Details}
	if body.Details == nil {
		body.Details = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(body)
}

// prepare maps err and sets the headers every error answer carries; it
// returns the status and the message to send.
func prepare(w http.ResponseWriter, err error) (*Error, int, string) {
	e := From(err)
	status, message := e.Code.Status(), e.Message
	message = cmp.Or(message, http.StatusText(status))
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusUnauthorized {
		SetChallenge(h, e.Code)
	}
	return e, status, message
}

// SetChallenge sets the RFC 6750 WWW-Authenticate challenge of a 401 with
// code, unless h has one: Bearer realm="api", with error="invalid_token"
// when a token was sent (any code but UNAUTHENTICATED).
func SetChallenge(h http.Header, code Code) {
	if h.Get("WWW-Authenticate") != "" {
		return
	}
	challenge := `Bearer realm="api"`
	if code != CodeUnauthenticated {
		challenge += `, error="invalid_token"`
	}
	h.Set("WWW-Authenticate", challenge)
}
