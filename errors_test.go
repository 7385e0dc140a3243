package keycap_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

func TestFrom(t *testing.T) {
	t.Parallel()
	expiresAt := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	exceeded, maximum := policy.Permissions{"files": {"delete"}}, policy.Permissions{"files": {"read"}}
	tests := []struct {
		name    string
		err     error
		code    keycap.Code
		status  int
		details any
	}{
		{"exceeds", &policy.ExceedsError{Exceeded: exceeded, Maximum: maximum}, keycap.CodeExceedsMaximum, 403,
			&keycap.ExceedsMaximumDetails{Exceeded: exceeded, Maximum: maximum}},
		{"wrapped exceeds", fmt.Errorf("create: %w", &policy.ExceedsError{Exceeded: exceeded, Maximum: maximum}), keycap.CodeExceedsMaximum, 403,
			&keycap.ExceedsMaximumDetails{Exceeded: exceeded, Maximum: maximum}},
		{"invalid", &policy.InvalidError{Path: "files[0]", Reason: "bad"}, keycap.CodeInvalidPermissions, 400,
			&keycap.InvalidPermissionsDetails{Path: "files[0]", Reason: "bad"}},
		{"lifetime", &policy.LifetimeError{Requested: 2 * time.Hour, Maximum: time.Hour}, keycap.CodeLifetimeExceedsMaximum, 403,
			&keycap.LifetimeDetails{RequestedSeconds: 7200, MaximumSeconds: 3600}},
		{"field", &keys.FieldError{Field: "name", Reason: "give the key a name"}, keycap.CodeInvalidField, 400,
			&keycap.InvalidFieldDetails{Field: "name", Reason: "give the key a name"}},
		{"delegation", &keys.DelegationError{Reason: "too long", ExpiresAt: expiresAt}, keycap.CodeDelegationExceedsKey, 403,
			&keycap.DelegationDetails{Reason: "too long", ExpiresAt: "2030-01-02T02:04:05Z"}},
		{"delegation without expiry", &keys.DelegationError{Reason: "no"}, keycap.CodeDelegationExceedsKey, 403, &keycap.DelegationDetails{Reason: "no"}},
		{"expired", keys.ErrExpired, keycap.CodeKeyExpired, 401, nil},
		{"malformed", fmt.Errorf("%w: malformed (form or checksum)", keys.ErrInvalid), keycap.CodeKeyInvalid, 401, nil},
		{"invalid key", keys.ErrInvalid, keycap.CodeKeyInvalid, 401, nil},
		{"revoked (a wrapped ErrInvalid)", fmt.Errorf("%w: revoked", keys.ErrInvalid), keycap.CodeKeyInvalid, 401, nil},
		{"already revoked", keys.ErrAlreadyRevoked, keycap.CodeKeyRevoked, 409, nil},
		{"not found", keys.ErrNotFound, keycap.CodeKeyNotFound, 404, nil},
		{"subject disabled", policy.ErrSubjectDisabled, keycap.CodeSubjectDisabled, 403, nil},
		{"unknown subject", policy.ErrUnknownSubject, keycap.CodeSubjectDisabled, 403, nil},
		{"store", fmt.Errorf("sql: %w", keys.ErrStoreUnavailable), keycap.CodeStoreUnavailable, 503, nil},
		{"unknown", errors.New("boom"), keycap.CodeInternal, 500, nil},
		{"an *Error as is", keycap.New(keycap.CodeCSRF, "no"), keycap.CodeCSRF, 403, nil},
		{"conflict", fmt.Errorf("update: %w", keys.ErrConflict), keycap.CodeConflict, 409, nil},
		{"already expired", keys.ErrAlreadyExpired, keycap.CodeKeyHasExpired, 409, nil},
		{"key limit", &policy.KeyLimitError{Limit: 100}, keycap.CodeKeyLimitReached, 409, &keycap.KeyLimitDetails{Limit: 100}},
		{"too deep", &keys.DelegationError{Reason: "deep", MaxDepth: 8}, keycap.CodeDelegationTooDeep, 403, &keycap.DelegationDepthDetails{MaxDepth: 8}},
		{"previous secret", &keys.DelegationError{Reason: "old", PreviousSecret: true}, keycap.CodeDelegationNotAllowed, 403, nil},
		{"admin change", keys.ErrAdminChange, keycap.CodeForbidden, 403, nil},
		{"beyond the organization's cap", &policy.ExceedsError{Exceeded: exceeded, Maximum: maximum, Bounds: []string{"organization"}}, keycap.CodeExceedsMaximum, 403,
			&keycap.ExceedsMaximumDetails{Exceeded: exceeded, Maximum: maximum, Bounds: []string{"organization"}}},
		{"beyond the member's rights", &policy.ExceedsError{Exceeded: exceeded, Maximum: maximum, Bounds: []string{"user"}}, keycap.CodeExceedsMaximum, 403,
			&keycap.ExceedsMaximumDetails{Exceeded: exceeded, Maximum: maximum, Bounds: []string{"user"}}},
		{"cannot manage an organization's keys", &policy.ManageError{Owner: "org:acme", Permission: "keys:manage"}, keycap.CodeCannotManageKeys, 403,
			&keycap.ManageKeysDetails{Owner: "org:acme", Permission: "keys:manage"}},
		{"organization disabled", policy.ErrOrganizationDisabled, keycap.CodeSubjectDisabled, 403, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := keycap.From(tt.err)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.status, e.Code.Status())
			assert.NotEmpty(t, e.Message)
			if tt.details == nil {
				assert.Nil(t, e.Details)
			} else {
				assert.Equal(t, tt.details, e.Details)
			}
			assert.True(t, errors.Is(e, tt.err), "the cause is kept for errors.Is")
			assert.Equal(t, string(tt.code)+": "+e.Message, e.Error())
		})
	}

	// Unknown, wrong secret, revoked, disabled and owner gone: one answer.
	a, b := keycap.From(keys.ErrInvalid), keycap.From(fmt.Errorf("%w: revoked", keys.ErrInvalid))
	assert.Equal(t, a.Message, b.Message)
	assert.Equal(t, a.Message, keycap.From(keys.ErrInvalid).Message)
}

