package keycap

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Code is a stable, machine-readable error code, sent as "code" in every
// error body. Codes are never renamed; the README lists them all. The zero
// Code ("") is not a code keycap defines: its [Code.Status] is 500.
type Code string

// Error codes. The status each is answered with is [Code.Status]; the
// details type, where there is one, is named beside it (a pointer to it is
// what [Error].Details holds).
const (
	CodeExceedsMaximum          Code = "PERMISSIONS_EXCEED_MAXIMUM" // *ExceedsMaximumDetails
	CodeInvalidPermissions      Code = "INVALID_PERMISSIONS"        // *InvalidPermissionsDetails
	CodeLifetimeExceedsMaximum  Code = "LIFETIME_EXCEEDS_MAXIMUM"   // *LifetimeDetails
	CodeInvalidBody             Code = "INVALID_BODY"               // *InvalidBodyDetails
	CodeInvalidField            Code = "INVALID_FIELD"              // *InvalidFieldDetails
	CodeUnauthenticated         Code = "UNAUTHENTICATED"            // no key and nobody logged in
	CodeKeyInvalid              Code = "KEY_INVALID"                // malformed, unknown, wrong secret, revoked, disabled
	CodeKeyExpired              Code = "KEY_EXPIRED"                // the presented key has expired
	CodeKeyNotFound             Code = "KEY_NOT_FOUND"              // no such key within the caller's reach
	CodeKeyRevoked              Code = "KEY_REVOKED"                // a revoked key cannot be changed
	CodeKeyHasExpired           Code = "KEY_HAS_EXPIRED"            // an expired key cannot be changed
	CodeConflict                Code = "CONFLICT"                   // the key changed at the same time; retry
	CodeKeyLimitReached         Code = "KEY_LIMIT_REACHED"          // *KeyLimitDetails
	CodeInsufficientPermissions Code = "INSUFFICIENT_PERMISSIONS"   // *InsufficientDetails
	CodeDelegationNotAllowed    Code = "DELEGATION_NOT_ALLOWED"     // a key may not manage keys here
	CodeDelegationExceedsKey    Code = "DELEGATION_EXCEEDS_KEY"     // *DelegationDetails
	CodeDelegationTooDeep       Code = "DELEGATION_TOO_DEEP"        // *DelegationDepthDetails
	CodeSubjectDisabled         Code = "SUBJECT_DISABLED"           // the user may not manage keys
	CodeCSRF                    Code = "CSRF"                       // a cross-origin browser request that changes state
	CodeForbidden               Code = "FORBIDDEN"                  // not allowed for this caller
	CodeRateLimited             Code = "RATE_LIMITED"               // *RateLimitDetails
	CodeQuotaExceeded           Code = "QUOTA_EXCEEDED"             // the key's request quota is spent
	CodeNotFound                Code = "NOT_FOUND"                  // no such route
	CodeMethodNotAllowed        Code = "METHOD_NOT_ALLOWED"         // see the Allow header
	CodeStoreUnavailable        Code = "STORE_UNAVAILABLE"          // the store could not be asked; retry
	CodeInvalidSignature        Code = "INVALID_SIGNATURE"          // *SignatureDetails
	CodeMisconfigured           Code = "MISCONFIGURED"              // the app's wiring is wrong
	CodeInternal                Code = "INTERNAL"                   // anything else; the cause is logged, not sent
	CodeIPNotAllowed            Code = "IP_NOT_ALLOWED"             // *IPNotAllowedDetails
	CodeAllowListRequired       Code = "IP_ALLOW_LIST_REQUIRED"     // *AllowListDetails
	CodeCannotManageKeys        Code = "CANNOT_MANAGE_KEYS"         // *ManageKeysDetails
)

// codeStatus is the one table of codes and HTTP statuses.
var codeStatus = map[Code]int{
	CodeExceedsMaximum: 403, CodeInvalidPermissions: 400, CodeLifetimeExceedsMaximum: 403, CodeInvalidBody: 400,
	CodeInvalidField: 400, CodeUnauthenticated: 401, CodeKeyInvalid: 401, CodeKeyExpired: 401, CodeKeyNotFound: 404,
	CodeKeyRevoked: 409, CodeKeyHasExpired: 409, CodeConflict: 409, CodeKeyLimitReached: 409,
	CodeInsufficientPermissions: 403, CodeDelegationNotAllowed: 403, CodeDelegationExceedsKey: 403,
	CodeDelegationTooDeep: 403, CodeSubjectDisabled: 403, CodeCSRF: 403, CodeForbidden: 403, CodeRateLimited: 429,
	CodeQuotaExceeded: 429, CodeNotFound: 404, CodeMethodNotAllowed: 405, CodeStoreUnavailable: 503,
	CodeMisconfigured: 500, CodeInternal: 500, CodeInvalidSignature: 401, CodeIPNotAllowed: 403, CodeAllowListRequired: 403,
	CodeCannotManageKeys: 403,
}

