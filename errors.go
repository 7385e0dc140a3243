package keycap

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Code is a stable, machine-readable error code. Codes are never renamed;
// the README lists them all.
type Code string

// Error codes, with the HTTP status [WriteError] uses for each.
const (
	CodeExceedsMaximum          Code = "PERMISSIONS_EXCEED_MAXIMUM" // 403, *ExceedsMaximumDetails
	CodeInvalidPermissions      Code = "INVALID_PERMISSIONS"        // 400, *InvalidPermissionsDetails
	CodeLifetimeExceedsMaximum  Code = "LIFETIME_EXCEEDS_MAXIMUM"   // 403, *LifetimeDetails
	CodeInvalidBody             Code = "INVALID_BODY"               // 400, *InvalidBodyDetails
	CodeInvalidField            Code = "INVALID_FIELD"              // 400, *InvalidFieldDetails
	CodeUnauthenticated         Code = "UNAUTHENTICATED"            // 401
	CodeKeyInvalid              Code = "KEY_INVALID"                // 401: malformed, unknown, wrong secret, revoked, disabled
	CodeKeyExpired              Code = "KEY_EXPIRED"                // 401
	CodeKeyNotFound             Code = "KEY_NOT_FOUND"              // 404
	CodeKeyRevoked              Code = "KEY_REVOKED"                // 409: a revoked key cannot be changed
	CodeInsufficientPermissions Code = "INSUFFICIENT_PERMISSIONS"   // 403, *InsufficientDetails
	CodeDelegationNotAllowed    Code = "DELEGATION_NOT_ALLOWED"     // 403: a key may not manage keys here
	CodeDelegationExceedsKey    Code = "DELEGATION_EXCEEDS_KEY"     // 403, *DelegationDetails
	CodeSubjectDisabled         Code = "SUBJECT_DISABLED"           // 403
	CodeCSRF                    Code = "CSRF"                       // 403
	CodeForbidden               Code = "FORBIDDEN"                  // 403
	CodeRateLimited             Code = "RATE_LIMITED"               // 429, *RateLimitDetails
	CodeQuotaExceeded           Code = "QUOTA_EXCEEDED"             // 429
	CodeNotFound                Code = "NOT_FOUND"                  // 404: no such route
	CodeMethodNotAllowed        Code = "METHOD_NOT_ALLOWED"         // 405
	CodeStoreUnavailable        Code = "STORE_UNAVAILABLE"          // 503
	CodeMisconfigured           Code = "MISCONFIGURED"              // 500: the app's wiring is wrong
	CodeInternal                Code = "INTERNAL"                   // 500
)

// codeStatus is the status of each code, for an *Error that has none.
var codeStatus = map[Code]int{
	CodeExceedsMaximum: 403, CodeInvalidPermissions: 400, CodeLifetimeExceedsMaximum: 403, CodeInvalidBody: 400,
	CodeInvalidField: 400, CodeUnauthenticated: 401, CodeKeyInvalid: 401, CodeKeyExpired: 401, CodeKeyNotFound: 404,
	CodeKeyRevoked: 409, CodeInsufficientPermissions: 403, CodeDelegationNotAllowed: 403, CodeDelegationExceedsKey: 403,
	CodeSubjectDisabled: 403, CodeCSRF: 403, CodeForbidden: 403, CodeRateLimited: 429, CodeQuotaExceeded: 429,
	CodeNotFound: 404, CodeMethodNotAllowed: 405, CodeStoreUnavailable: 503, CodeMisconfigured: 500, CodeInternal: 500,
}

// Error is the error keycap answers with. Over HTTP it is written by
// [WriteError] as {"code", "message", "details"}; Err is logged, never sent.
type Error struct {
	Code    Code   // stable
	Message string // for humans; safe to show
	Details any    // typed per code, or nil
	Status  int    // the HTTP status
	Err     error  // internal cause
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, keycap.ErrExceedsMaximum) works for any such error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is; they carry only a Code.
var (
	ErrExceedsMaximum          = &Error{Code: CodeExceedsMaximum}
	ErrInvalidPermissions      = &Error{Code: CodeInvalidPermissions}
	ErrKeyInvalid              = &Error{Code: CodeKeyInvalid}
	ErrKeyExpired              = &Error{Code: CodeKeyExpired}
	ErrKeyNotFound             = &Error{Code: CodeKeyNotFound}
	ErrInsufficientPermissions = &Error{Code: CodeInsufficientPermissions}
	ErrStoreUnavailable        = &Error{Code: CodeStoreUnavailable}
)

// ExceedsMaximumDetails are the details of PERMISSIONS_EXCEED_MAXIMUM.
type ExceedsMaximumDetails struct {
	Exceeded policy.Permissions `json:"exceeded"` // requested but not allowed
	Maximum  policy.Permissions `json:"maximum"`  // what this caller may grant
}

// InvalidPermissionsDetails are the details of INVALID_PERMISSIONS.
type InvalidPermissionsDetails struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// LifetimeDetails are the details of LIFETIME_EXCEEDS_MAXIMUM, in seconds.
type LifetimeDetails struct {
	RequestedSeconds int64 `json:"requested_seconds"`
	MaximumSeconds   int64 `json:"maximum_seconds"`
}

// InvalidBodyDetails are the details of INVALID_BODY.
type InvalidBodyDetails struct {
	Reason string `json:"reason"`
	Field  string `json:"field,omitempty"`
}

// InvalidFieldDetails are the details of INVALID_FIELD.
type InvalidFieldDetails struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// InsufficientDetails are the details of INSUFFICIENT_PERMISSIONS.
type InsufficientDetails struct {
	Missing []string `json:"missing"` // "resource:action" the caller lacks
}

