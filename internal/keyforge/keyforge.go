// Package keyforge makes well-formed keys and ids for tests, written
// independently of package keys from the documented format, so that tests
// can present keys keycap never issued (forged secrets, random ids); the
// keys package's tests check that its parser accepts them:
//
//	<prefix>_<id: 16 Crockford base32>_<secret: 32 base62>_<checksum: CRC32 in 6 base62>
package keyforge

import (
	"crypto/rand"
	"encoding/binary"
	"hash/crc32"
	"math/big"
	"time"
)

const (
	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base32 = "0123456789abcdefghjkmnpqrstvwxyz"
)

// Key returns a well-formed key with prefix and id and a random secret: it
// passes the checksum, and verifies only if keycap issued that secret.
func Key(prefix, id string) string {
	secret := make([]byte, 32)
	for i := range secret {
		n, err := rand.Int(rand.Reader, big.NewInt(62))
		if err != nil {
			panic(err)
		}
		secret[i] = base62[n.Int64()]
	}
	body := prefix + "_" + id + "_" + string(secret)
	sum := uint64(crc32.ChecksumIEEE([]byte(body)))
	var check [6]byte
	for i := 5; i >= 0; i-- {
		check[i] = base62[sum%62]
		sum /= 62
	}
	return body + "_" + string(check[:])
}

// ID returns a random key id for a record created at t: 48 bits of Unix
// milliseconds and 32 random bits, in 16 base32 characters. Ids made for
// later times sort after ids made for earlier ones.
func ID(t time.Time) string {
	var b [10]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err)
	}
	hi, lo := binary.BigEndian.Uint64(b[:8]), uint64(binary.BigEndian.Uint16(b[8:]))
	var out [16]byte
	for i := 15; i >= 0; i-- {
		out[i] = base32[lo&31]
		lo = lo>>5 | (hi&31)<<11
		hi >>= 5
	}
	return string(out[:])
}

// Typo returns key with its last character changed to another one of the
// same alphabet: a key that differs from key by one character, so its
// checksum no longer matches. (Appending a fixed character instead equals
// key whenever key already ends with it: one time in 62.)
func Typo(key string) string {
	if key == "" {
		return "x"
	}
	last := key[len(key)-1]
	next := byte('x')
	if last == next {
		next = 'y'
	}
	return key[:len(key)-1] + string(next)
}
