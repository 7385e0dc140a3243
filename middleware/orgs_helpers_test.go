package middleware_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// The organizations of the org fixture:
//
//	org:acme   cap files:read, files:write, projects:read (role member)
//	org:globex cap of the owner role
//
// and their members' rights:
//
//	acme:   bob   files:read/write/delete, projects:read, keys:manage (an admin of Acme)
//	        carol files:read, keys:manage                             (manages keys, narrow rights)
//	        alice files:read, projects:read                           (a plain member)
//	globex: root  the owner role and keys:manage
var (
	acmeBob   = policy.Permissions{"files": {"delete", "read", "write"}, "projects": {"read"}, "keys": {"manage"}}
	acmeCarol = policy.Permissions{"files": {"read"}, "keys": {"manage"}}
	acmeAlice = policy.Permissions{"files": {"read"}, "projects": {"read"}}
)

// orgFixture is the fixture with organizations and members.
type orgFixture struct {
	*fixture
	members *keycaptest.Members
	globex  keycaptest.CreatedKey // a key of org:globex, made by root
}

// orgPolicy is testPolicy with members who manage keys with keys:manage.
func orgPolicy(members *keycaptest.Members) policy.Config {
	c := testPolicy()
	c.Members, c.ManageKeys = members.Rights, "keys:manage"
	return c
}

func newOrgFixture(t testing.TB, opts ...keycaptest.AppOption) *orgFixture {
	t.Helper()
	members := &keycaptest.Members{}
	f := &orgFixture{fixture: newFixture(t, append([]keycaptest.AppOption{keycaptest.WithPolicy(orgPolicy(members))}, opts...)...), members: members}
	f.srv.Users.Put(policy.Subject{ID: "org:acme", Roles: []string{"member"}, Organization: true})
	f.srv.Users.Put(policy.Subject{ID: "org:globex", Roles: []string{"owner"}, Organization: true})
	members.Set("org:acme", "bob", acmeBob)
	members.Set("org:acme", "carol", acmeCarol)
	members.Set("org:acme", "alice", acmeAlice)
	members.Set("org:globex", "root", policy.Union(ownerRole, policy.Permissions{"keys": {"manage"}}))
	f.owners = append(f.owners, "org:acme", "org:globex")
	k, token, err := f.srv.Manager.Create(context.Background(), keys.CreateRequest{Owner: "org:globex", Name: "globex ci",
		Permissions: policy.Permissions{"files": {"read"}}, Actor: audit.User("root")})
	require.NoError(t, err)
	f.globex = keycaptest.CreatedKey{ID: k.ID, Key: token, Hint: k.Hint, Permissions: k.Permissions}
	return f
}

// acmeKey creates a key of org:acme as bob over HTTP.
func (f *orgFixture) acmeKey(t testing.TB, perms string) keycaptest.CreatedKey {
	t.Helper()
	resp := f.bob.DoJSON(t, http.MethodPost, "/api-keys?owner=org:acme", createBody(perms))
	keycaptest.RequireCode(t, resp, "")
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var k keyBody
	resp.JSON(t, &k)
	require.Equal(t, "org:acme", k.OwnerID)
	return keycaptest.CreatedKey{ID: k.ID, Key: k.Key, Hint: k.Hint, Permissions: k.Permissions}
}

// whoami returns what the app sees of a request made with key.
func (f *orgFixture) whoami(t testing.TB, key string) (*keycaptest.Response, principalJSON) {
	t.Helper()
	resp := f.keyClient(t, key).Get(t, "/api/me")
	var p principalJSON
	if resp.StatusCode == http.StatusOK {
		resp.JSON(t, &p)
	}
	return resp, p
}