func TestErrorIs(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("handler: %w", keycap.From(&policy.ExceedsError{Exceeded: policy.Permissions{"a": {"b"}}}))
	assert.ErrorIs(t, err, keycap.ErrExceedsMaximum)
	assert.NotErrorIs(t, err, keycap.ErrInvalidPermissions)
	var kerr *keycap.Error
	require.ErrorAs(t, err, &kerr)
	assert.IsType(t, &keycap.ExceedsMaximumDetails{}, kerr.Details)

	for sentinel, cause := range map[*keycap.Error]error{
		keycap.ErrInvalidPermissions:      &policy.InvalidError{Path: "x"},
		keycap.ErrKeyInvalid:              keys.ErrInvalid,
		keycap.ErrKeyExpired:              keys.ErrExpired,
		keycap.ErrKeyNotFound:             keys.ErrNotFound,
		keycap.ErrStoreUnavailable:        keys.ErrStoreUnavailable,
		keycap.ErrInsufficientPermissions: keycap.New(keycap.CodeInsufficientPermissions, "x"),
	} {
		assert.ErrorIs(t, keycap.From(cause), sentinel)
		assert.NotErrorIs(t, keycap.From(errors.New("other")), sentinel)
	}
	assert.False(t, keycap.ErrKeyInvalid.Is(errors.New("KEY_INVALID")))
	assert.Nil(t, keycap.ErrKeyInvalid.Unwrap())
}

// record writes err with WriteError and returns the answer.
func record(err error) (*http.Response, map[string]json.RawMessage, []byte) {
	rec := httptest.NewRecorder()
	keycap.WriteError(rec, nil, err)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields)
	return resp, fields, body
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	resp, fields, body := record(&policy.ExceedsError{Exceeded: policy.Permissions{"invoices": {"delete"}}, Maximum: policy.Permissions{"invoices": {"read", "write"}}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Empty(t, resp.Header.Get("WWW-Authenticate"))
	assert.Len(t, fields, 3, "exactly code, message and details: %s", body)
	assert.JSONEq(t, `{"exceeded": {"invoices": ["delete"]}, "maximum": {"invoices": ["read", "write"]}}`, string(fields["details"]))
	assert.JSONEq(t, `"PERMISSIONS_EXCEED_MAXIMUM"`, string(fields["code"]))

	// No details: an empty object, never null.
	_, fields, _ = record(keycap.New(keycap.CodeForbidden, "no"))
	assert.JSONEq(t, `{}`, string(fields["details"]))

	// A 401 gets a challenge; one set by the app is kept.
	resp, _, _ = record(keys.ErrExpired)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="api", error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
	rec := httptest.NewRecorder()
	rec.Header().Set("WWW-Authenticate", `Bearer realm="app"`)
	keycap.WriteError(rec, nil, keys.ErrInvalid)
	assert.Equal(t, `Bearer realm="app"`, rec.Result().Header.Get("WWW-Authenticate"))

	// The cause of an internal error is never sent.
	resp, fields, body = record(fmt.Errorf("db password=hunter2: %w", errors.New("connection refused")))
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.JSONEq(t, `"INTERNAL"`, string(fields["code"]))
	assert.NotContains(t, string(body), "hunter2")
	assert.NotContains(t, string(body), "refused")
	_, _, body = record(&keycap.Error{Code: keycap.CodeMisconfigured, Message: "wrap it", Err: errors.New("secret cause")})
	assert.NotContains(t, string(body), "secret cause")
}

// TestWriteErrorSentinels: an *Error with no status, such as a sentinel,
// is written with its code's status and a message, not as a 500.
func TestWriteErrorSentinels(t *testing.T) {
	t.Parallel()
	for _, sentinel := range []*keycap.Error{
		keycap.ErrExceedsMaximum, keycap.ErrInvalidPermissions, keycap.ErrKeyInvalid, keycap.ErrKeyExpired,
		keycap.ErrKeyNotFound, keycap.ErrInsufficientPermissions, keycap.ErrStoreUnavailable,
	} {
		resp, _, body := record(fmt.Errorf("handler: %w", sentinel))
		r := &keycaptest.Response{Response: resp, Body: body}
		keycaptest.RequireCode(t, r, sentinel.Code)
	}
}

// TestWriteErrorStatuses checks, for every code, that WriteError's status
// for a bare code and keycaptest.RequireCode agree, and that the README's
// table lists the code with its status.
func TestWriteErrorStatuses(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	codes := keycap.Codes()
	require.Len(t, codes, 31)
	for _, code := range codes {
		resp, _, body := record(&keycap.Error{Code: code})
		keycaptest.RequireCode(t, &keycaptest.Response{Response: resp, Body: body}, code)
		row := fmt.Sprintf("| `%s` | %d |", code, code.Status())
		assert.Contains(t, string(readme), row, "the README's table of error codes")
	}
}

// TestWriteErrorNeitherLogsNorLeaks: a 5xx's cause is neither written nor
// logged by WriteError (the middleware logs it). Not parallel: it replaces
// the default logger.
func TestWriteErrorNeitherLogsNorLeaks(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	_, _, body := record(fmt.Errorf("query: %w", errors.New("disk full")))
	assert.Empty(t, buf.String(), "WriteError logs nothing: the middleware logs with its own Logger")
	assert.NotContains(t, string(body), "disk full", "the cause is never written")
}
