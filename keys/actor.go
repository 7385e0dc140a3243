package keys

import (
	"errors"
	"strings"
)

// ActorKind says what kind of party acted on a key.
type ActorKind string

// The kinds of actors.
const (
	ActorUser     ActorKind = "user"     // a logged-in user: the owner, or an admin acting on another's key
	ActorKey      ActorKind = "key"      // an API key (delegation); it acts for its own owner only
	ActorOperator ActorKind = "operator" // a person at the operator CLI, or another tool with database access
	ActorSystem   ActorKind = "system"   // keycap itself or the app acting on its own (a scanner report, a staleness rule)
)

// Actor is who made a change: a typed value, never parsed from a user id.
// The zero Actor is nobody (a change whose actor was not recorded).
type Actor struct {
	Kind ActorKind
	ID   string // the user id, key id, operator name or system component
}

// UserActor is the user with id, acting through a session.
func UserActor(id string) Actor { return Actor{Kind: ActorUser, ID: id} }

// KeyActor is the API key with id.
func KeyActor(id string) Actor { return Actor{Kind: ActorKey, ID: id} }

// IsZero reports whether a is the zero Actor.
func (a Actor) IsZero() bool { return a == Actor{} }

// String returns "kind:id", the form stored in databases and logs; "" for
// the zero Actor. It parses back with [ParseActor] whatever the id holds.
func (a Actor) String() string {
	if a.IsZero() {
		return ""
	}
	return string(a.Kind) + ":" + a.ID
}

// actsFor reports whether a acts on the owner's side for a key of owner:
// the owner, one of the owner's keys (keys act only for their own owner),
// keycap itself, or nobody recorded. An admin or an operator does not.
func (a Actor) actsFor(owner string) bool {
	switch a.Kind {
	case "", ActorKey, ActorSystem:
		return true
	case ActorUser:
		return a.ID == owner
	}
	return false
}

var errActor = errors.New(`keys: an actor is "user:<id>", "key:<id>", "operator:<id>" or "system:<id>"`)

// ParseActor reads the String form of an Actor. "" is the zero Actor.
func ParseActor(s string) (Actor, error) {
	if s == "" {
		return Actor{}, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	switch a := (Actor{Kind: ActorKind(kind), ID: id}); {
	case !ok:
		return Actor{}, errActor
	case a.Kind == ActorUser, a.Kind == ActorKey, a.Kind == ActorOperator, a.Kind == ActorSystem:
		return a, nil
	}
	return Actor{}, errActor
}
