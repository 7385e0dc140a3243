package keycaptest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
)

// statusOf is the status keycap answers each code with.
var statusOf = map[keycap.Code]int{}

func init() {
	for code, status := range map[keycap.Code]int{
		keycap.CodeExceedsMaximum: 403, keycap.CodeInvalidPermissions: 400, keycap.CodeLifetimeExceedsMaximum: 403,
		keycap.CodeInvalidBody: 400, keycap.CodeInvalidField: 400, keycap.CodeUnauthenticated: 401,
		keycap.CodeKeyInvalid: 401, keycap.CodeKeyExpired: 401, keycap.CodeKeyNotFound: 404,
		keycap.CodeKeyRevoked: 409, keycap.CodeInsufficientPermissions: 403, keycap.CodeDelegationNotAllowed: 403,
		keycap.CodeDelegationExceedsKey: 403, keycap.CodeSubjectDisabled: 403, keycap.CodeCSRF: 403,
		keycap.CodeForbidden: 403, keycap.CodeRateLimited: 429, keycap.CodeQuotaExceeded: 429,
		keycap.CodeNotFound: 404, keycap.CodeMethodNotAllowed: 405, keycap.CodeStoreUnavailable: 503,
		keycap.CodeMisconfigured: 500, keycap.CodeInternal: 500,
	} {
		statusOf[code] = status
	}
}

// RequireCode requires that resp is keycap's JSON error with code and its
// status, or, for code "", a 2xx answer.
func RequireCode(t testing.TB, resp *Response, code keycap.Code) {
	t.Helper()
	if code == "" {
		require.True(t, resp.StatusCode >= 200 && resp.StatusCode < 300, "want 2xx, got %d: %s", resp.StatusCode, resp.Body)
		return
	}
	e := resp.Error(t)
	require.Equal(t, string(code), e.Code, "status %d body %s", resp.StatusCode, resp.Body)
	if status, ok := statusOf[code]; ok {
		require.Equal(t, status, resp.StatusCode, "body %s", resp.Body)
	}
	require.NotEmpty(t, e.Message)
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	if resp.StatusCode == http.StatusUnauthorized {
		require.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))
	}
}
