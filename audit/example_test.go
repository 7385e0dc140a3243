package audit_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/keycaphq/keycap/audit"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/policy"
)

// Example records what happens to keys: every change goes to the
// keys.Config.Auditor, here a Memory (what GET /api-keys/activity lists,
// as middleware.Options.Activity) and a Func of the app's, joined by Tee.
func Example() {
	events := audit.NewMemory(100) // in production: sqlstore.NewAuditor(store)
	changes := 0
	counter := audit.Func(func(_ context.Context, e audit.Event) { changes++ })
	mgr, err := keys.NewManager(keys.Config{
		Store:  memstore.New(),
		Policy: policy.MustNew(policy.Config{AllowClientPermissions: true, Max: policy.MustParse("files:read")}),
		Subjects: policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
			return policy.Subject{ID: id}, nil
		}),
		Secret:  make([]byte, 32), // in an app: 32+ random bytes kept out of the database
		Auditor: audit.Tee(events, counter),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mgr.Close()

	ctx := context.Background()
	k, _, err := mgr.Create(ctx, keys.CreateRequest{Owner: "ada", Name: "ci", Permissions: policy.MustParse("files:read")})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := mgr.Revoke(ctx, keys.RevokeRequest{Ref: keys.Ref{Owner: "ada", ID: k.ID}, Actor: audit.User("ada"), Reason: "leaked in a log"}); err != nil {
		log.Fatal(err)
	}
	list, err := events.Events(ctx, "ada", 10) // newest first
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range list {
		fmt.Println(strings.TrimSpace(fmt.Sprint(e.Type, " ", e.Actor, " ", e.Reason)))
	}
	fmt.Println(changes, "events counted")
	// Output:
	// revoked user:ada leaked in a log
	// created user:ada
	// 2 events counted
}
