// Package memstore is an in-memory [keys.Store], for tests and for apps
// that run one process and do not need keys to survive a restart. Such an
// app may set keys.Config.SingleInstance: the Manager is then the only
// writer and caches records.
package memstore

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// Store is an in-memory [keys.Store]. The zero value is not usable; call
// [New]. It is safe for concurrent use: every operation holds one lock, so
// each is atomic.
type Store struct {
	mu     sync.RWMutex
	byID   map[string]*keys.Key // never mutated in place: a change stores a new record
	byHash map[string]string    // hash → id
	claims claims               // of keys/notify: see notices.go
}

// New returns an empty Store.
func New() *Store {
	return &Store{byID: map[string]*keys.Key{}, byHash: map[string]string{}}
}

// Create implements [keys.Store].
func (s *Store) Create(_ context.Context, k *keys.Key, maxLive int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[k.ID]; ok {
		return keys.ErrConflict
	}
	if _, ok := s.byHash[string(k.Hash)]; ok {
		return keys.ErrConflict
	}
	if maxLive > 0 {
		live := 0
		for _, other := range s.byID {
			if other.OwnerID == k.OwnerID && other.RevokedAt.IsZero() && !other.IsExpired(k.CreatedAt) {
				live++
			}
		}
		if live >= maxLive {
			return &policy.KeyLimitError{Limit: maxLive}
		}
	}
	c := k.Clone()
	c.Version = 1
	s.byID[k.ID] = c
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
		limit = 50 // the default of the Store contract
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*keys.Key
	for _, k := range s.byID {
		if k.OwnerID == owner && (page.Before == "" || k.ID < page.Before) && (page.Within == "" || k.ID == page.Within || slices.Contains(k.Ancestors, page.Within)) {
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
	return out, nil
}

// Change implements [keys.Store].
func (s *Store) Change(_ context.Context, id string, c keys.Change) (*keys.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	switch {
	case !ok:
		return nil, keys.ErrNotFound
	case !k.RevokedAt.IsZero():
		return nil, keys.ErrAlreadyRevoked
	case c.Version != 0 && c.Version != k.Version:
		return nil, keys.ErrConflict
	}
	if c.Secret != nil {
		if other, ok := s.byHash[string(c.Secret.Hash)]; ok && other != id {
			return nil, keys.ErrConflict
		}
	}
	n := apply(k, c)
	if c.Secret != nil {
		delete(s.byHash, string(k.Hash))
		s.byHash[string(n.Hash)] = id
	}
	s.byID[id] = n
	return n.Clone(), nil
}

// apply returns k with c applied, as the [keys.Store] contract says.
func apply(k *keys.Key, c keys.Change) *keys.Key {
	n := k.Clone()
	n.Version++
	n.UpdatedAt = c.At
	if !c.By.IsZero() {
		n.ChangedBy = c.By
	}
	if c.Metadata != nil {
		n.Metadata = nil
		if len(*c.Metadata) > 0 {
			n.Metadata = slices.Clone(*c.Metadata)
		}
	}
	if c.Name != nil {
		n.Name = *c.Name
	}
	if c.Description != nil {
		n.Description = *c.Description
	}
	if c.Permissions != nil {
		n.Permissions = c.Permissions.Clone()
	}
	if c.ExpiresAt != nil {
		n.ExpiresAt = *c.ExpiresAt
	}
	if d := c.Disabled; d != nil {
		n.Disabled, n.DisabledBy, n.DisabledAt = *d, c.By, c.At
		if !*d {
			n.DisabledBy, n.DisabledAt = audit.Actor{}, time.Time{}
		}
	}
	if sec := c.Secret; sec != nil {
		n.Hash, n.Hint, n.SecretID = slices.Clone(sec.Hash), sec.Hint, sec.SecretID
		n.PreviousHash, n.PreviousExpiresAt = nil, time.Time{}
		if len(sec.PreviousHash) > 0 {
			n.PreviousHash, n.PreviousExpiresAt = slices.Clone(sec.PreviousHash), sec.PreviousExpiresAt
		}
		if !sec.Rehash {
			n.Generation++
		}
	}
	if c.AllowedIPs != nil {
		n.AllowedIPs = nil
		if len(*c.AllowedIPs) > 0 {
			n.AllowedIPs = slices.Clone(*c.AllowedIPs)
		}
	}
	if c.Resources != nil {
		n.Resources = nil
		if len(*c.Resources) > 0 {
			n.Resources = c.Resources.Clone()
		}
	}
	if c.EndGrace && c.Secret == nil {
		n.PreviousHash, n.PreviousExpiresAt = nil, time.Time{}
	}
	if c.Revoke {
		n.RevokedAt, n.RevokedBy, n.RevokedReason = c.At, c.By, c.RevokeReason
	}
	applyQuota(n, c)
	return n
}

// Consume implements [keys.Store].
func (s *Store) Consume(_ context.Context, ids []string, now time.Time) (remaining int64, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	spent := make([]*keys.Key, 0, len(ids))
	remaining = -1
	for _, id := range ids {
		k, found := s.byID[id]
		if !found {
			return 0, false, keys.ErrNotFound
		}
		if k.Remaining == nil {
			continue
		}
		left, due := *k.Remaining, refillDue(k, now)
		if due {
			left = k.RefillAmount
		}
		if left <= 0 {
			return 0, false, nil // spent; a due refill of 0 is no refill
		}
		n := k.Clone() // records are never mutated in place: readers may hold them
		left--
		n.Remaining = &left
		if due {
			n.LastRefillAt = now
		}
		spent = append(spent, n)
		if remaining < 0 || left < remaining {
			remaining = left
		}
	}
	for _, n := range spent {
		s.byID[n.ID] = n
	}
	return remaining, true, nil
}

// refillDue reports whether k's quota is reset at now.
func refillDue(k *keys.Key, now time.Time) bool {
	if k.RefillInterval <= 0 || k.RefillAmount <= 0 {
		return false
	}
	from := k.LastRefillAt
	if from.IsZero() {
		from = k.CreatedAt
	}
	return !now.Before(from.Add(k.RefillInterval))
}

// Touch implements [keys.Store].
func (s *Store) Touch(_ context.Context, id string, t time.Time, ip string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.byID[id]; ok && t.After(k.LastUsedAt) {
		n := k.Clone()
		n.LastUsedAt, n.LastUsedIP = t, ip
		s.byID[id] = n
	}
	return nil
}
