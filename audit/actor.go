package audit

import (
	"errors"
	"strings"
)

// Kind says what kind of party acted on a key.
type Kind string

// The kinds of actors.
const (
	KindUser     Kind = "user"     // a logged-in user: the owner, or an admin acting on another's key
	KindKey      Kind = "key"      // an API key (delegation); it acts for its own owner only
	KindOperator Kind = "operator" // a person at the operator CLI, or another tool with database access
	KindSystem   Kind = "system"   // keycap itself or the app acting on its own (a scanner report, a staleness rule)
)

// Actor is who made a change: a typed value, never parsed from a user id.
// The zero Actor is nobody (a change whose actor was not recorded). It is
// stored as "kind:id" ([Actor.MarshalText]).
type Actor struct {
	Kind Kind   // what kind of party acted; "" only in the zero Actor
	ID   string // the user id, key id, operator name or system component
}

// User is the user with id, acting through a session.
func User(id string) Actor { return Actor{Kind: KindUser, ID: id} }

// Key is the API key with id, acting for its owner.
func Key(id string) Actor { return Actor{Kind: KindKey, ID: id} }

// IsZero reports whether a is the zero Actor.
func (a Actor) IsZero() bool { return a == Actor{} }

// String returns "kind:id"; "" for the zero Actor.
func (a Actor) String() string {
	if a.IsZero() {
		return ""
	}
	return string(a.Kind) + ":" + a.ID
}

// MarshalText implements [encoding.TextMarshaler]: the String form.
func (a Actor) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

var errActor = errors.New(`audit: an actor is "user:<id>", "key:<id>", "operator:<id>" or "system:<id>"`)

// UnmarshalText implements [encoding.TextUnmarshaler]: it reads the String
// form, whatever the id holds; "" is the zero Actor.
func (a *Actor) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*a = Actor{}
		return nil
	}
	kind, id, ok := strings.Cut(string(text), ":")
	switch k := Kind(kind); {
	case !ok:
		return errActor
	case k == KindUser, k == KindKey, k == KindOperator, k == KindSystem:
		*a = Actor{Kind: k, ID: id}
		return nil
	}
	return errActor
}

// Operator is a person or tool acting with direct access to the store,
// such as the operator CLI.
func Operator(id string) Actor { return Actor{Kind: KindOperator, ID: id} }

// System is keycap or the app acting on its own, such as a secret
// scanner's report or a staleness rule.
func System(id string) Actor { return Actor{Kind: KindSystem, ID: id} }
