package rediscache

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// The record encoding: every field of [keys.Key] in declaration order,
// integers as varints, strings and byte slices length-prefixed. Slices
// and maps store their length plus one, 0 meaning nil, so that a record
// comes back exactly as the wrapped Store returned it; times come back in
// UTC. It is only ever decoded after its MAC verified (see seal.go), but
// decoding still checks every length. A new field of keys.Key must be
// added here: TestCodecRoundTripsEveryField fails until it is.

// appendKey appends the encoding of k to b.
func appendKey(b []byte, k *keys.Key) []byte {
	for _, s := range []string{k.ID, k.OwnerID, k.Name, k.Prefix, k.Hint} {
		b = appendString(b, s)
	}
	b = appendBytes(b, k.Hash)
	b = appendPermissions(b, k.Permissions)
	b = binary.AppendVarint(b, k.Version)
	b = appendTime(b, k.CreatedAt)
	b = appendTime(b, k.UpdatedAt)
	b = appendTime(b, k.ExpiresAt)
	b = appendActor(b, k.CreatedBy)
	b = appendStrings(b, k.Ancestors)
	b = binary.AppendVarint(b, k.ParentGeneration)
	b = binary.AppendVarint(b, k.Generation)
	b = appendBytes(b, k.PreviousHash)
	b = appendTime(b, k.PreviousExpiresAt)
	b = appendTime(b, k.LastUsedAt)
	b = appendString(b, k.LastUsedIP)
	b = appendTime(b, k.RevokedAt)
	b = appendActor(b, k.RevokedBy)
	b = appendString(b, k.RevokedReason)
	b = appendBool(b, k.Disabled)
	b = appendActor(b, k.DisabledBy)
	b = appendTime(b, k.DisabledAt)
	b = appendBool(b, k.Remaining != nil)
	if k.Remaining != nil {
		b = binary.AppendVarint(b, *k.Remaining)
	}
	b = binary.AppendVarint(b, k.RefillAmount)
	b = binary.AppendVarint(b, int64(k.RefillInterval))
	b = appendTime(b, k.LastRefillAt)
	b = appendString(b, k.SecretID)
	b = appendActor(b, k.ChangedBy)
	b = appendString(b, k.Kind)
	b = appendBytes(b, k.Metadata)
	b = appendPrefixes(b, k.AllowedIPs)
	b = appendPermissions(b, policy.Permissions(k.Resources)) // the same shape: resource to sorted strings
	return appendString(b, k.Description)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBytes(b []byte, p []byte) []byte {
	if p == nil {
		return append(b, 0)
	}
	return append(binary.AppendUvarint(b, uint64(len(p))+1), p...)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ss))+1)
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// appendPermissions writes resources in sorted order, so that one record
// always encodes to the same bytes.
func appendPermissions(b []byte, p policy.Permissions) []byte {
	if p == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p))+1)
	resources := make([]string, 0, len(p))
	for r := range p {
		resources = append(resources, r)
	}
	slices.Sort(resources)
	for _, r := range resources {
		b = appendStrings(appendString(b, r), p[r])
	}
	return b
}

// appendTime writes 0 for the zero time, else the nanoseconds plus one
// and the Unix seconds.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(binary.AppendUvarint(b, uint64(t.Nanosecond())+1), t.Unix())
}

func appendActor(b []byte, a audit.Actor) []byte {
	return appendString(appendString(b, string(a.Kind)), a.ID)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

var errCorrupt = errors.New("rediscache: corrupt record encoding")
