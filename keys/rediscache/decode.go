package rediscache

import (
	"encoding/binary"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// decodeKey reads a record written by [appendKey]. Strings of the record
// share s's memory; byte slices are copied.
func decodeKey(s string) (*keys.Key, error) {
	d := decoder{s: s}
	k := &keys.Key{}
	k.ID, k.OwnerID, k.Name, k.Prefix, k.Hint = d.string(), d.string(), d.string(), d.string(), d.string()
	k.Hash = d.bytes()
	k.Permissions = d.permissions()
	k.Version = d.varint()
	k.CreatedAt, k.UpdatedAt, k.ExpiresAt = d.time(), d.time(), d.time()
	k.CreatedBy = d.actor()
	k.Ancestors = d.strings()
	k.ParentGeneration, k.Generation = d.varint(), d.varint()
	k.PreviousHash, k.PreviousExpiresAt = d.bytes(), d.time()
	k.LastUsedAt, k.LastUsedIP = d.time(), d.string()
	k.RevokedAt, k.RevokedBy, k.RevokedReason = d.time(), d.actor(), d.string()
	k.Disabled, k.DisabledBy, k.DisabledAt = d.bool(), d.actor(), d.time()
	if d.bool() {
		r := d.varint()
		k.Remaining = &r
	}
	k.RefillAmount = d.varint()
	k.RefillInterval = time.Duration(d.varint())
	k.LastRefillAt = d.time()
	k.SecretID = d.string()
	k.ChangedBy, k.Kind = d.actor(), d.string()
	k.Metadata = d.bytes()
	k.AllowedIPs = d.prefixes()
	k.Resources = policy.Resources(d.permissions())
	k.Description = d.string()
	if d.bad || len(d.s) != 0 {
		return nil, errCorrupt
	}
	return k, nil
}

// decoder reads fields off the front of s. After the first error (bad) it
// returns zero values, so that a caller checks once at the end.
type decoder struct {
	s   string
	bad bool
}

func (d *decoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	var v uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break // overflows 64 bits
			}
			d.s = d.s[i+1:]
			return v
		}
	}
	d.bad = true
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1) // zig-zag, as binary.AppendVarint
}

// length reads a length and checks that at least that many bytes follow
// (each element takes a byte at least), so that no allocation is sized by
// a corrupt number.
func (d *decoder) length() int {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.bad = true
		return 0
	}
	return int(n)
}

// optional reads a length plus one: -1 for nil.
func (d *decoder) optional() int {
	n := d.uvarint()
	if n > uint64(len(d.s))+1 {
		d.bad = true
		return -1
	}
	return int(n) - 1
}

func (d *decoder) take(n int) string {
	if d.bad {
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}

func (d *decoder) string() string { return d.take(d.length()) }

func (d *decoder) bytes() []byte {
	n := d.optional()
	if n < 0 || d.bad {
		return nil
	}
	return []byte(d.take(n))
}

func (d *decoder) strings() []string {
	n := d.optional()
	if n < 0 || d.bad {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.string()
	}
	return ss
}

func (d *decoder) permissions() policy.Permissions {
	n := d.optional()
	if n < 0 || d.bad {
		return nil
	}
	p := make(policy.Permissions, n)
	for range n {
		r := d.string()
		p[r] = d.strings()
	}
	return p
}

func (d *decoder) time() time.Time {
	ns := d.uvarint()
	if ns == 0 {
		return time.Time{}
	}
	if ns > 1e9 {
		d.bad = true
	}
	return time.Unix(d.varint(), int64(ns-1)).UTC()
}

func (d *decoder) actor() audit.Actor {
	return audit.Actor{Kind: audit.Kind(d.string()), ID: d.string()}
}

func (d *decoder) bool() bool {
	switch d.take(min(1, len(d.s))) {
	case "\x00":
		return false
	case "\x01":
		return true
	}
	d.bad = true
	return false
}
