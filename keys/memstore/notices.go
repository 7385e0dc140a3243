package memstore

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/notify"
)

var _ notify.Store = (*Store)(nil)

// claims are the claims of keys/notify notices. The zero value is empty.
type claims struct {
	mu   sync.Mutex
	byID map[noticeID]*claim
}

// noticeID names one notice: a key, a type, a lead and a moment.
type noticeID struct {
	key  string
	typ  audit.Type
	lead time.Duration
	at   int64 // Unix nanoseconds
}

type claim struct {
	owner, token      string
	claimedAt, sentAt time.Time
}

func idOf(c notify.Claim) noticeID {
	return noticeID{c.KeyID, c.Type, c.Lead, c.At.UnixNano()}
}

// Due implements [notify.Store], with [notify.Query.Match].
func (s *Store) Due(_ context.Context, q notify.Query) ([]*keys.Key, error) {
	s.mu.RLock()
	var out []*keys.Key
	for _, k := range s.byID {
		if at, ok := q.Match(k); ok && !s.claims.holds(noticeID{k.ID, q.Type, q.Lead, at.UnixNano()}, q.Lapsed) {
			out = append(out, k.Clone())
			if len(out) == q.Limit {
				break
			}
		}
	}
	s.mu.RUnlock()
	return out, nil
}

// holds reports whether notice id is sent, or claimed after lapsed.
func (c *claims) holds(id noticeID, lapsed time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl := c.byID[id]
	return cl != nil && (!cl.sentAt.IsZero() || cl.claimedAt.After(lapsed))
}

// Claim implements [notify.Store].
func (s *Store) Claim(_ context.Context, c notify.Claim) (bool, error) {
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	id := idOf(c)
	if cl := s.claims.byID[id]; cl != nil && (!cl.sentAt.IsZero() || cl.claimedAt.After(c.Lapsed)) {
		return false, nil
	}
	if s.claims.byID == nil {
		s.claims.byID = map[noticeID]*claim{}
	}
	s.claims.byID[id] = &claim{owner: c.OwnerID, token: c.Token, claimedAt: c.Now}
	return true, nil
}

// Sent implements [notify.Store].
func (s *Store) Sent(_ context.Context, c notify.Claim, at time.Time) error {
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	if cl := s.claims.byID[idOf(c)]; cl != nil && cl.token == c.Token {
		cl.sentAt = at
	}
	return nil
}

// Release implements [notify.Store].
func (s *Store) Release(_ context.Context, c notify.Claim) error {
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	if cl := s.claims.byID[idOf(c)]; cl != nil && cl.token == c.Token && cl.sentAt.IsZero() {
		delete(s.claims.byID, idOf(c))
	}
	return nil
}

// Notices implements [notify.Store].
func (s *Store) Notices(_ context.Context, owner string, limit int) ([]notify.Notice, error) {
	s.claims.mu.Lock()
	var out []notify.Notice
	for id, cl := range s.claims.byID {
		if cl.owner == owner && !cl.sentAt.IsZero() && id.typ != notify.Unused {
			out = append(out, notify.Notice{Type: id.typ, Lead: id.lead, At: time.Unix(0, id.at).UTC(), Key: &keys.Key{ID: id.key}, Sent: cl.sentAt})
		}
	}
	s.claims.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Sent.After(out[j].Sent) })
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, n := range out {
		if k, ok := s.byID[n.Key.ID]; ok {
			out[i].Key = k.Clone()
		}
	}
	return out, nil
}

// Prune implements [notify.Store].
func (s *Store) Prune(_ context.Context, before time.Time) (int64, error) {
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	var n int64
	for id, cl := range s.claims.byID {
		if cl.claimedAt.Before(before) {
			delete(s.claims.byID, id)
			n++
		}
	}
	return n, nil
}
