package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/sqlstore"
	"github.com/keycaphq/keycap/policy"
)

// userTable keeps the demo users in a Postgres table shared by every
// instance, so that a change made with plain SQL (a demotion, a disabled
// account) applies on every instance at its next request:
//
//	UPDATE keycap_example_users SET roles = 'viewer' WHERE id = 'alice';
//
// Subject reads the row at every call, with no cache: one query per key
// verification, for the owner. It is safe for concurrent use.
type userTable struct {
	db     *sql.DB
	rows   sqlstore.RowReader // reads a user at every verification; nil: db
	owners *ownerReads        // owner rows read with keys (owners.go); nil: none
	table  string             // <prefix>example_users
	dummy  []byte             // compared against for unknown users, so they take as long
	logger *slog.Logger
}

// newUserTable returns the users in table, created by createUserTable.
func newUserTable(db *sql.DB, table string, cost int, logger *slog.Logger) (*userTable, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a password anyone has"), cost)
	if err != nil {
		return nil, err
	}
	return &userTable{db: db, table: table, dummy: dummy, logger: logger}, nil
}

// createUserTable creates table if needed and adds the demo users alice
// (member) and bob (owner) unless they exist: a user changed in the table
// keeps the change across restarts.
func createUserTable(ctx context.Context, tx *sql.Tx, table string, cost int) error {
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+table+` (
	id TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	roles TEXT NOT NULL DEFAULT '',
	disabled BOOLEAN NOT NULL DEFAULT FALSE
)`); err != nil {
		return fmt.Errorf("creating %s: %w", table, err)
	}
	for _, u := range []struct{ id, role string }{{"alice", "member"}, {"bob", "owner"}} {
		hash, err := bcrypt.GenerateFromPassword([]byte(u.id), cost)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, password_hash, roles) VALUES ($1, $2, $3)"+
			" ON CONFLICT (id) DO NOTHING", u.id, string(hash), u.role); err != nil {
			return fmt.Errorf("adding the demo users to %s: %w", table, err)
		}
	}
	return nil
}

// get reads the user with id; a missing row is policy.ErrUnknownSubject.
func (u *userTable) get(ctx context.Context, id string) (demoUser, error) {
	var hash string
	user := demoUser{ID: id}
	query := "SELECT password_hash, roles, disabled FROM " + u.table + " WHERE id = $1"
	var row sqlstore.Row
	if u.rows != nil {
		row = u.rows.QueryRow(ctx, query, id)
	} else {
		row = u.db.QueryRowContext(ctx, query, id)
	}
	err := row.Scan(&hash, &user.Role, &user.Disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return demoUser{}, policy.ErrUnknownSubject
	case err != nil:
		return demoUser{}, fmt.Errorf("%w: reading user %q: %v", keys.ErrStoreUnavailable, id, err)
	}
	user.hash = []byte(hash)
	return user, nil
}

// Subject implements policy.Subjects with one query, or none when the
// owner's row came with the key (see owners.go): roles are the
// comma-separated list of the roles column, and disabled users' keys are
// refused.
func (u *userTable) Subject(ctx context.Context, id string) (policy.Subject, error) {
	user, ok := demoUser{}, false
	if u.owners != nil {
		user, ok = u.owners.since(ctx, id) // read with the key, after this request began (owners.go)
	}
	if !ok {
		var err error
		if user, err = u.get(ctx, id); err != nil {
			return policy.Subject{}, err
		}
	}
	return policy.Subject{ID: user.ID, Roles: splitRoles(user.Role), Disabled: user.Disabled}, nil
}

// authenticate checks a user name and password. An unknown or disabled user
// costs one bcrypt comparison like a known one.
func (u *userTable) authenticate(username, password string) (demoUser, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	user, err := u.get(ctx, username)
	if err != nil && !errors.Is(err, policy.ErrUnknownSubject) {
		u.logger.Error("logging in", "err", err)
	}
	hash := user.hash
	if err != nil {
		hash = u.dummy
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	return user, err == nil && match && !user.Disabled
}

// lookup returns the enabled user with id, for the page.
func (u *userTable) lookup(id string) (demoUser, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	user, err := u.get(ctx, id)
	if err != nil && !errors.Is(err, policy.ErrUnknownSubject) {
		u.logger.Error("reading a user", "err", err)
	}
	return user, err == nil && !user.Disabled
}

// sorted returns the users by id, for the page and the welcome message.
func (u *userTable) sorted() []demoUser {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := u.db.QueryContext(ctx, "SELECT id, roles, disabled FROM "+u.table+" ORDER BY id")
	if err != nil {
		u.logger.Error("listing users", "err", err)
		return nil
	}
	defer rows.Close()
	var out []demoUser
	for rows.Next() {
		var user demoUser
		if err := rows.Scan(&user.ID, &user.Role, &user.Disabled); err != nil {
			u.logger.Error("listing users", "err", err)
			return nil
		}
		out = append(out, user)
	}
	if err := rows.Err(); err != nil {
		u.logger.Error("listing users", "err", err)
	}
	return out
}

// splitRoles reads a comma-separated list of roles; "" is none.
func splitRoles(s string) []string {
	var roles []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	return roles
}
