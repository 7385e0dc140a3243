package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash"
	"sync"
)

// Digest is the keyed hash of a key: what is stored instead of the key.
type Digest [sha256.Size]byte

// Equal reports whether d and other are the same, in constant time.
func (d Digest) Equal(other []byte) bool {
	return subtle.ConstantTimeCompare(d[:], other) == 1
}

// MinSecretLength is the shortest server secret [NewHasher] accepts.
const MinSecretLength = 32

// Hasher computes HMAC-SHA256 digests of keys under a server secret. It
// pools the keyed MAC state, so a digest costs one HMAC and no allocation.
// It is safe for concurrent use.
type Hasher struct {
	pool sync.Pool
}

// NewHasher returns a Hasher keyed with secret, which must hold at least
// [MinSecretLength] bytes from a secure random source. Changing the secret
// invalidates every stored key.
func NewHasher(secret []byte) (*Hasher, error) {
	if len(secret) < MinSecretLength {
		return nil, errors.New("keys: the server secret must be at least 32 bytes")
	}
	key := append([]byte(nil), secret...)
	h := &Hasher{}
	h.pool.New = func() any { return &mac{h: hmac.New(sha256.New, key)} }
	return h, nil
}

type mac struct {
	h   hash.Hash
	buf []byte // the key, copied: Write takes a []byte
	sum []byte // Sum's output, reused
}

// Sum returns the digest of key.
func (h *Hasher) Sum(key string) Digest {
	m := h.pool.Get().(*mac)
	m.h.Reset()
	m.buf = append(m.buf[:0], key...)
	m.h.Write(m.buf)
	m.sum = m.h.Sum(m.sum[:0])
	var d Digest
	copy(d[:], m.sum)
	h.pool.Put(m)
	return d
}
