package keycaptest

import (
	"context"
	"net/http"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/require"
)

// SessionCookie returns a cookie for a new scs session in which userID is
// stored under key: a logged-in browser, for any app whose handlers share
// sm (and its store). Add it to requests or to a cookie jar.
func SessionCookie(t testing.TB, sm *scs.SessionManager, key, userID string) *http.Cookie {
	t.Helper()
	ctx, err := sm.Load(context.Background(), "")
	require.NoError(t, err)
	sm.Put(ctx, key, userID)
	token, _, err := sm.Commit(ctx)
	require.NoError(t, err)
	return &http.Cookie{Name: sm.Cookie.Name, Value: token, Path: "/"}
}
