package keys

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"
)

// rehasher moves keys verified under an older server secret to the newest,
// off the request path: a verification queues the key's hash under the
// newest secret (computed by the verifications that find the key not yet
// queued, about once per key: the only second HMAC a verification ever
// computes), and a timer (or [Manager.Close]) writes each queued key
// with one conditional [Store.Change] on the version it was verified at, so
// that a re-hash never undoes a change made meanwhile (a rotation, a
// revocation): the Store refuses it, and the key's next use queues it again.
// Safe for concurrent use.
type rehasher struct {
	m        *Manager
	interval time.Duration

	mu      sync.Mutex
	pending map[string]rehash // key id → its re-hash, written at the next flush
	timer   *time.Timer
}

// rehash is one queued write: the key's hash under the newest secret, and
// the record it was verified on.
type rehash struct {
	hash      digest
	hint      string
	version   int64
	updatedAt time.Time // kept: a re-hash is bookkeeping, not a change anyone made
}

func newRehasher(m *Manager, interval time.Duration) *rehasher {
	return &rehasher{m: m, interval: interval, pending: map[string]rehash{}}
}

// note queues the re-hash of k (on an older secret), verified with raw
// at now under an older secret, unless one is queued already or a
// rotation's grace period is running (its previous hash is under the
// record's secret, and would no longer verify under the newest): the
// first use after the grace period moves it.
func (r *rehasher) note(k *record, raw string, now time.Time) {
	if k.inGrace(now.UnixNano()) {
		return
	}
	r.mu.Lock()
	_, queued := r.pending[k.id()]
	r.mu.Unlock()
	if queued {
		return
	}
	t, err := parse(raw) // raw passed: its hint is the record's
	if err != nil {
		return
	}
	d := r.m.hasher.Sum(raw) // outside the lock: an HMAC
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending[k.id()] = rehash{hash: d, hint: t.Hint(), version: k.secrets.version, updatedAt: k.secrets.updatedAt}
	if r.timer == nil {
		r.timer = time.AfterFunc(r.interval, func() {
			if err := r.flush(context.Background()); err != nil {
				r.m.logger.Warn("keycap: moving keys to the newest server secret failed; their next use tries again", "err", err)
			}
		})
	}
}

// flush writes every queued re-hash. A re-hash the Store refuses because
// the key changed, was revoked or is gone is dropped: the key's next use
// decides again.
func (r *rehasher) flush(ctx context.Context) error {
	r.mu.Lock()
	batch := r.pending
	r.pending = map[string]rehash{}
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.mu.Unlock()
	var errs []error
	for id, rh := range batch {
		_, err := r.m.store.Change(ctx, id, Change{Version: rh.version, At: rh.updatedAt, Secret: &Secret{
			Hash: rh.hash[:], Hint: rh.hint, SecretID: r.m.secrets.newestID, Rehash: true}})
		r.m.forget(id)
		if err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrAlreadyRevoked) && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// onOldSecret reports whether k was hashed under a secret other than the
// newest.
func (m *Manager) onOldSecret(k *Key) bool {
	return k.SecretID != m.secrets.newestID && cmp.Or(k.SecretID, defaultSecretID) != m.secrets.newestID
}
