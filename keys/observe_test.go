package keys_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
)

// observations is an audit.Observer that keeps what it is told.
type observations struct {
	mu   sync.Mutex
	seen []audit.Verification
}

func (o *observations) Verification(_ context.Context, v audit.Verification) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, v)
}

func (o *observations) all() []audit.Verification {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]audit.Verification(nil), o.seen...)
}

// TestObserverSeesEveryVerification: Config.Observer is told of every
// verification, through Verify and Inspect alike, accepted or
// refused for each reason, with its outcome, the key's id (when the key is
// well formed), the owner (when the record was found and the secret
// matched) and how long it took; never the key nor its secret.
func TestObserverSeesEveryVerification(t *testing.T) {
	ctx := context.Background()
	obs := &observations{}
	f := newFixture(t, func(c *keys.Config) { c.Observer = obs })
	other := newFixture(t) // its keys are unknown here

	create := func(owner string, r keys.CreateRequest) (*keys.Key, string) {
		t.Helper()
		r.Owner, r.Name = owner, "observed"
		k, token, err := f.m.Create(ctx, r)
		require.NoError(t, err)
		return k, token
	}
	accepted, acceptedToken := create("alice", keys.CreateRequest{})
	revoked, revokedToken := create("alice", keys.CreateRequest{})
	_, err := f.m.Revoke(ctx, keys.RevokeRequest{Ref: ref("alice", revoked.ID)})
	require.NoError(t, err)
	disabled, disabledToken := create("bob", keys.CreateRequest{})
	_, err = f.disable(ctx, "bob", disabled.ID, true, audit.Actor{})
	require.NoError(t, err)
	rotated, oldToken := create("bob", keys.CreateRequest{})
	_, _, err = f.m.Rotate(ctx, keys.RotateRequest{Ref: ref("bob", rotated.ID)})
	require.NoError(t, err)
	limited, limitedToken := create("alice", keys.CreateRequest{AllowedIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	gone, goneToken := create("carol", keys.CreateRequest{})
	f.users.remove("carol")
	expiring, expiringToken := create("alice", keys.CreateRequest{Lifetime: time.Hour})
	unknown, unknownToken := other.create(t, "alice")
	unavailable, unavailableToken := create("alice", keys.CreateRequest{})

	type call struct {
		name, token, ip string
		before          func()
		outcome         string
		keyID, owner    string
	}
	calls := []call{
		{name: "accepted", token: acceptedToken, outcome: "accepted", keyID: accepted.ID, owner: "alice"},
		{name: "malformed", token: "kc_not-a-key", outcome: "malformed"},
		{name: "unknown", token: unknownToken, outcome: "unknown", keyID: unknown.ID},
		{name: "wrong secret", token: oldToken, outcome: "wrong_secret", keyID: rotated.ID},
		{name: "revoked", token: revokedToken, outcome: "revoked", keyID: revoked.ID, owner: "alice"},
		{name: "disabled", token: disabledToken, outcome: "disabled", keyID: disabled.ID, owner: "bob"},
		{name: "ip not allowed", token: limitedToken, ip: "198.51.100.7", outcome: "ip_not_allowed", keyID: limited.ID, owner: "alice"},
		{name: "owner gone", token: goneToken, outcome: "owner_gone", keyID: gone.ID, owner: "carol"},
		{name: "expired", token: expiringToken, before: func() { f.clock.Advance(2 * time.Hour) }, outcome: "expired", keyID: expiring.ID, owner: "alice"},
		{name: "unavailable", token: unavailableToken, before: func() { f.store.getErr = fmt.Errorf("db down: %w", keys.ErrStoreUnavailable) },
			outcome: "unavailable", keyID: unavailable.ID},
	}
	verifiers := []struct {
		name   string
		verify func(token, ip string) error
	}{
		{"Verify", func(token, ip string) error { _, err := f.m.Verify(ctx, token, ip); return err }},
		{"Inspect", func(token, ip string) error { _, err := f.m.Inspect(ctx, token, ip); return err }},
	}
	for _, c := range calls {
		if c.before != nil {
			c.before()
		}
		for _, v := range verifiers {
			t.Run(c.name+"/"+v.name, func(t *testing.T) {
				before := len(obs.all())
				err := v.verify(c.token, c.ip)
				assert.Equal(t, c.outcome == "accepted", err == nil, "%v", err)
				seen := obs.all()[before:]
				require.Len(t, seen, 1, "one verification, one observation")
				got := seen[0]
				assert.Equal(t, c.outcome, got.Outcome)
				assert.Equal(t, c.keyID, got.KeyID)
				assert.Equal(t, c.owner, got.OwnerID)
				if c.outcome != "malformed" { // refused before any lookup: may take under the clock's grain
					assert.Positive(t, got.Duration)
				}
				secret := c.token[strings.LastIndexByte(c.token, '_')+1:]
				assert.NotContains(t, fmt.Sprintf("%#v", got), c.token, "never the key")
				assert.NotContains(t, fmt.Sprintf("%#v", got), secret, "never its secret")
			})
		}
	}
	assert.Len(t, obs.all(), len(calls)*len(verifiers), "no verification unobserved, none observed twice")
}
