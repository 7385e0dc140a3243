package keys

import (
	"crypto/rand"
	"encoding/binary"
	"unsafe"

	"github.com/dchest/siphash"
)

// tagger computes 128-bit SipHash-2-4 tags of presented keys under a
// per-process random key. A cache entry keeps the tag of the exact key
// string that last passed the HMAC against its record; a later
// verification whose tag matches skips the HMAC. Forging a match without
// the process's key takes about 2^128 work, the strength the HMAC check
// it replaces gives a presented key (STYLE.md: "a 128-bit keyed tag,
// constant-time"). The HMAC still runs at every cache miss, on every
// mismatch, and the stored hash stays the HMAC. Safe for concurrent use.
type tagger struct{ k0, k1 uint64 }

// tag is a SipHash-2-4-128 output. The zero tag is "none": compare with
// [tag.matches], which refuses it.
type tag struct{ lo, hi uint64 }

func newTagger() tagger {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return tagger{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
}

// of returns the tag of raw.
func (t tagger) of(raw string) tag {
	// siphash reads p and keeps nothing: the string's bytes are not
	// copied (a copy would allocate on every verification).
	p := unsafe.Slice(unsafe.StringData(raw), len(raw))
	lo, hi := siphash.Hash128(t.k0, t.k1, p)
	return tag{lo, hi}
}

// matches reports whether a and b are the same tag and not the zero tag,
// in time independent of where they differ.
func (a tag) matches(b tag) bool {
	diff := (a.lo ^ b.lo) | (a.hi ^ b.hi)
	set := a.lo | a.hi
	return diff == 0 && set != 0
}