// DelegationDetails are the details of DELEGATION_EXCEEDS_KEY.
type DelegationDetails struct {
	Reason    string `json:"reason"`
	ExpiresAt string `json:"expires_at,omitempty"` // RFC 3339: the calling key's expiry
}

// RateLimitDetails are the details of RATE_LIMITED.
type RateLimitDetails struct {
	Scope             string `json:"scope"` // "key" or "owner"
	Limit             int64  `json:"limit"`
	RetryAfterSeconds int64  `json:"retry_after_seconds"`
}

// New returns an *Error with code, status and message.
func New(code Code, status int, message string) *Error {
	return &Error{Code: code, Status: status, Message: message}
}

// From maps any error to an *Error: an *Error is returned as is, the typed
// errors and sentinels of policy and keys get their code, and anything else
// becomes INTERNAL with err kept as the (unsent) cause.
func From(err error) *Error {
	var kerr *Error
	if errors.As(err, &kerr) {
		return kerr
	}
	var exceeds *policy.ExceedsError
	var invalid *policy.InvalidError
	var lifetime *policy.LifetimeError
	var field *keys.FieldError
	var delegation *keys.DelegationError
	switch {
	case errors.As(err, &exceeds):
		return &Error{Code: CodeExceedsMaximum, Status: http.StatusForbidden, Err: err,
			Message: "requested permissions exceed your maximum: " + exceeds.Exceeded.String(),
			Details: &ExceedsMaximumDetails{Exceeded: exceeds.Exceeded, Maximum: exceeds.Maximum}}
	case errors.As(err, &invalid):
		return &Error{Code: CodeInvalidPermissions, Status: http.StatusBadRequest, Err: err,
			Message: invalid.Error(), Details: &InvalidPermissionsDetails{Path: invalid.Path, Reason: invalid.Reason}}
	case errors.As(err, &lifetime):
		return &Error{Code: CodeLifetimeExceedsMaximum, Status: http.StatusForbidden, Err: err,
			Message: "the key may live at most " + strconv.FormatInt(int64(lifetime.Maximum.Seconds()), 10) + " seconds; ask for a shorter expires_in",
			Details: &LifetimeDetails{RequestedSeconds: int64(lifetime.Requested.Seconds()), MaximumSeconds: int64(lifetime.Maximum.Seconds())}}
	case errors.As(err, &field):
		return &Error{Code: CodeInvalidField, Status: http.StatusBadRequest, Err: err,
			Message: field.Field + ": " + field.Reason, Details: &InvalidFieldDetails{Field: field.Field, Reason: field.Reason}}
	case errors.As(err, &delegation):
		d := &DelegationDetails{Reason: delegation.Reason}
		if !delegation.ExpiresAt.IsZero() {
			d.ExpiresAt = delegation.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		return &Error{Code: CodeDelegationExceedsKey, Status: http.StatusForbidden, Err: err, Message: delegation.Reason, Details: d}
	case errors.Is(err, keys.ErrExpired):
		return &Error{Code: CodeKeyExpired, Status: http.StatusUnauthorized, Err: err, Message: "the API key has expired; create a new one"}
	case errors.Is(err, keys.ErrMalformed), errors.Is(err, keys.ErrInvalid):
		// Unknown, wrong secret, revoked, disabled: one answer, no oracle.
		return &Error{Code: CodeKeyInvalid, Status: http.StatusUnauthorized, Err: err, Message: "the API key is not valid"}
	case errors.Is(err, keys.ErrQuotaExceeded):
		return &Error{Code: CodeQuotaExceeded, Status: http.StatusTooManyRequests, Err: err, Message: "this key's request quota is spent"}
	case errors.Is(err, keys.ErrDisabledByAdmin):
		return &Error{Code: CodeForbidden, Status: http.StatusForbidden, Err: err, Message: "an administrator disabled this key; ask them to enable it"}
	case errors.Is(err, keys.ErrAlreadyRevoked):
		return &Error{Code: CodeKeyRevoked, Status: http.StatusConflict, Err: err, Message: "the key is revoked and cannot be changed; create a new one"}
	case errors.Is(err, keys.ErrNotFound):
		return &Error{Code: CodeKeyNotFound, Status: http.StatusNotFound, Err: err, Message: "no such key"}
	case errors.Is(err, policy.ErrSubjectDisabled), errors.Is(err, keys.ErrUnknownSubject):
		return &Error{Code: CodeSubjectDisabled, Status: http.StatusForbidden, Err: err, Message: "your account may not manage API keys"}
	case errors.Is(err, keys.ErrStoreUnavailable):
		return &Error{Code: CodeStoreUnavailable, Status: http.StatusServiceUnavailable, Err: err, Message: "the key store is unavailable; try again shortly"}
	}
	return &Error{Code: CodeInternal, Status: http.StatusInternalServerError, Err: err, Message: "internal error"}
}

// WriteError writes err as keycap's JSON error body with its status:
// {"code": "...", "message": "...", "details": {...}}. An *Error without a
// Status (a sentinel such as [ErrKeyNotFound]) gets its code's status. The
// cause of an error (Err) is logged with slog at error level for 5xx
// answers, never written. A 401 also gets a WWW-Authenticate header.
func WriteError(w http.ResponseWriter, err error) {
	e := From(err)
	status, message := e.Status, e.Message
	if status == 0 { // e.g. a sentinel: the code's own status, not a 500
		status = codeStatus[e.Code]
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if message == "" {
		message = http.StatusText(status)
	}
	if status >= 500 {
		slog.Error("keycap", "code", e.Code, "err", e.Err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		challenge := `Bearer realm="api"` // RFC 6750: no error code when no token was sent
		if e.Code != CodeUnauthenticated {
			challenge += `, error="invalid_token"`
		}
		h.Set("WWW-Authenticate", challenge)
	}
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
