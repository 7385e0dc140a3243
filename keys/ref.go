package keys

import "github.com/keycaphq/keycap/audit"

// Ref names a key and who asks about it. The zero Ref names no key: it
// answers [ErrNotFound].
type Ref struct {
	Owner string // the key's owner: another owner's key answers [ErrNotFound]
	ID    string // the key's id ([Key].ID), as in the key and in URLs
	// Caller is the API key making the request (delegation), or nil for a
	// person. A key reaches only itself and the keys created through it
	// (whose [Key].Ancestors hold it); others answer [ErrNotFound] like
	// another owner's.
	Caller *Verified
}

// checkCaller refuses a calling key that belongs to another owner.
func checkCaller(caller *Verified, owner string) error {
	if caller != nil && (caller.rec == nil || caller.rec.ownerID != owner) {
		return &DelegationError{Reason: "a key may only manage its own owner's keys"}
	}
	return nil
}

// checkManager refuses a calling key that may not manage keys: another
// owner's, or one presented with its previous secret.
func checkManager(caller *Verified, owner string) error {
	if err := checkCaller(caller, owner); err != nil {
		return err
	}
	if caller != nil && caller.PreviousSecret {
		return &DelegationError{PreviousSecret: true,
			Reason: "this key was presented with its previous secret, which works only until its rotation's grace period ends and cannot manage keys; use the new secret"}
	}
	return nil
}

// actorFor returns who acts: given, or the calling key, or the owner.
func actorFor(given audit.Actor, caller *Verified, owner string) audit.Actor {
	switch {
	case caller != nil:
		return audit.Key(caller.rec.id())
	case !given.IsZero():
		return given
	}
	return audit.User(owner)
}

// within returns the id a listing by caller is confined to: its own key,
// or "" for a person.
func within(caller *Verified) string {
	if caller == nil {
		return ""
	}
	return caller.rec.id()
}
