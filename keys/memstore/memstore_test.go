package memstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keycaphq/keycap/internal/keyforge"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// newKey returns a record of owner created at at, with a unique id and hash.
func newKey(t testing.TB, owner string, at time.Time) *keys.Key {
	t.Helper()
	id := keyforge.ID(at)
	return &keys.Key{
		ID:          id,
		OwnerID:     owner,
		Name:        "k",
		Prefix:      "kc",
		Hash:        []byte("hash-" + id),
		Permissions: policy.MustParse("files:read"),
		Version:     1, // what Create stores
		CreatedAt:   at,
		UpdatedAt:   at,
	}
}

var _ keys.Store = (*memstore.Store)(nil)

func TestCreateAndGet(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	k := newKey(t, "u1", t0)
	require.NoError(t, s.Create(ctx, k, 0))

	got, err := s.Get(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, k, got)

	_, err = s.Get(ctx, "0000000000000000")
	assert.ErrorIs(t, err, keys.ErrNotFound)
	_, err = s.Get(ctx, "")
	assert.ErrorIs(t, err, keys.ErrNotFound)
}

func TestCreateConflicts(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(k, first *keys.Key)
	}{
		{"same id", func(k, first *keys.Key) { k.ID = first.ID }},
		{"same hash", func(k, first *keys.Key) { k.Hash = append([]byte(nil), first.Hash...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memstore.New()
			first := newKey(t, "u1", t0)
			require.NoError(t, s.Create(ctx, first, 0))
			k := newKey(t, "u2", t0.Add(time.Second))
			tt.change(k, first)

			assert.ErrorIs(t, s.Create(ctx, k, 0), keys.ErrConflict)
			got, err := s.Get(ctx, first.ID)
			require.NoError(t, err)
			assert.Equal(t, first, got, "the first record is untouched")
			list, err := s.List(ctx, "u2", keys.Page{})
			require.NoError(t, err)
			assert.Empty(t, list, "nothing stored")
		})
	}
}

