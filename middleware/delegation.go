package middleware

import (
	"net/http"

	"github.com/keycaphq/keycap/keys"
)

// A key that manages keys (Options.AllowDelegation) reaches only itself
// and the keys it created, directly or through keys it created: never its
// owner's other keys, which may hold more than it does. Keys out of its
// reach answer KEY_NOT_FOUND, like another user's.

// inScope refuses a key-authenticated request about a key out of reach.
func (kc *Keycap) inScope(r *http.Request, p Principal, owner string) error {
	if p.Kind != KindKey {
		return nil
	}
	k, err := kc.manager.Get(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !kc.reaches(r, p, k) {
		return keys.ErrNotFound
	}
	return nil
}

// scoped keeps the keys of list within reach of the caller.
func (kc *Keycap) scoped(r *http.Request, p Principal, list []*keys.Key) []*keys.Key {
	if p.Kind != KindKey {
		return list
	}
	out := list[:0]
	for _, k := range list {
		if kc.reaches(r, p, k) {
			out = append(out, k)
		}
	}
	return out
}

// reaches reports whether the calling key is k or one of its ancestors.
func (kc *Keycap) reaches(r *http.Request, p Principal, k *keys.Key) bool {
	for depth := 0; depth <= keys.MaxDelegationDepth; depth++ {
		if k.ID == p.KeyID {
			return true
		}
		if k.ParentID == "" {
			return false
		}
		parent, err := kc.manager.Lookup(r.Context(), k.ParentID)
		if err != nil {
			return false
		}
		k = parent
	}
	return false
}
