package keys

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Get returns the key ref names. Another owner's key, or a key out of
// the calling key's reach, is [ErrNotFound], exactly like a missing one.
func (m *Manager) Get(ctx context.Context, ref Ref) (*Key, error) {
	if err := checkCaller(ref.Caller, ref.Owner); err != nil {
		return nil, err
	}
	if !validID(ref.ID) || !validText(ref.Owner) {
		return nil, ErrNotFound // no store holds it: not worth asking, nor a database error
	}
	k, err := m.store.Get(ctx, ref.ID)
	if err != nil {
		return nil, err
	}
	if k.OwnerID != ref.Owner || (ref.Caller != nil && !reaches(k, ref.Caller.rec.id())) {
		return nil, ErrNotFound
	}
	return k, nil
}

// ListRequest asks [Manager.List] for a page of an owner's keys.
type ListRequest struct {
	Owner  string // whose keys to list: the subject id of [Key].OwnerID
	Before string // the cursor the previous page returned; "" for the first page
	Limit  int    // 1 to 200; 0 means 50
	// Caller confines the listing to the calling key and the keys created
	// through it; nil for a person, who sees every key of Owner.
	Caller *Verified
}

// List returns a page of the owner's keys, newest first, and the cursor of
// the next page ("" on the last page). Revoked keys are included. The
// caller's reach is applied before paging: pages are full and a cursor
// never names a key out of reach.
func (m *Manager) List(ctx context.Context, r ListRequest) ([]*Key, string, error) {
	if err := checkCaller(r.Caller, r.Owner); err != nil {
		return nil, "", err
	}
	if r.Before != "" && !validID(r.Before) {
		return nil, "", &FieldError{Field: "cursor", Reason: "the cursor is the next_cursor of the previous page, or nothing for the first"}
	}
	if !validText(r.Owner) {
		return nil, "", &FieldError{Field: "owner", Reason: "an owner id is valid UTF-8 with no NUL byte"}
	}
	want := r.Limit
	switch {
	case want == 0:
		want = defaultPageLimit
	case want < 0 || want > maxPageLimit:
		return nil, "", &FieldError{Field: "limit", Reason: "limit must be a whole number from 1 to " + strconv.Itoa(maxPageLimit)}
	}
	// One more tells whether there is a next page.
	list, err := m.store.List(ctx, r.Owner, Page{Before: r.Before, Limit: want + 1, Within: within(r.Caller)})
	if err != nil {
		return nil, "", err
	}
	if len(list) <= want {
		return list, "", nil
	}
	list = list[:want]
	return list, list[want-1].ID, nil
}

// reaches reports whether a request made with key id may manage k: k is
// that key or was created through it (delegation).
func reaches(k *Key, id string) bool { return k.ID == id || slices.Contains(k.Ancestors, id) }

// validID reports whether s has the form of a key id.
func validID(s string) bool { return len(s) == idLength && isBase32(s) }

// validText reports whether s may be stored as text in any database:
// valid UTF-8 without NUL bytes (Postgres refuses both).
func validText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
