package rediscache

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
	"time"

	"github.com/keycaphq/keycap/keys"
)

// A cached record is sealed in an envelope that whoever can write to Redis
// cannot forge:
//
//	format (1 byte, 2) | tag (32 bytes) | not after (8 bytes, Unix ms, big endian) | record
//
// tag = HMAC-SHA256(macKey, uvarint(len(redisKey)) | redisKey | format |
// not after | record), where macKey = HMAC-SHA256(secret, label). The tag
// binds the record to the Redis key it is stored under (so to its id and
// prefix): a valid envelope copied under another key does not verify. The
// label holds spaces, so it can never be a key that a [keys.Manager]
// hashes under the same secret. Envelopes are checked before they are decoded, in
// constant time.
const (
	sealFormat  = 6 // 6: records with Description; 5: with Resources (4: ChangedBy, Kind, Metadata; 2: DisabledAt, SecretID, AllowedIPs); a record of another format is a miss
	tagSize     = sha256.Size
	headerSize  = 1 + tagSize + 8
	deriveLabel = "keycap rediscache record v1"
)

// Reasons an envelope is refused.
var (
	errFormat  = errors.New("unknown record format (cached by another version of keycap, or forged)")
	errTag     = errors.New("record MAC does not verify (forged, or cached under another secret or Redis key)")
	errExpired = errors.New("record past its sealed expiry")
)

// sealer seals and opens envelopes. It pools keyed MAC states; it is safe
// for concurrent use.
type sealer struct {
	pool sync.Pool // of *macState
}

type macState struct {
	h   hash.Hash
	buf []byte // the MAC's input, reused
	sum []byte
}

// newSealer derives the MAC key from secret; secret is not kept.
func newSealer(secret []byte) *sealer {
	d := hmac.New(sha256.New, secret)
	d.Write([]byte(deriveLabel))
	key := d.Sum(nil)
	s := &sealer{}
	s.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	return s
}

// seal returns k's envelope for rkey, valid until notAfter.
func (s *sealer) seal(rkey string, k *keys.Key, notAfter time.Time) []byte {
	b := make([]byte, headerSize, 384)
	b[0] = sealFormat
	binary.BigEndian.PutUint64(b[1+tagSize:], uint64(notAfter.UnixMilli()))
	b = appendKey(b, k)
	m := s.pool.Get().(*macState)
	copy(b[1:], macOf(m, rkey, sealFormat, b[1+tagSize:]))
	s.pool.Put(m)
	return b
}

// open returns the record in envelope env stored under rkey, if its tag
// verifies and its expiry has not passed at now.
func (s *sealer) open(rkey, env string, now time.Time) (*keys.Key, error) {
	if len(env) < headerSize || env[0] != sealFormat {
		return nil, errFormat
	}
	m := s.pool.Get().(*macState)
	ok := hmac.Equal(macOf(m, rkey, env[0], env[1+tagSize:]), []byte(env[1:1+tagSize]))
	s.pool.Put(m)
	if !ok {
		return nil, errTag
	}
	notAfter := int64(binary.BigEndian.Uint64([]byte(env[1+tagSize : headerSize])))
	if now.UnixMilli() >= notAfter {
		return nil, errExpired
	}
	return decodeKey(env[headerSize:])
}

// macOf returns the tag of rkey, format and rest (the expiry and the
// record); the result is m's until its next use.
func macOf[T string | []byte](m *macState, rkey string, format byte, rest T) []byte {
	m.buf = binary.AppendUvarint(m.buf[:0], uint64(len(rkey)))
	m.buf = append(append(append(m.buf, rkey...), format), rest...)
	m.h.Reset()
	m.h.Write(m.buf)
	m.sum = m.h.Sum(m.sum[:0])
	return m.sum
}
