package keys

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// presented returns the stored record of the key raw, if raw is a key this
// Manager would accept as its own secret: well formed with the Manager's
// prefix, a stored id, and the keyed hash of the record's secret (or of
// its previous secret, while a rotation's grace period lasts: previous
// says so). The record
// may be revoked, disabled or expired: what a key can do is Verify's
// question, whose key it is is this one's. It reads the Store, never the
// cache, and writes nothing. Malformed keys and keys of another prefix are
// [ErrInvalid]; unknown ids and wrong secrets wrap [ErrInvalid] alike.
func (m *Manager) presented(ctx context.Context, raw string) (k *Key, previous bool, err error) {
	t, err := parse(raw)
	if err != nil || m.kinds.byPrefix[t.Prefix] == nil {
		return nil, false, errMalformed
	}
	k, err = m.store.Get(ctx, t.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, false, errUnknownID
	} else if err != nil {
		return nil, false, err
	}
	// Was a bug, fixed: raw was hashed under the newest server secret only,
	// so a key (or a previous secret) still on an older one, which Verify
	// accepts, could not be revoked by presentation: a leaked key reported
	// by a scanner was answered "not ours" and kept working.
	h := m.secrets.hasher(k.SecretID)
	if h == nil {
		return nil, false, errRetiredSecret // refused by Verify too: nothing to revoke
	}
	d := h.Sum(raw)
	current := d.Equal(k.Hash)
	previous = !current && k.PreviousHash != nil && m.now().Before(k.PreviousExpiresAt) && d.Equal(k.PreviousHash)
	if !current && !previous {
		return nil, false, errWrongSecret
	}
	return k, previous, nil
}

// maxSourceBytes bounds the Source of a leak kept in its audit event.
const maxSourceBytes = 2000

// leakReason is the reason of a leak's revocation: the given reason (or
// "leaked") and where the key was found, made storable text.
func leakReason(reason, source string) string {
	source = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(source, "\uFFFD"))
	if reason == "" {
		reason = "leaked"
	}
	return reason + "; found at " + cut(source, maxSourceBytes)
}

// cut returns s cut to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
