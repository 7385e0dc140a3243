package keycaptest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap"
)

// RequireCode requires that resp is keycap's JSON error with code, a
// message and the status code.Status() gives (the one table of codes and
// statuses), with a WWW-Authenticate header on a 401; for code "", it
// requires a 2xx answer of any body.
func RequireCode(t testing.TB, resp *Response, code keycap.Code) {
	t.Helper()
	if code == "" {
		require.True(t, resp.StatusCode >= 200 && resp.StatusCode < 300, "want 2xx, got %d: %s", resp.StatusCode, resp.Body)
		return
	}
	e := resp.Error(t)
	require.Equal(t, string(code), e.Code, "status %d body %s", resp.StatusCode, resp.Body)
	require.Equal(t, code.Status(), resp.StatusCode, "body %s", resp.Body)
	require.NotEmpty(t, e.Message)
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	if resp.StatusCode == http.StatusUnauthorized {
		require.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))
	}
}