// TestRecordsAreCopies: a Store must not retain or share the records it is
// given or returns, or a caller's change would reach every other reader.
func TestRecordsAreCopies(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	remaining := int64(5)
	k := newKey(t, "u1", t0)
	k.Remaining = &remaining
	want := k.Clone()
	require.NoError(t, s.Create(ctx, k, 0))

	k.Name = "changed"
	k.Permissions["files"][0] = "write"
	k.Hash[0] = 'X'
	*k.Remaining = 0
	got, err := s.Get(ctx, want.ID)
	require.NoError(t, err)
	assert.Equal(t, want, got, "changing the created record changes nothing stored")

	got.Permissions["files"][0] = "delete"
	got.Name = "changed again"
	*got.Remaining = 1
	again, err := s.Get(ctx, want.ID)
	require.NoError(t, err)
	assert.Equal(t, want, again, "changing a returned record changes nothing stored")

	list, err := s.List(ctx, "u1", keys.Page{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	list[0].Permissions["files"][0] = "delete"
	again, err = s.Get(ctx, want.ID)
	require.NoError(t, err)
	assert.Equal(t, want, again, "changing a listed record changes nothing stored")

	perms := policy.MustParse("files:write")
	changed, err := s.Change(ctx, want.ID, keys.Change{Version: 1, At: t0, Permissions: perms})
	require.NoError(t, err)
	perms["files"][0] = "delete"
	changed.Name = "changed after the change"
	again, err = s.Get(ctx, want.ID)
	require.NoError(t, err)
	assert.Equal(t, policy.MustParse("files:write"), again.Permissions, "changing a Change's input changes nothing stored")
	assert.Equal(t, "k", again.Name, "changing a Change's result changes nothing stored")
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	var ids []string // oldest first
	for i := range 12 {
		k := newKey(t, "u1", t0.Add(time.Duration(i)*time.Second))
		require.NoError(t, s.Create(ctx, k, 0))
		ids = append(ids, k.ID)
		require.NoError(t, s.Create(ctx, newKey(t, "u2", t0.Add(time.Duration(i)*time.Second)), 0))
	}
	newest := func(from, n int) []string { // ids[from], ids[from-1], ... n of them
		var out []string
		for i := from; i > from-n && i >= 0; i-- {
			out = append(out, ids[i])
		}
		return out
	}
	tests := []struct {
		name string
		page keys.Page
		want []string
	}{
		{"everything, newest first", keys.Page{}, newest(11, 12)},
		{"a limit", keys.Page{Limit: 5}, newest(11, 5)},
		{"after a cursor", keys.Page{Before: ids[7], Limit: 3}, newest(6, 3)},
		{"the last page", keys.Page{Before: ids[2], Limit: 10}, newest(1, 2)},
		{"before the oldest", keys.Page{Before: ids[0]}, nil},
		{"a cursor that is not a stored id", keys.Page{Before: ids[5] + "0", Limit: 1}, newest(5, 1)},
		{"a negative limit means the default", keys.Page{Limit: -1}, newest(11, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := s.List(ctx, "u1", tt.page)
			require.NoError(t, err)
			var got []string
			for _, k := range list {
				assert.Equal(t, "u1", k.OwnerID)
				got = append(got, k.ID)
			}
			assert.Equal(t, tt.want, got)
		})
	}

	list, err := s.List(ctx, "nobody", keys.Page{})
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestListDefaultLimit(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	for i := range 50 + 5 {
		require.NoError(t, s.Create(ctx, newKey(t, "u1", t0.Add(time.Duration(i)*time.Millisecond)), 0))
	}
	list, err := s.List(ctx, "u1", keys.Page{})
	require.NoError(t, err)
	assert.Len(t, list, 50)
}

func TestChangeRotation(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	k := newKey(t, "u1", t0)
	other := newKey(t, "u1", t0.Add(time.Second))
	require.NoError(t, s.Create(ctx, k, 0))
	require.NoError(t, s.Create(ctx, other, 0))

	// Rotation: the hash changes, and the old one is free again.
	rotated, err := s.Change(ctx, k.ID, keys.Change{Version: 1, At: t0, Secret: &keys.Secret{Hash: []byte("new-hash"), PreviousHash: k.Hash}})
	require.NoError(t, err)
	got, err := s.Get(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, rotated, got)

	fresh := newKey(t, "u2", t0.Add(2*time.Second))
	fresh.Hash = append([]byte(nil), k.Hash...)
	assert.NoError(t, s.Create(ctx, fresh, 0), "the replaced hash may be used again")

	// Taking another record's hash is a conflict, and changes nothing.
	_, err = s.Change(ctx, other.ID, keys.Change{Version: 1, At: t0, Name: ptr("stolen"), Secret: &keys.Secret{Hash: []byte("new-hash")}})
	assert.ErrorIs(t, err, keys.ErrConflict)
	got, err = s.Get(ctx, other.ID)
	require.NoError(t, err)
	assert.Equal(t, other, got)

	unknown := newKey(t, "u1", t0.Add(3*time.Second))
	_, err = s.Change(ctx, unknown.ID, keys.Change{At: t0, Name: ptr("x")})
	assert.ErrorIs(t, err, keys.ErrNotFound)
	_, err = s.Get(ctx, unknown.ID)
	assert.ErrorIs(t, err, keys.ErrNotFound, "Change does not create")
}

func ptr[T any](v T) *T { return &v }

func TestTouch(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	k := newKey(t, "u1", t0)
	require.NoError(t, s.Create(ctx, k, 0))

	require.NoError(t, s.Touch(ctx, k.ID, t0.Add(time.Minute), "203.0.113.1"))
	got, err := s.Get(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Minute), got.LastUsedAt)
	assert.Equal(t, "203.0.113.1", got.LastUsedIP)

	require.NoError(t, s.Touch(ctx, k.ID, t0.Add(time.Second), "203.0.113.2"), "an older use is ignored")
	got, err = s.Get(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Minute), got.LastUsedAt)
	assert.Equal(t, "203.0.113.1", got.LastUsedIP)

	assert.NoError(t, s.Touch(ctx, "0000000000000000", t0, ""), "an unknown id is not an error")

	got.Name = "x" // Touch did not hand out its record
	again, err := s.Get(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, "k", again.Name)
}

// TestConcurrentUse exercises every method at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			owner := fmt.Sprintf("u%d", g%2)
			for i := range 50 {
				k := newKey(t, owner, t0.Add(time.Duration(g*1000+i)*time.Millisecond))
				if err := s.Create(ctx, k, 0); err != nil {
					t.Error(err)
					return
				}
				got, err := s.Get(ctx, k.ID)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Change(ctx, k.ID, keys.Change{Version: got.Version, At: t0, Name: ptr("renamed")}); err != nil {
					t.Error(err)
					return
				}
				if err := s.Touch(ctx, k.ID, t0.Add(time.Hour), "ip"); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.List(ctx, owner, keys.Page{Limit: 10}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, owner := range []string{"u0", "u1"} {
		list, err := s.List(ctx, owner, keys.Page{Limit: 1000})
		require.NoError(t, err)
		assert.Len(t, list, 200)
		for _, k := range list {
			assert.Equal(t, "renamed", k.Name)
			assert.Equal(t, t0.Add(time.Hour), k.LastUsedAt)
		}
	}
}
