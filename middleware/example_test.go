package middleware_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/keycaphq/keycap/keys"
	"github.com/keycaphq/keycap/keys/memstore"
	"github.com/keycaphq/keycap/middleware"
	"github.com/keycaphq/keycap/policy"
)

// ExampleRequire guards two routes. A key holds only what it was granted,
// even when its owner may do more: its DELETE is refused with the missing
// permission named.
func ExampleRequire() {
	pol := policy.MustNew(policy.Config{AllowClientPermissions: true,
		Roles: map[string]policy.Permissions{"analyst": policy.MustParse("reports:read", "reports:delete")}})
	users := policy.SubjectsFunc(func(_ context.Context, id string) (policy.Subject, error) {
		return policy.Subject{ID: id, Roles: []string{"analyst"}}, nil
	})
	mgr, err := keys.NewManager(keys.Config{Store: memstore.New(), Policy: pol, Subjects: users, Secret: []byte(rand.Text() + rand.Text())})
	if err != nil {
		log.Fatal(err)
	}
	defer mgr.Close()
	kc, err := middleware.New(middleware.Options{Manager: mgr}) // no Sessions: keys only
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /reports", middleware.Require("reports:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "reports for", middleware.MustPrincipal(r.Context()).OwnerID())
	})))
	mux.Handle("DELETE /reports/{id}", middleware.Require("reports:delete")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	app := kc.Authenticate(mux)

	// Users create keys with POST /api-keys; here the Manager makes one.
	_, key, err := mgr.Create(context.Background(), keys.CreateRequest{Owner: "ada", Name: "dashboard", Permissions: policy.MustParse("reports:read")})
	if err != nil {
		log.Fatal(err)
	}
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/reports", nil),
		httptest.NewRequest(http.MethodDelete, "/reports/7", nil),
	} {
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		fmt.Println(req.Method, req.URL.Path, rec.Code)
		if rec.Code == http.StatusOK {
			fmt.Print(rec.Body)
			continue
		}
		var refusal struct {
			Code    string
			Details struct{ Missing []string }
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &refusal)
		fmt.Println(refusal.Code, refusal.Details.Missing)
	}
	// Output:
	// GET /reports 200
	// reports for ada
	// DELETE /reports/7 403
	// INSUFFICIENT_PERMISSIONS [reports:delete]
}
