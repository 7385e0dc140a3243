package ui_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/ui"
)

// The page offers the organizations of Options.Owners whose keys the user
// manages now, and only those; the kind choice appears with kinds, the
// metadata fields where clients may set it.
func TestPageOwnersKindsMetadata(t *testing.T) {
	t.Parallel()
	rights := map[string]policy.Permissions{
		"org:acme":   policy.MustParse("files:read", "keys:manage"),
		"org:globex": policy.MustParse("files:read"), // a member who may not manage keys
		"org:off":    policy.MustParse("files:read", "keys:manage"),
	}
	newPage := func(t *testing.T, kinds map[string]keys.Kind, metadata bool, owners func(*http.Request) []ui.Owner) *ui.Page {
		m, err := keys.NewManager(keys.Config{Store: memstore.New(), Secret: []byte("0123456789abcdef0123456789abcdef"), Kinds: kinds,
			Policy: policy.MustNew(policy.Config{AllowClientPermissions: true, AllowClientMetadata: metadata, Max: policy.MustParse("files:read"),
				ManageKeys: "keys:manage", Members: func(_ context.Context, org policy.Subject, user string) (policy.Permissions, error) {
					if r, ok := rights[org.ID]; ok && user == "alice" {
						return r, nil
					}
					return nil, policy.ErrNotMember
				}}),
			Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
				switch {
				case id == "org:gone":
					return policy.Subject{}, policy.ErrUnknownSubject
				case id == "org:broken":
					return policy.Subject{}, errors.New("directory down")
				case id == "org:off":
					return policy.Subject{ID: id, Organization: true, Disabled: true}, nil
				}
				return policy.Subject{ID: id, Organization: strings.HasPrefix(id, "org:")}, nil
			})})
		require.NoError(t, err)
		t.Cleanup(func() { _ = m.Close() })
		p, err := ui.New(ui.Options{Manager: m, Sessions: sessionsFromHeader(), Owners: owners})
		require.NoError(t, err)
		return p
	}

	owners := func(*http.Request) []ui.Owner {
		return []ui.Owner{{ID: "org:acme", Name: `Acme <b>&</b>`}, {ID: "org:globex", Name: "Globex"}, {ID: "org:gone"},
			{ID: "org:off"}, {ID: "alice"}, {ID: "org:acme", Name: "again"}, {ID: ""}}
	}
	page := newPage(t, map[string]keys.Kind{"test": {Prefix: "kctest", MaxLifetime: time.Hour}, "live": {Prefix: "kclive"}}, true, owners)
	resp, body := serve(t, page, "/keys/", "alice")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 1, strings.Count(body, `<option value="org:`), "only Acme, once: %s", body)
	assert.Contains(t, body, `<option value="org:acme">Acme &lt;b&gt;&amp;&lt;/b&gt;</option>`)
	assert.Contains(t, body, `<option value="">standard</option>`)
	assert.Less(t, strings.Index(body, `<option value="live">live</option>`), strings.Index(body, `<option value="test">test</option>`))
	assert.Contains(t, body, `id="kc-key-metadata"`)
	assert.Contains(t, body, `id="kc-edit-metadata"`)

	_, body = serve(t, page, "/keys/", "bob") // a member of nothing
	assert.NotContains(t, body, `id="kc-owner"`)

	plain := newPage(t, nil, false, nil)
	_, body = serve(t, plain, "/keys/", "alice")
	for _, id := range []string{`id="kc-owner"`, `id="kc-key-kind"`, `id="kc-key-metadata"`, `id="kc-edit-metadata"`} {
		assert.NotContains(t, body, id)
	}

	// A directory that fails is not taken for "not a member": the page
	// says it could not be shown.
	broken := newPage(t, nil, false, func(*http.Request) []ui.Owner { return []ui.Owner{{ID: "org:broken"}} })
	resp, _ = serve(t, broken, "/keys/", "alice")
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
}
