// Package middleware puts keycap on an HTTP server: [Keycap.Authenticate]
// verifies API keys, [Require] guards routes, and [Keycap.KeysHandler]
// serves /api-keys, where logged-in users create and manage their keys.
//
// Everything is an http.Handler or a func(http.Handler) http.Handler, so
// net/http's ServeMux, chi and gorilla need no adapters:
//
//	kc, err := middleware.New(middleware.Options{Manager: mgr, Sessions: session.SCS(sm, "userID")})
//	mux.Handle("/api-keys", kc.KeysHandler())
//	mux.Handle("/api-keys/", kc.KeysHandler())
//	mux.Handle("GET /api/files", middleware.Require("files:read")(files))
//	http.ListenAndServe(addr, sm.LoadAndSave(kc.Authenticate(mux)))
//
// Every refusal is written by [keycap.WriteError] as a JSON body with a
// stable code.
package middleware
