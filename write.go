package keycap

import (
	"cmp"
	"encoding/json"
	"net/http"
	"unicode/utf8"
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
	w.Header()["Content-Type"] = []string{"application/json; charset=utf-8"}
	w.WriteHeader(status)
	if e.Details == nil {
		// The common case, refused keys among them: written by hand, as
		// encoding/json would (TestWriteErrorBody, FuzzAppendJSONString).
		body := make([]byte, 0, 48+len(e.Code)+len(message))
		body = append(body, `{"code":`...)
		body = appendJSONString(body, string(e.Code))
		body = append(body, `,"message":`...)
		body = appendJSONString(body, message)
		body = append(body, ",\"details\":{}}\n"...)
		_, _ = w.Write(body)
		return
	}
	body := struct {
		Code    Code   `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details"`
	}{e.Code, message, e.Details}
	_ = json.NewEncoder(w).Encode(body)
}

// appendJSONString appends s to b as a JSON string, escaped exactly as
// encoding/json escapes it (HTML characters and U+2028/U+2029 included,
// invalid UTF-8 as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		} else {
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// prepare maps err and sets the headers every error answer carries; it
// returns the status and the message to send.
func prepare(w http.ResponseWriter, err error) (*Error, int, string) {
	e := From(err)
	status, message := e.Code.Status(), e.Message
	message = cmp.Or(message, http.StatusText(status))
	h := w.Header()
	// Canonical names, set directly: Header.Set would canonicalize them
	// on every refusal.
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	if status == http.StatusUnauthorized {
		SetChallenge(h, e.Code)
	}
	return e, status, message
}

// SetChallenge sets the RFC 6750 WWW-Authenticate challenge of a 401 with
// code, unless h has one: Bearer realm="api", with error="invalid_token"
// when a token was sent (any code but UNAUTHENTICATED).
func SetChallenge(h http.Header, code Code) {
	if v := h["Www-Authenticate"]; len(v) > 0 && v[0] != "" {
		return
	}
	challenge := `Bearer realm="api", error="invalid_token"`
	if code == CodeUnauthenticated {
		challenge = `Bearer realm="api"`
	}
	h["Www-Authenticate"] = []string{challenge}
}
