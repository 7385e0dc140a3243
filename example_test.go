package keycap_test

import (
	"context"
	"encoding/hex"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// Example_wiring is the whole wiring of an app: sessions, a store, the
// policy that caps what users may grant, the keys API and guarded routes.
// It compiles but does not run (it would listen on a port).
func Example_wiring() {
	sm := scs.New()
	secret, _ := hex.DecodeString(os.Getenv("KEYCAP_SECRET")) // 32+ random bytes, kept out of the database
	pol := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Roles: map[string]policy.Permissions{
			"member": {"invoices": {"read"}},
			"owner":  {"invoices": {"read", "write", "delete"}},
		},
		MaxLifetime: 90 * 24 * time.Hour,
	})
	users := keys.SubjectsFunc(func(ctx context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"member"}}, nil // look the user up in the app's database
	})
	mgr, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Subjects: users, Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	kc, err := middleware.New(middleware.Options{Manager: mgr, Sessions: session.SCS(sm, "userID")})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/api-keys", kc.KeysHandler())
	mux.Handle("/api-keys/", kc.KeysHandler())
	mux.Handle("GET /invoices", kc.Require("invoices:read")(http.HandlerFunc(listInvoices)))
	mux.Handle("DELETE /invoices/{id}", kc.Require("invoices:delete")(http.HandlerFunc(deleteInvoice)))
	// Keys are verified first; requests with one skip loading a session.
	log.Fatal(http.ListenAndServe(":8080", kc.Authenticate(kc.SkipForKeys(sm.LoadAndSave)(mux))))
}

func listInvoices(w http.ResponseWriter, r *http.Request)  {}
func deleteInvoice(w http.ResponseWriter, r *http.Request) {}
