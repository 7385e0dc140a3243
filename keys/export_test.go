package keys

import (
	"context"

	"github.com/keycaphq/keycap/policy"
)

// GenerateForTest exposes generate to the external tests: a key with a
// valid form and checksum for any prefix and id, stored nowhere. Apps get
// keys from [Manager.Create] and [Manager.Rotate] only.
var GenerateForTest = generate

// Test access to the key format, which apps never need: they get keys from
// the Manager and check them with Verify.
var (
	NewIDForTest   = newID
	ParseForTest   = parse
	PatternForTest = patternOf(`[a-z][a-z0-9]{0,15}`) // keys with any valid prefix
)

// TokenForTest is a parsed key.
type TokenForTest = token

// The refusals Verify wraps in ErrInvalid, and other internals the tests
// check by name.
var (
	ErrRevokedForTest       = errRevoked
	ErrDisabledForTest      = errDisabled
	ErrOwnerGoneForTest     = errOwnerGone
	ErrParentInvalidForTest = errParentInvalid
	NewHasherForTest        = newHasher
	ValidPrefixForTest      = validPrefix
)

const (
	DefaultPrefixForTest      = defaultPrefix
	MaxNameLengthForTest      = maxNameLength
	DefaultPageLimitForTest   = defaultPageLimit
	MaxPageLimitForTest       = maxPageLimit
	MaxDelegationDepthForTest = maxDelegationDepth
)

// CachedForTest reports how many records the in-process cache holds; 0
// when it is off.
func (m *Manager) CachedForTest() int {
	if m.cache == nil {
		return 0
	}
	return m.cache.len()
}

// RePrefixForTest returns raw under another prefix, same id and secret,
// with a valid checksum: the same key text presented as another kind's.
func RePrefixForTest(raw, prefix string) string {
	t, err := parse(raw)
	if err != nil {
		panic(err)
	}
	body := prefix + "_" + t.ID + "_" + t.secret
	var sum [checksumLength]byte
	encodeChecksum(sum[:], checksum(body))
	return body + "_" + string(sum[:])
}

// CapForTest is what the subject with id may grant now, within bounds.
func (m *Manager) CapForTest(ctx context.Context, id string, bounds ...policy.Permissions) (policy.Permissions, error) {
	return m.capOf(ctx, id, bounds...)
}
