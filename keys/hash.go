package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash"
	"sync"
)

// digest is the keyed hash of a key: what is stored instead of the key.
type digest [sha256.Size]byte

// Equal reports whether d and other are the same, in constant time.
func (d digest) Equal(other []byte) bool {
	return subtle.ConstantTimeCompare(d[:], other) == 1
}

// MinSecretLength is the shortest server secret, in bytes, that
// [NewManager] accepts as [Config].Secret.
const MinSecretLength = 32

// hasher computes HMAC-SHA256 digests of keys under a server secret. It
// pools the keyed MAC state, so a digest costs one HMAC and no allocation.
// It is safe for concurrent use.
type hasher struct {
	pool sync.Pool
}

// newHasher returns a hasher keyed with secret, which must hold at least
// [MinSecretLength] bytes from a secure random source. Changing the secret
// invalidates every stored key.
func newHasher(secret []byte) (*hasher, error) {
	if len(secret) < MinSecretLength {
		return nil, errors.New("keys: the server secret must be at least 32 bytes")
	}
	key := append([]byte(nil), secret...)
	h := &hasher{}
	h.pool.New = func() any { return &mac{h: hmac.New(sha256.New, key)} }
	return h, nil
}

type mac struct {
	h   hash.Hash
	buf []byte // the key, copied: Write takes a []byte
	sum []byte // Sum's output, reused
}

// Sum returns the digest of key.
func (h *hasher) Sum(key string) digest {
	m := h.pool.Get().(*mac)
	m.h.Reset()
	m.buf = append(m.buf[:0], key...)
	m.h.Write(m.buf)
	m.sum = m.h.Sum(m.sum[:0])
	var d digest
	copy(d[:], m.sum)
	h.pool.Put(m)
	return d
}
