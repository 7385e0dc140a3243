package keys

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sort"
)

// defaultSecretID is the id of [Config].Secret when Config.SecretID is "",
// and the server secret of a record whose SecretID is "" (stored before
// secrets had ids).
const defaultSecretID = "1"

// keyring holds a hasher per server secret, by id: the newest, which new
// keys are hashed under, and the older ones still accepted. It is
// immutable and safe for concurrent use.
type keyring struct {
	newestID string
	newest   *hasher
	byID     map[string]*hasher
}

// newKeyring checks the secrets of c: each long enough, under a valid
// and distinct id, no two the same.
func newKeyring(c Config) (*keyring, error) {
	id := cmp.Or(c.SecretID, defaultSecretID)
	if !validSecretID(id) {
		return nil, fmt.Errorf("keys: Config.SecretID %q: want 1 to 32 letters, digits, '.', '_' or '-'", id)
	}
	newest, err := newHasher(c.Secret)
	if err != nil {
		return nil, err
	}
	kr := &keyring{newestID: id, newest: newest, byID: map[string]*hasher{id: newest}}
	seen := map[string]string{string(c.Secret): id}
	ids := make([]string, 0, len(c.OldSecrets))
	for old := range c.OldSecrets {
		ids = append(ids, old)
	}
	sort.Strings(ids) // the same error for the same configuration
	for _, old := range ids {
		secret := c.OldSecrets[old]
		switch other, dup := seen[string(secret)]; {
		case !validSecretID(old):
			return nil, fmt.Errorf("keys: Config.OldSecrets: id %q: want 1 to 32 letters, digits, '.', '_' or '-'", old)
		case old == id:
			return nil, fmt.Errorf("keys: Config.OldSecrets[%q]: that is the id of Config.Secret; give the new secret a new SecretID", old)
		case dup:
			return nil, fmt.Errorf("keys: Config.OldSecrets[%q] is the same secret as %q: each secret needs one id", old, other)
		}
		h, err := newHasher(secret)
		if err != nil {
			return nil, fmt.Errorf("keys: Config.OldSecrets[%q] must be at least %d bytes", old, MinSecretLength)
		}
		kr.byID[old], seen[string(secret)] = h, old
	}
	return kr, nil
}

// hasher returns the hasher of the server secret a record's SecretID
// names, or nil when that secret is not configured (retired).
func (kr *keyring) hasher(id string) *hasher {
	if id == kr.newestID { // the common case: one comparison, no map lookup
		return kr.newest
	}
	return kr.byID[cmp.Or(id, defaultSecretID)]
}

// validSecretID reports whether id may name a server secret.
func validSecretID(id string) bool {
	if len(id) < 1 || len(id) > 32 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// SecretCounts returns how many live keys (neither revoked nor past their
// own expiry) each server secret hashes, by id: every configured id (0
// when it hashes none), and any id the Store holds that is no longer
// configured, whose keys are refused. It logs one line per secret but the
// newest: how many keys retiring it now would refuse, or are refused
// since it was retired.
//
// Keys move to the newest secret at their next successful use; keys
// nobody uses stay where they are. Call it before retiring a secret
// (removing it from Config.OldSecrets) and retire it when its count is 0,
// or what you accept to refuse. It reads every live record (one query):
// an operator's call, not a request's.
func (m *Manager) SecretCounts(ctx context.Context) (map[string]int, error) {
	stored, err := m.store.CountBySecret(ctx, m.now())
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(m.secrets.byID)+len(stored))
	for id := range m.secrets.byID {
		out[id] = 0
	}
	for id, n := range stored {
		out[cmp.Or(id, defaultSecretID)] += n
	}
	ids := make([]string, 0, len(out))
	for id := range out {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	newest := slog.String("newest", m.secrets.newestID)
	for _, id := range ids {
		n, attrs := out[id], []slog.Attr{slog.String("secret_id", id), slog.Int("live_keys", out[id]), newest}
		switch {
		case id == m.secrets.newestID:
		case m.secrets.byID[id] == nil:
			m.logger.LogAttrs(ctx, slog.LevelWarn, fmt.Sprintf("keycap: server secret %q is retired (not configured): %s hashed under it %s refused", id, liveKeys(n), map[bool]string{true: "is", false: "are"}[n == 1]), attrs...)
		case n == 0:
			m.logger.LogAttrs(ctx, slog.LevelInfo, fmt.Sprintf("keycap: server secret %q hashes no live key: it may be retired", id), attrs...)
		default:
			m.logger.LogAttrs(ctx, slog.LevelWarn, fmt.Sprintf("keycap: retiring server secret %q now would refuse %s; each moves to %q at its next use", id, liveKeys(n), m.secrets.newestID), attrs...)
		}
	}
	return out, nil
}

// liveKeys is "1 live key" or "n live keys".
func liveKeys(n int) string {
	if n == 1 {
		return "1 live key"
	}
	return fmt.Sprintf("%d live keys", n)
}