// Status returns the HTTP status keycap answers the code with; 500 for a
// code keycap does not define.
func (c Code) Status() int {
	if s, ok := codeStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Codes returns every code keycap defines, sorted, in a new slice the
// caller may keep.
func Codes() []Code {
	out := make([]Code, 0, len(codeStatus))
	for c := range codeStatus {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Error is the error keycap answers with. Over HTTP it is written by
// [WriteError] as {"code", "message", "details"} with the code's status;
// Err is logged, never sent. Treat an *Error as read-only once it is
// returned: keycap's own are shared (the sentinels below, and what
// [From] returns as is).
type Error struct {
	Code    Code   // stable; the HTTP status is Code.Status()
	Message string // for humans; safe to show; says what to change. "": the status text is sent
	Details any    // a pointer to the details type named beside Code, or nil: sent as {}
	Err     error  // the internal cause, or nil; logged for 5xx answers, never sent
}

// Error returns "CODE: message", for logs. It leaves out Err, the cause
// (see [Error.Unwrap]).
func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Unwrap returns the internal cause, Err (nil if none).
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, keycap.ErrExceedsMaximum) works for any such error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is: errors.Is(err, ErrKeyInvalid) holds for any
// *Error with that Code (see [Error.Is]). They carry only a Code; do not
// return them to a client as they are (no Message) nor modify them.
var (
	ErrExceedsMaximum          = &Error{Code: CodeExceedsMaximum}
	ErrInvalidPermissions      = &Error{Code: CodeInvalidPermissions}
	ErrKeyInvalid              = &Error{Code: CodeKeyInvalid}
	ErrKeyExpired              = &Error{Code: CodeKeyExpired}
	ErrKeyNotFound             = &Error{Code: CodeKeyNotFound}
	ErrInsufficientPermissions = &Error{Code: CodeInsufficientPermissions}
	ErrStoreUnavailable        = &Error{Code: CodeStoreUnavailable}
	ErrConflict                = &Error{Code: CodeConflict}
)

// ExceedsMaximumDetails are the details of PERMISSIONS_EXCEED_MAXIMUM,
// from a [policy.ExceedsError].
type ExceedsMaximumDetails struct {
	Exceeded policy.Permissions `json:"exceeded"` // requested but not allowed
	Maximum  policy.Permissions `json:"maximum"`  // what this caller may grant
	// Bounds names, for a key of an organization, the bounds the request
	// went beyond: "organization" (its cap) and/or "user" (the rights in
	// it of the member asking). Left out for other keys.
	Bounds []string `json:"bounds,omitempty"`
	// Records are the records of a restriction ("resources") the key may
	// not be limited to, per resource, from a [policy.RecordsError]: the
	// owner cannot do Exceeded on them now, or they lie outside the
	// calling key's records (an empty list: the calling key reaches none
	// of that resource). Left out when the refusal is about permissions
	// alone.
	Records policy.Resources `json:"records,omitempty"`
}

// ManageKeysDetails are the details of CANNOT_MANAGE_KEYS: a member of an
// organization whose rights in it do not include managing its keys.
type ManageKeysDetails struct {
	Owner      string `json:"owner"`      // the organization, as in ?owner=
	Permission string `json:"permission"` // what a member needs to manage its keys, such as "keys:manage"
}

// InvalidPermissionsDetails are the details of INVALID_PERMISSIONS, from a
// [policy.InvalidError].
type InvalidPermissionsDetails struct {
	// Path is where in the request the fault is: a resource ("files"), an
	// action by its index ("files[2]"), "permissions" for the set as a whole,
	// or "expires_in" for a lifetime the policy refuses. A name that breaks
	// the grammar is quoted and cut to 64 bytes.
	Path string `json:"path"`
	// Reason says what to change, for humans; its wording may change, so
	// match on the code and Path, not on Reason.
	Reason string `json:"reason"`
}

// LifetimeDetails are the details of LIFETIME_EXCEEDS_MAXIMUM, from a
// [policy.LifetimeError]: both in whole seconds (fractions are dropped).
type LifetimeDetails struct {
	// RequestedSeconds is the lifetime asked for: the request's expires_in,
	// or, when a change would move the expiry past the key's creation plus
	// the maximum, the time from the key's creation to that expiry. 0 means
	// no expiry: new permissions that carry a maximum, on a key that never
	// expires.
	RequestedSeconds int64 `json:"requested_seconds"`
	// MaximumSeconds is the longest lifetime the policy allows a key with
	// these permissions, counted from its creation ([policy.Policy.MaxLifetime]).
	MaximumSeconds int64 `json:"maximum_seconds"`
}

// InvalidBodyDetails are the details of INVALID_BODY: a request body that
// is not the JSON object the route takes.
type InvalidBodyDetails struct {
	// Reason says what is wrong, for humans ("the body is not valid JSON",
	// "unknown field ..."); its wording may change.
	Reason string `json:"reason"`
	// Field is the JSON field at fault; "" (left out of the JSON) when the
	// fault is the body as a whole.
	Field string `json:"field,omitempty"`
}

// InvalidFieldDetails are the details of INVALID_FIELD: a well-formed
// value that is not acceptable, from a [keys.FieldError] or a query
// parameter.
type InvalidFieldDetails struct {
	// Field is the JSON name of the field, or the query parameter, such as
	// "name", "expires_in", "grace_seconds" or "limit".
	Field string `json:"field"`
	// Reason says what to change, for humans; its wording may change.
	Reason string `json:"reason"`
}

// InsufficientDetails are the details of INSUFFICIENT_PERMISSIONS.
type InsufficientDetails struct {
	Missing []string `json:"missing"` // "resource:action" the caller lacks
	// Records names the record a record guard (middleware.RequireRecord)
	// refused, {"projects": ["42"]}: the caller lacks Missing on it (the
	// permission, the key's restriction, or the owner's live access to the
	// record). Left out for a refusal of permissions alone.
	Records policy.Resources `json:"records,omitempty"`
}

// DelegationDetails are the details of DELEGATION_EXCEEDS_KEY, from a
// [keys.DelegationError]: a request made with a key that asked for more
// than that key has.
type DelegationDetails struct {
	// Reason says what went beyond the calling key, for humans; its wording
	// may change.
	Reason    string `json:"reason"`
	ExpiresAt string `json:"expires_at,omitempty"` // RFC 3339, UTC: the calling key's expiry, when that was the bound; else left out
}

// KeyLimitDetails are the details of KEY_LIMIT_REACHED.
type KeyLimitDetails struct {
	Limit int `json:"limit"` // live keys an owner may hold
}

// DelegationDepthDetails are the details of DELEGATION_TOO_DEEP.
type DelegationDepthDetails struct {
	MaxDepth int `json:"max_depth"` // keys a key may be created through
}

// RateLimitDetails are the details of RATE_LIMITED.
type RateLimitDetails struct {
	Scope string `json:"scope"` // the budget that refused: "key" (this key's) or "owner" (all of the owner's keys)
	// Limit is that budget's requests per window, as in the RateLimit-Limit
	// header.
	Limit int64 `json:"limit"`
	// RetryAfterSeconds is how long to wait before the budget admits a
	// request again, in whole seconds rounded up, as in the Retry-After
	// header.
	RetryAfterSeconds int64 `json:"retry_after_seconds"`
}

// SignatureDetails are the details of INVALID_SIGNATURE: a signed request
// (a secret scanner's report) whose signature is missing or does not
// verify, or names a public key the app does not hold.
type SignatureDetails struct {
	// Reason says what is wrong, for humans; its wording may change.
	Reason string `json:"reason"`
	// KeyIdentifier is the public key the request named; "" (left out of
	// the JSON) when it named none.
	KeyIdentifier string `json:"key_identifier,omitempty"`
}

// IPNotAllowedDetails are the details of IP_NOT_ALLOWED: a key used from
// outside the IP ranges its owner limited it to.
type IPNotAllowedDetails struct {
	// ClientIP is the address the request came from, as the app sees it
	// (middleware.Options.ClientIP); "" when it is unknown.
	ClientIP string `json:"client_ip"`
}

// AllowListDetails are the details of IP_ALLOW_LIST_REQUIRED, from a
// [policy.AllowListError]: a key that would hold permissions the policy
// grants only to keys limited to IP ranges, without such a list.
type AllowListDetails struct {
	// Permissions are the key's permissions that need an allow-list: set
	// allowed_ips, or leave these out.
	Permissions policy.Permissions `json:"permissions"`
}

// New returns an *Error with code and message, no details and no cause.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// From maps any error to an *Error: an *Error is returned as is, the typed
// errors and sentinels of policy and keys get their code, and anything else
// becomes INTERNAL with err kept as the (unsent) cause.
func From(err error) *Error {
	if e, ok := fromPlainChain(err); ok {
		return e
	}
	return fromAnyChain(err)
}

// fromAnyChain is From for any error, with errors.As and errors.Is.
func fromAnyChain(err error) *Error {
	var kerr *Error
	if errors.As(err, &kerr) {
		return kerr
	}
	if e := fromTyped(err); e != nil {
		return e
	}
	for i, m := range sentinels {
		if errors.Is(err, m.err) {
			return fromSentinel(err, i)
		}
	}
	return fromSentinel(err, len(sentinels))
}

// fromSentinel returns the *Error for err, which matches sentinels[i]
// (none when i is len(sentinels): INTERNAL).
func fromSentinel(err error, i int) *Error {
	if i == len(sentinels) {
		return &Error{Code: CodeInternal, Err: err, Message: "internal error"}
	}
	m := sentinels[i]
	msg := m.message
	if msg == "" { // the error's own words, written for people
		msg = err.Error()
		if i := strings.LastIndex(msg, "keys: "); i >= 0 {
			msg = msg[i+len("keys: "):]
		}
	}
	return &Error{Code: m.code, Err: err, Message: msg}
}

// fromPlainChain is From without reflection, for the errors a refused key
// gets on every request of a client that sends it in a loop: it answers
// (ok) when every error in err's chain wraps at most one other and has no
// Is or As method of its own, and none is one of the typed errors
// fromTyped maps. Then errors.As can only find an *Error and errors.Is
// only match a sentinel by identity, so the answer is From's: the first
// *Error in the chain, else the first sentinel in table order that is in
// the chain, else INTERNAL. Otherwise ok is false and From decides.
func fromPlainChain(err error) (e *Error, ok bool) {
	match := len(sentinels)
	for link := err; link != nil; {
		switch t := link.(type) {
		case *Error:
			return t, true
		case *policy.ExceedsError, *policy.InvalidError, *policy.LifetimeError, *keys.FieldError, *keys.DelegationError,
			*policy.KeyLimitError, *policy.AllowListError, *policy.RecordsError, *policy.ManageError:
			return nil, false
		case interface{ Is(error) bool }, interface{ As(any) bool }, interface{ Unwrap() []error }:
			return nil, false
		}
		for i := range match {
			if link == sentinels[i].err {
				match = i
				break
			}
		}
		link = errors.Unwrap(link)
	}
	return fromSentinel(err, match), true
}

// fromTyped maps the typed errors of policy and keys, which carry details.
func fromTyped(err error) *Error {
	var exceeds *policy.ExceedsError
	var invalid *policy.InvalidError
	var lifetime *policy.LifetimeError
	var field *keys.FieldError
	var delegation *keys.DelegationError
	var limit *policy.KeyLimitError
	var allowList *policy.AllowListError
	var records *policy.RecordsError
	var manage *policy.ManageError
	switch {
	case errors.As(err, &records):
		msg := "the key may not be limited to these records, which you cannot " + records.Exceeded.String() + " on now: "
		if records.Delegation {
			msg = "a key created by a key must stay within that key's records: "
		}
		return &Error{Code: CodeExceedsMaximum, Err: err, Message: msg + recordNames(records.Records),
			Details: &ExceedsMaximumDetails{Exceeded: records.Exceeded, Maximum: records.Maximum, Records: records.Records}}
	case errors.As(err, &exceeds):
		return &Error{Code: CodeExceedsMaximum, Err: err, Message: exceedsMessage(exceeds),
			Details: &ExceedsMaximumDetails{Exceeded: exceeds.Exceeded, Maximum: exceeds.Maximum, Bounds: exceeds.Bounds}}
	case errors.As(err, &manage):
		return &Error{Code: CodeCannotManageKeys, Err: err, Details: &ManageKeysDetails{Owner: manage.Owner, Permission: manage.Permission},
			Message: "managing the keys of " + manage.Owner + " needs " + manage.Permission + " in it; ask one of its admins"}
	case errors.As(err, &invalid):
		return &Error{Code: CodeInvalidPermissions, Err: err,
			Message: invalid.Error(), Details: &InvalidPermissionsDetails{Path: invalid.Path, Reason: invalid.Reason}}
	case errors.As(err, &lifetime):
		return &Error{Code: CodeLifetimeExceedsMaximum, Err: err,
			Message: "the key may live at most " + strconv.FormatInt(int64(lifetime.Maximum.Seconds()), 10) + " seconds; ask for a shorter expires_in",
			Details: &LifetimeDetails{RequestedSeconds: int64(lifetime.Requested.Seconds()), MaximumSeconds: int64(lifetime.Maximum.Seconds())}}
	case errors.As(err, &field):
		return &Error{Code: CodeInvalidField, Err: err,
			Message: field.Field + ": " + field.Reason, Details: &InvalidFieldDetails{Field: field.Field, Reason: field.Reason}}
	case errors.As(err, &delegation) && delegation.PreviousSecret:
		return &Error{Code: CodeDelegationNotAllowed, Err: err, Message: delegation.Reason}
	case errors.As(err, &delegation) && delegation.MaxDepth > 0:
		return &Error{Code: CodeDelegationTooDeep, Err: err, Details: &DelegationDepthDetails{MaxDepth: delegation.MaxDepth}, Message: delegation.Reason}
	case errors.As(err, &delegation):
		d := &DelegationDetails{Reason: delegation.Reason}
		if !delegation.ExpiresAt.IsZero() {
			d.ExpiresAt = delegation.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		return &Error{Code: CodeDelegationExceedsKey, Err: err, Message: delegation.Reason, Details: d}
	case errors.As(err, &allowList):
		return &Error{Code: CodeAllowListRequired, Err: err, Details: &AllowListDetails{Permissions: allowList.Permissions},
			Message: "a key that may " + allowList.Permissions.String() + " must be limited to IP ranges: set allowed_ips (such as [\"203.0.113.0/24\"]), or leave those permissions out"}
	case errors.As(err, &limit):
		return &Error{Code: CodeKeyLimitReached, Err: err, Details: &KeyLimitDetails{Limit: limit.Limit},
			Message: "you already have " + strconv.Itoa(limit.Limit) + " live keys, the most allowed; revoke one you no longer use, then try again"}
	}
	return nil
}

// sentinels maps the sentinel errors of keys and policy, in order: the
// first that matches wins.
var sentinels = []struct {
	err     error
	code    Code
	message string
}{
	{keys.ErrExpired, CodeKeyExpired, "the API key has expired; create a new one"},
	// Unknown, wrong secret, revoked, disabled: one answer, no oracle.
	{keys.ErrInvalid, CodeKeyInvalid, "the API key is not valid"},
	{keys.ErrAdminChange, CodeForbidden, ""}, // its text says which side of the line was crossed
	{keys.ErrAlreadyRevoked, CodeKeyRevoked, "the key is revoked and cannot be changed; create a new one"},
	{keys.ErrAlreadyExpired, CodeKeyHasExpired, "the key has expired and cannot be changed; create a new one"},
	{keys.ErrConflict, CodeConflict, "the key was changed by another request at the same time; read it again and retry"},
	{keys.ErrNotFound, CodeKeyNotFound, "no such key"},
	{policy.ErrOrganizationDisabled, CodeSubjectDisabled, "this organization is disabled: its keys may not be created or changed"},
	{policy.ErrSubjectDisabled, CodeSubjectDisabled, "your account may not manage API keys"},
	{policy.ErrUnknownSubject, CodeSubjectDisabled, "your account may not manage API keys"},
	{keys.ErrStoreUnavailable, CodeStoreUnavailable, "the key store is unavailable; try again shortly"},
	{policy.ErrNoRecord, CodeNotFound, "no such record"},
	{keys.ErrIPNotAllowed, CodeIPNotAllowed, "this API key may not be used from this address: its owner limited it to other IP ranges"},
}

// recordNames lists records as "projects 3, projects 4".
func recordNames(r policy.Resources) string {
	names := make([]string, 0, len(r))
	for name := range r {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []string
	for _, name := range names {
		if len(r[name]) == 0 {
			out = append(out, name+" (the calling key reaches none of them)")
		}
		for _, id := range r[name] {
			out = append(out, name+" "+id)
		}
	}
	return strings.Join(out, ", ")
}

// exceedsMessage says which bound a request went beyond.
func exceedsMessage(e *policy.ExceedsError) string {
	switch {
	case slices.Contains(e.Bounds, "organization") && slices.Contains(e.Bounds, "user"):
		return "requested permissions exceed both the organization's cap and your rights in it: " + e.Exceeded.String()
	case slices.Contains(e.Bounds, "organization"):
		return "requested permissions exceed the organization's cap: " + e.Exceeded.String()
	case slices.Contains(e.Bounds, "user"):
		return "requested permissions exceed your own rights in the organization: " + e.Exceeded.String()
	}
	return "requested permissions exceed your maximum: " + e.Exceeded.String()
}
