package main

import (
	"context"
	"sort"

	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap/policy"
)

// The demo's roles. The policy's maximum is the owner role: nobody may
// grant more than an owner holds. No demo user starts as a viewer: it is
// what a demotion in the users table (DATABASE_URL) looks like.
var (
	memberRole = policy.MustParse("projects:read", "files:read", "files:write")
	ownerRole  = policy.MustParse("projects:read", "projects:write", "projects:delete",
		"files:read", "files:write", "files:delete", "billing:read")
	viewerRole = policy.MustParse("projects:read", "files:read")
	roles      = map[string]policy.Permissions{"viewer": viewerRole, "member": memberRole, "owner": ownerRole}

	// templates are the presets the key page offers (GET
	// /api-keys/grantable lists them; a member sees "Billing report" off).
	templates = []policy.Template{
		{Name: "Read-only dashboard", Description: "read projects and files", Permissions: policy.MustParse("projects:read", "files:read")},
		{Name: "File sync", Description: "read and write files", Permissions: policy.MustParse("files:read", "files:write")},
		{Name: "Billing report", Description: "read billing", Permissions: policy.MustParse("billing:read")},
	}
)

// demoUser is a user of the demo: the password is the user name.
type demoUser struct {
	ID       string
	Role     string // a role of roles; in a users table, a comma-separated list ("" for none)
	Disabled bool   // may not log in, and their keys are refused
	hash     []byte
}

// userDirectory is where the demo users live: in memory ([directory]) or
// in a table shared by every instance ([userTable]). Implementations are
// safe for concurrent use.
type userDirectory interface {
	policy.Subjects
	authenticate(username, password string) (demoUser, bool)
	lookup(id string) (demoUser, bool)
	sorted() []demoUser
}

// directory holds the demo users. It implements policy.Subjects and is
// read-only after newDirectory, so it is safe for concurrent use.
type directory struct {
	users map[string]demoUser
	dummy []byte // compared against for unknown users, so they take as long
}

// newDirectory hashes the demo passwords with bcrypt at cost.
func newDirectory(cost int) (*directory, error) {
	d := &directory{users: map[string]demoUser{}}
	for id, role := range map[string]string{"alice": "member", "bob": "owner"} {
		hash, err := bcrypt.GenerateFromPassword([]byte(id), cost)
		if err != nil {
			return nil, err
		}
		d.users[id] = demoUser{ID: id, Role: role, hash: hash}
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a password anyone has"), cost)
	if err != nil {
		return nil, err
	}
	d.dummy = dummy
	return d, nil
}

// authenticate checks a user name and password. An unknown user costs one
// bcrypt comparison like a known one, so timing does not tell them apart.
func (d *directory) authenticate(username, password string) (demoUser, bool) {
	u, known := d.users[username]
	hash := u.hash
	if !known {
		hash = d.dummy
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	return u, known && match
}

// lookup returns the user with id.
func (d *directory) lookup(id string) (demoUser, bool) {
	u, ok := d.users[id]
	return u, ok
}

// sorted returns the users by id, for the page.
func (d *directory) sorted() []demoUser {
	out := make([]demoUser, 0, len(d.users))
	for _, u := range d.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Subject implements policy.Subjects: a deleted user's keys stop working.
func (d *directory) Subject(_ context.Context, id string) (policy.Subject, error) {
	u, ok := d.users[id]
	if !ok {
		return policy.Subject{}, policy.ErrUnknownSubject
	}
	return policy.Subject{ID: u.ID, Roles: []string{u.Role}}, nil
}
