package keycap_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"
)

// Example is the whole wiring of an app: sessions, a store, the policy
// that caps what users may grant, the keys API and guarded routes; then a
// key at work.
func Example() {
	sm := scs.New()
	sessions := session.SCS(sm, "userID") // log users in with sessions.LogIn(ctx, id)
	secret := make([]byte, 32)            // in an app: 32+ random bytes kept out of the database
	_, _ = rand.Read(secret)
	pol := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Roles: map[string]policy.Permissions{
			"member": {"invoices": {"read"}},
			"owner":  {"invoices": {"read", "write", "delete"}},
		},
		MaxLifetime: 90 * 24 * time.Hour,
	})
	users := policy.SubjectsFunc(func(ctx context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"member"}}, nil // look the user up in the app's database
	})
	mgr, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Subjects: users, Secret: secret})
	if err != nil {
		log.Fatal(err)
	}
	defer mgr.Close() // flushes last-used bookkeeping
	kc, err := middleware.New(middleware.Options{Manager: mgr, Sessions: sessions})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	kc.Mount(mux) // /api-keys: users create and manage their keys
	mux.Handle("GET /invoices", middleware.Require("invoices:read")(http.HandlerFunc(listInvoices)))
	mux.Handle("DELETE /invoices/{id}", middleware.Require("invoices:delete")(http.HandlerFunc(deleteInvoice)))
	srv := httptest.NewServer(sm.LoadAndSave(kc.Authenticate(mux))) // in an app: http.ListenAndServe
	defer srv.Close()

	// A member's read-only key, made here directly; users make theirs with
	// POST /api-keys.
	_, key, err := mgr.Create(context.Background(), keys.CreateRequest{Owner: "ada", Name: "dashboard", Permissions: policy.MustParse("invoices:read")})
	if err != nil {
		log.Fatal(err)
	}
	for _, call := range []struct{ method, path string }{{"GET", "/invoices"}, {"DELETE", "/invoices/7"}} {
		req, _ := http.NewRequest(call.method, srv.URL+call.path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(call.method, call.path, resp.Status)
	}
	// Output:
	// GET /invoices 200 OK
	// DELETE /invoices/7 403 Forbidden
}

func listInvoices(w http.ResponseWriter, r *http.Request)  { _, _ = w.Write([]byte(`{"invoices":[]}`)) }
func deleteInvoice(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
