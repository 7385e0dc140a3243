package notify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/keys/notify"
	"github.com/keycaphq/keycap/policy"
)

// A Scheduler tells owners about their keys: here a key made to live 10
// days, watched every hour for 11 days (a test's clock; an app runs
// go sched.Run(ctx) with the real one).
func Example() {
	now := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	store := memstore.New() // or a *sqlstore.Store: its notices table keeps the claims
	mgr, _ := keys.NewManager(keys.Config{
		Store:    store,
		Policy:   policy.MustNew(policy.Config{Default: policy.MustParse("files:read"), DefaultLifetime: 10 * 24 * time.Hour}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) { return policy.Subject{ID: id}, nil }),
		Secret:   []byte("an example secret of 32 bytes..."),
		Now:      func() time.Time { return now },
	})
	ctx := context.Background()
	_, _, _ = mgr.Create(ctx, keys.CreateRequest{Owner: "alice", Name: "ci"})

	sched, _ := notify.New(notify.Config{
		Manager: mgr,
		Store:   store,
		Notifier: notify.Func(func(_ context.Context, n notify.Notice) error {
			switch n.Type { // an email, a chat message...
			case audit.Expiring:
				fmt.Printf("to %s: your key %q expires in %d days, on %s\n", n.Key.OwnerID, n.Key.Name, n.Lead/(24*time.Hour), n.At.Format("Jan 2"))
			default:
				fmt.Printf("to %s: your key %q %s on %s\n", n.Key.OwnerID, n.Key.Name, n.Type, n.At.Format("Jan 2"))
			}
			return nil
		}),
	})
	for end := now.Add(11 * 24 * time.Hour); now.Before(end); now = now.Add(time.Hour) {
		_, _ = sched.RunOnce(ctx, now)
	}
	// Output:
	// to alice: your key "ci" expires in 7 days, on Mar 11
	// to alice: your key "ci" expires in 3 days, on Mar 11
	// to alice: your key "ci" expires in 1 days, on Mar 11
	// to alice: your key "ci" expired on Mar 11
}
