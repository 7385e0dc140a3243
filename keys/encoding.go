package keys

import (
	"crypto/rand"
	"encoding/binary"
	"math"
	"sync"
	"time"
)

const (
	base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// base32Alphabet is Crockford's, lower case; both alphabets are in ASCII
	// order, so fixed-width encodings sort like the numbers they encode.
	base32Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

	idLength       = 16 // base32 characters: 80 bits, 48 of time and 32 random or counting
	secretLength   = 32 // base62 characters: 190 bits
	checksumLength = 6  // base62 characters: a CRC32
)

// newID returns a time-ordered id: 48 bits of Unix milliseconds and 32
// bits that are random for the first id of a millisecond and count up from
// there for the next ones this process makes in it, in 16 base32
// characters. Ids sort by creation time, which keyset pagination and
// "newest first" rely on, also for keys made in the same millisecond.
func newID(now time.Time) (string, error) {
	ms, seq, err := idClock.next(now.UnixMilli())
	if err != nil {
		return "", err
	}
	var b [10]byte
	binary.BigEndian.PutUint64(b[:8], uint64(ms)<<16)
	binary.BigEndian.PutUint32(b[6:], seq)
	var out [idLength]byte
	// 80 bits, 5 at a time from the top.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := uint64(binary.BigEndian.Uint16(b[8:]))
	for i := idLength - 1; i >= 0; i-- {
		out[i] = base32Alphabet[lo&31]
		lo = lo>>5 | (hi&31)<<11
		hi >>= 5
	}
	return string(out[:]), nil
}

// idClock makes this process's ids strictly increasing, even within a
// millisecond or when the wall clock steps back.
var idClock monotonic

type monotonic struct {
	mu      sync.Mutex
	lastMS  int64
	lastSeq uint32
}

func (m *monotonic) next(ms int64) (int64, uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ms <= m.lastMS {
		if m.lastSeq < math.MaxUint32 {
			m.lastSeq++
			return m.lastMS, m.lastSeq, nil
		}
		ms = m.lastMS + 1 // 4 billion ids in a millisecond: borrow the next one
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return 0, 0, err
	}
	// The top bit stays clear, leaving room to count up within the millisecond.
	m.lastMS, m.lastSeq = ms, binary.BigEndian.Uint32(r[:])>>1
	return m.lastMS, m.lastSeq, nil
}

// newSecret returns secretLength base62 characters drawn uniformly with
// rejection sampling from crypto/rand.
func newSecret() (string, error) {
	out := make([]byte, 0, secretLength)
	var buf [64]byte
	for len(out) < secretLength {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		for _, c := range buf {
			if c < 248 { // 248 = 4*62: keeps the draw uniform
				out = append(out, base62Alphabet[c%62])
				if len(out) == secretLength {
					break
				}
			}
		}
	}
	return string(out), nil
}

// encodeChecksum writes a CRC32 as checksumLength base62 characters.
func encodeChecksum(dst []byte, sum uint32) {
	v := uint64(sum)
	for i := checksumLength - 1; i >= 0; i-- {
		dst[i] = base62Alphabet[v%62]
		v /= 62
	}
}

// Character classes, as lookup tables: one load per byte when parsing.
var (
	base62Valid = table(base62Alphabet)
	base32Valid = table(base32Alphabet)
)

func table(alphabet string) (t [256]bool) {
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = true
	}
	return t
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if !base62Valid[s[i]] {
			return false
		}
	}
	return true
}

func isBase32(s string) bool {
	for i := 0; i < len(s); i++ {
		if !base32Valid[s[i]] {
			return false
		}
	}
	return true
}
