package rediscache

import (
	"net/netip"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// fillAll sets every field of the struct v points to (recursively) to a
// value that is not zero, distinct per field, so that a field the codec
// forgets shows up as a difference.
func fillAll(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	i := *n
	switch v.Interface().(type) {
	case time.Time:
		v.Set(reflect.ValueOf(time.Unix(int64(1_900_000_000+i), int64(i*1001)).UTC()))
		return
	case policy.Permissions:
		v.Set(reflect.ValueOf(policy.Permissions{"r" + strconv.Itoa(i): {"read", "write"}, "s": {}}))
		return
	case policy.Resources:
		v.Set(reflect.ValueOf(policy.Resources{"r" + strconv.Itoa(i): {"1", "acme:7"}, "s": {}}))
		return
	case netip.Prefix: // IPv4, IPv6 and IPv4-mapped IPv6, by turns
		v.Set(reflect.ValueOf([]netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 32),
			netip.MustParsePrefix("2001:db8::" + strconv.Itoa(i) + "/128"), netip.MustParsePrefix("::ffff:198.51.100.0/120")}[i%3]))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for f := range v.NumField() {
			fillAll(t, v.Field(f), n)
		}
	case reflect.String:
		v.SetString("s" + strconv.Itoa(i) + "\x00é")
	case reflect.Int64:
		v.SetInt(int64(i) * -1_000_003)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(t, v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fillAll(t, v.Index(0), n)
		fillAll(t, v.Index(1), n)
	case reflect.Uint8:
		v.SetUint(uint64(i))
	default:
		t.Fatalf("fillAll: a field of kind %s: teach the codec and this test", v.Kind())
	}
}

// Every field of keys.Key survives the codec: a field added to keys.Key
// fails here until the codec learns it.
func TestCodecRoundTripsEveryField(t *testing.T) {
	var k keys.Key
	n := 0
	fillAll(t, reflect.ValueOf(&k).Elem(), &n)
	for f := range reflect.TypeFor[keys.Key]().NumField() {
		require.False(t, reflect.ValueOf(k).Field(f).IsZero(), "field %s left zero", reflect.TypeFor[keys.Key]().Field(f).Name)
	}
	got, err := decodeKey(string(appendKey(nil, &k)))
	require.NoError(t, err)
	assert.Equal(t, &k, got)
}

// Nil and empty, zero times and quotas of 0 come back as they went.
func TestCodecKeepsNilEmptyAndZero(t *testing.T) {
	zero := int64(0)
	tests := []struct {
		name string
		k    keys.Key
	}{
		{"zero record", keys.Key{}},
		{"empty, not nil", keys.Key{Hash: []byte{}, PreviousHash: []byte{}, Ancestors: []string{}, Permissions: policy.Permissions{}, AllowedIPs: []netip.Prefix{}, Resources: policy.Resources{}}},
		{"a resource's ids empty, not nil", keys.Key{Resources: policy.Resources{"projects": {}}}},
		{"an action list empty, not nil", keys.Key{Permissions: policy.Permissions{"files": {}}}},
		{"an action list nil", keys.Key{Permissions: policy.Permissions{"files": nil}}},
		{"a quota of 0", keys.Key{Remaining: &zero}},
		{"times before 1970 and far ahead", keys.Key{CreatedAt: time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeKey(string(appendKey(nil, &tt.k)))
			require.NoError(t, err)
			assert.Equal(t, &tt.k, got)
		})
	}
}

// Times come back in UTC, as the same instant.
func TestCodecTimesInUTC(t *testing.T) {
	at := time.Date(2030, 1, 1, 12, 0, 0, 5, time.FixedZone("X", 3600))
	got, err := decodeKey(string(appendKey(nil, &keys.Key{CreatedAt: at})))
	require.NoError(t, err)
	assert.True(t, got.CreatedAt.Equal(at))
	assert.Equal(t, time.UTC, got.CreatedAt.Location())
}

func TestDecodeRefusesCorruptInput(t *testing.T) {
	full := string(appendKey(nil, sampleKey()))
	for i := range len(full) {
		_, err := decodeKey(full[:i])
		assert.ErrorIs(t, err, errCorrupt, "cut at %d", i)
	}
	_, err := decodeKey(full + "\x00")
	assert.ErrorIs(t, err, errCorrupt, "trailing bytes")
	_, err = decodeKey("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")
	assert.ErrorIs(t, err, errCorrupt, "a varint beyond 64 bits")
}

func FuzzDecode(f *testing.F) {
	f.Add(string(appendKey(nil, sampleKey())))
	f.Add(string(appendKey(nil, &keys.Key{})))
	f.Fuzz(func(t *testing.T, s string) {
		k, err := decodeKey(s)
		if err != nil {
			return
		}
		again, err := decodeKey(string(appendKey(nil, k)))
		require.NoError(t, err)
		assert.Equal(t, k, again)
	})
}

// sampleKey is a realistic record.
func sampleKey() *keys.Key {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	left := int64(1000)
	return &keys.Key{ID: "01jbench0000000000000000000", OwnerID: "user-1234", Name: "deploy bot", Prefix: "kc",
		Hint: "kc_01jbench…x7Qa", Hash: make([]byte, 32), Version: 3,
		Permissions: policy.MustParse("invoices:read", "invoices:write", "files:read", "customers:read"),
		CreatedAt:   now, UpdatedAt: now, ExpiresAt: now.Add(90 * 24 * time.Hour), CreatedBy: audit.User("user-1234"),
		Remaining: &left, RefillAmount: 1000, RefillInterval: time.Hour, SecretID: "2026-11",
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}}
}

// Ranges that are not ranges are corrupt: an address of another length,
// more bits than the address has.
func TestDecodeRefusesCorruptRanges(t *testing.T) {
	k := &keys.Key{AllowedIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}
	good := appendKey(nil, k)
	n := len(good)
	require.Equal(t, []byte{2, 4, 203, 0, 113, 0, 24, 0, 0}, good[n-9:], "one range: count+1, size, address, bits; then no resources, no description")
	for name, tail := range map[string][]byte{
		"an address of 5 bytes":  {2, 5, 203, 0, 113, 0, 24},
		"33 bits of IPv4":        {2, 4, 203, 0, 113, 0, 33},
		"129 bits of IPv6":       append(append([]byte{2, 16}, make([]byte, 16)...), 129),
		"the address cut short":  {2, 4, 203, 0},
		"a range missing":        {3, 4, 203, 0, 113, 0, 24},
		"the count beyond input": {200},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeKey(string(append(append(append([]byte(nil), good[:n-9]...), tail...), 0, 0)))
			assert.ErrorIs(t, err, errCorrupt)
		})
	}
	got, err := decodeKey(string(good))
	require.NoError(t, err)
	assert.Equal(t, k.AllowedIPs, got.AllowedIPs)
}
