package main

// Attack tests of the organization's notices (cd5bc28), written by an
// attacker who did not write them: each TestAttack* broke a guarantee
// before its fix.

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// setDisabled disables or enables org, as an app's admin screen would.
func (o *organizations) setDisabled(org string, disabled bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.orgs[org]
	s.Disabled = disabled
	o.orgs[org] = s
}

// TestAttackDisabledOrgNotices: while Acme is disabled, (1) anyone asking
// for its notices or keys with ?owner=org:acme got 403 SUBJECT_DISABLED,
// "this organization is disabled", where an organization that does not
// exist gets 403 FORBIDDEN: a non-member learnt that Acme exists and is
// disabled; (2) a notice about one of its keys failed at every run (the
// notifier returned Manages' error) and, never sent, was never listed:
// once Lookback passed it was lost. Now a non-member gets FORBIDDEN
// whatever the owner, and the notice goes out to nobody who may manage
// the keys then (to=[]), listed for those who manage them once Acme is
// enabled again.
func TestAttackDisabledOrgNotices(t *testing.T) {
	var logs syncBuffer
	a, err := newApp(config{DBPath: filepath.Join(t.TempDir(), "keycap.db"), BcryptCost: bcrypt.MinCost,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, a.Close()) })
	srv := keycaptest.Start(t, a)
	bob, alice := mustLogIn(t, srv.URL, "bob"), mustLogIn(t, srv.URL, "alice")
	resp := bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", map[string]any{"name": "acme ci",
		"permissions": policy.Permissions{"files": {"read"}}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", resp.Body)
	var k struct{ ID string }
	resp.JSON(t, &k)

	a.orgs.setMember(acmeID, "alice", nil) // no longer a member
	a.orgs.setDisabled(acmeID, true)
	for _, path := range []string{"/notices?owner=", "/api-keys?owner="} {
		for _, owner := range []string{"org:acme", "org:nobody"} {
			resp := alice.Get(t, path+owner)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			assert.Equal(t, string(keycap.CodeForbidden), resp.Error(t).Code, "%s%s: %s", path, owner, resp.Body)
		}
	}

	_, err = a.manager.Revoke(t.Context(), keys.RevokeRequest{Ref: keys.Ref{Owner: acmeID, ID: k.ID},
		Actor: audit.System("security-team"), Reason: "leaked"})
	require.NoError(t, err)
	for range 3 {
		r, err := a.scheduler.RunOnce(t.Context(), a.manager.Now())
		require.NoError(t, err)
		if r.Sent == 1 {
			break
		}
		require.Equal(t, 0, r.Sent)
		assert.Zero(t, r.Failed, "the notice refused by the notifier, offered again")
	}
	var line string
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "keycap notice") && strings.Contains(l, k.ID) {
			line = l
		}
	}
	assert.Contains(t, line, "to=[] owner=org:acme", "nobody may manage a disabled organization's keys")

	a.orgs.setDisabled(acmeID, false)
	var listed struct{ Notices []noticeJSON }
	bob.DoJSON(t, http.MethodGet, "/notices?owner=org:acme", nil).JSON(t, &listed)
	require.Len(t, listed.Notices, 1, "listed once Acme is enabled again")
	assert.Equal(t, k.ID, listed.Notices[0].KeyID)
}
