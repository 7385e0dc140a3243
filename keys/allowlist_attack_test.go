package keys_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/policy"
)

// TestAttackAllowListCoveringEverything: the policy reserves *:delete for
// keys limited to IP ranges, and "0.0.0.0/0" is refused as "allows every
// address". The attack: the owner meets the requirement with ranges whose
// union is every address all the same (two /1 halves of IPv4, of IPv6, a
// mix), and the key deletes from anywhere. Safe when such a list is
// refused like "0.0.0.0/0", with nothing written; a list leaving any
// address out of both families is accepted.
func TestAttackAllowListCoveringEverything(t *testing.T) {
	f := newFixture(t, func(c *keys.Config) { c.Policy = allowListPolicy })
	ctx := context.Background()
	plain, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "p", Permissions: policy.MustParse("files:read")})
	require.NoError(t, err)
	for name, list := range map[string][]string{
		"IPv4 halves":           {"0.0.0.0/1", "128.0.0.0/1"},
		"IPv6 halves":           {"::/1", "8000::/1"},
		"IPv4 quarters, mapped": {"::ffff:0.0.0.0/98", "64.0.0.0/2", "128.0.0.0/2", "::ffff:192.0.0.0/98"},
		"overlapping":           {"0.0.0.0/1", "0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "255.255.255.255/32"},
		"both families":         {"0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"},
	} {
		t.Run(name, func(t *testing.T) {
			writes := f.store.writes()
			_, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "x", Permissions: policy.MustParse("files:delete"), AllowedIPs: prefixes(list...)})
			fe, ok := errorAs[*keys.FieldError](err)
			require.True(t, ok, "a list allowing every address must be refused like 0.0.0.0/0, got %v", err)
			assert.Equal(t, "allowed_ips", fe.Field)
			assert.Contains(t, fe.Reason, "every")
			ips := prefixes(list...)
			_, err = f.m.Update(ctx, keys.UpdateRequest{Ref: ref("alice", plain.ID), Permissions: policy.MustParse("files:delete"), AllowedIPs: &ips})
			_, ok = errorAs[*keys.FieldError](err)
			assert.True(t, ok, "on PATCH too, got %v", err)
			assert.Equal(t, writes, f.store.writes(), "nothing written")
		})
	}
	for name, list := range map[string][]string{
		"IPv4 all but one /32": {"0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8", "255.0.0.0/9"},
		"one half":             {"0.0.0.0/1"},
		"IPv6 half, IPv4 half": {"::/1", "128.0.0.0/1"},
	} {
		t.Run("accepted: "+name, func(t *testing.T) {
			_, _, err := f.m.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "x", Permissions: policy.MustParse("files:delete"), AllowedIPs: prefixes(list...)})
			require.NoError(t, err)
		})
	}
}
