// Package memstore is an in-memory [keys.Store], for tests and for apps
// that run one process and do not need keys to survive a restart.
package memstore

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// Store is an in-memory [keys.Store]. The zero value is not usable; call
// [New]. It is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	byID   map[string]*keys.Key
	byHash map[string]string // hash → id
}

// New returns an empty Store.
func New() *Store {
	return &Store{byID: map[string]*keys.Key{}, byHash: map[string]string{}}
}

// Local reports that this store lives in one process, so a [keys.Manager]
// may cache its records without any invalidation.
func (s *Store) Local() bool { return true }

// Create implements [keys.Store].
func (s *Store) Create(_ context.Context, k *keys.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[k.ID]; ok {
		return keys.ErrConflict
	}
	if _, ok := s.byHash[string(k.Hash)]; ok {
		return keys.ErrConflict
	}
	s.byID[k.ID] = k.Clone()
	s.byHash[string(k.Hash)] = k.ID
	return nil
}

// Get implements [keys.Store].
func (s *Store) Get(_ context.Context, id string) (*keys.Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.byID[id]
	if !ok {
		return nil, keys.ErrNotFound
	}
	return k.Clone(), nil
}

// List implements [keys.Store].
func (s *Store) List(_ context.Context, owner string, page keys.Page) ([]*keys.Key, error) {
	limit := page.Limit
	if limit <= 0 {
		limit = keys.DefaultPageLimit
	}
	s.mu.RLock()
	var out []*keys.Key
	for _, k := range s.byID {
		if k.OwnerID == owner && (page.Before == "" || k.ID < page.Before) {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	for i, k := range out {
		out[i] = k.Clone()
	}
	s.mu.RUnlock()
	return out, nil
}

// Update implements [keys.Store].
func (s *Store) Update(_ context.Context, k *keys.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[k.ID]
	if !ok {
		return keys.ErrNotFound
	}
	if id, ok := s.byHash[string(k.Hash)]; ok && id != k.ID {
		return keys.ErrConflict
	}
	delete(s.byHash, string(old.Hash))
	s.byID[k.ID] = k.Clone()
	s.byHash[string(k.Hash)] = k.ID
	return nil
}

// Touch implements [keys.Store].
func (s *Store) Touch(_ context.Context, id string, t time.Time, ip string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.byID[id]; ok && t.After(k.LastUsedAt) {
		k.LastUsedAt, k.LastUsedIP = t, ip
	}
	return nil
}
