package keycaptest_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"

	"github.com/keycaphq/keycap"
	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
	"github.com/keycaphq/keycap/session"

	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
)

// Example is an app's test: start the app's own handler (here a chi
// router), log in through its login form, create a key through its
// /api-keys, and call its routes with the key.
func Example() {
	t := new(testing.T) // in a test: the test's *testing.T, which closes the server at the end

	app, mgr := newApp()
	defer mgr.Close()
	srv := keycaptest.Start(t, app)
	defer srv.Close()

	ada := srv.LogInWithForm(t, "/login", url.Values{"user": {"ada"}, "password": {"correct horse"}})
	key := ada.CreateKey(t, "/api-keys", "dashboard", policy.MustParse("invoices:read"))
	api := srv.Anonymous(t).WithKey(key.Key)

	resp := api.Get(t, "/invoices")
	fmt.Println(resp.Status, string(resp.Body))
	resp = api.DoJSON(t, http.MethodDelete, "/invoices/7", nil)
	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
	fmt.Println(resp.Status, string(resp.Error(t).Details))

	// Output:
	// 200 OK {"invoices":[]}
	// 403 Forbidden {"missing":["invoices:delete"]}
}

// newApp builds the app under test as its main would: scs sessions, a login
// form, keycap, and a chi router. Close the Manager when done.
func newApp() (http.Handler, *keys.Manager) {
	sm := scs.New()
	sessions := session.SCS(sm, "userID")
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true,
		Roles: map[string]policy.Permissions{"owner": policy.MustParse("invoices:read", "invoices:delete")}})
	owners := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"owner"}}, nil
	})
	mgr, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Subjects: owners, Secret: []byte(rand.Text() + rand.Text())})
	if err != nil {
		log.Fatal(err)
	}
	kc, err := middleware.New(middleware.Options{Manager: mgr, Sessions: sessions})
	if err != nil {
		log.Fatal(err)
	}

	r := chi.NewRouter()
	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("password") != "correct horse" { // check the user's password hash
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
		if err := sessions.LogIn(r.Context(), r.PostFormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	r.Mount("/api-keys", kc.KeysHandler())
	r.With(middleware.Require("invoices:read")).Get("/invoices", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"invoices":[]}`))
	})
	r.With(middleware.Require("invoices:delete")).Delete("/invoices/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return sm.LoadAndSave(kc.Authenticate(r)), mgr
}
