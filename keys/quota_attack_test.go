package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keycaphq/keycap/keys"
)

// TestQuotaToggleBuysNoRefill (#16 attack, held): under the policy's
// quota of 100 refilled to 100 every hour, the owner and the key itself
// try, every minute for five hours, every change a PATCH allows to get
// more: refills stopped and restarted, made longer and back, the quota
// removed, raised, set again, while the key spends all it can. At most
// the policy's 100 plus one refill of 100 per hour started are admitted,
// and each change that restarted the refill clock only pushed the next
// refill later.
func TestQuotaToggleBuysNoRefill(t *testing.T) {
	ctx := context.Background()
	const hours = 5
	f := newFixture(t, func(c *keys.Config) { c.Quota = capQuota })
	k, token, err := f.m.Create(ctx, keys.CreateRequest{Owner: "bob", Name: "metered"})
	require.NoError(t, err)
	self := f.verify(t, token)
	tries := []func(r keys.Ref) keys.UpdateRequest{
		func(r keys.Ref) keys.UpdateRequest { return keys.UpdateRequest{Ref: r, Refill: &keys.Quota{}} },
		func(r keys.Ref) keys.UpdateRequest {
			return keys.UpdateRequest{Ref: r, Refill: &keys.Quota{RefillAmount: 100, RefillInterval: time.Hour}}
		},
		func(r keys.Ref) keys.UpdateRequest {
			return keys.UpdateRequest{Ref: r, Refill: &keys.Quota{RefillAmount: 100, RefillInterval: time.Hour + time.Second}}
		},
		func(r keys.Ref) keys.UpdateRequest { return keys.UpdateRequest{Ref: r, RemoveQuota: true} },
		func(r keys.Ref) keys.UpdateRequest { return keys.UpdateRequest{Ref: r, Remaining: ptr[int64](100)} },
		func(r keys.Ref) keys.UpdateRequest {
			return keys.UpdateRequest{Ref: r, Remaining: ptr[int64](100), Refill: &keys.Quota{RefillAmount: 100, RefillInterval: time.Hour}}
		},
	}
	admitted, changed, refused := 0, 0, 0
	for minute := range hours * 60 {
		for i, try := range tries {
			r := ref("bob", k.ID)
			if (minute+i)%2 == 1 {
				r.Caller = self
			}
			if _, err := f.m.Update(ctx, try(r)); err != nil {
				refused++
			} else {
				changed++
			}
		}
		for {
			_, ok, err := f.m.Consume(ctx, self)
			require.NoError(t, err)
			if !ok {
				break
			}
			admitted++
		}
		f.clock.Advance(time.Minute)
	}
	t.Logf("%d admitted in %d hours; %d changes made, %d refused", admitted, hours, changed, refused)
	assert.LessOrEqual(t, admitted, 100+hours*100, "the policy's quota and one refill per hour")
	assert.Positive(t, changed, "some changes were allowed")
	assert.Positive(t, refused, "some were refused")
}
