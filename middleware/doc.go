// Package middleware puts keycap on an HTTP server: [Keycap.Authenticate]
// verifies API keys, [Require] guards routes, and [Keycap.KeysHandler]
// serves /api-keys, where logged-in users create and manage their keys.
//
// Everything is an http.Handler or a func(http.Handler) http.Handler, so
// net/http's ServeMux, chi and gorilla need no adapters:
//
//	kc, err := middleware.New(middleware.Options{Manager: mgr, Sessions: session.SCS(sm, "userID")})
//	kc.Mount(mux) // /api-keys and everything below it
//	mux.Handle("GET /api/files", middleware.Require("files:read")(files))
//	http.ListenAndServe(addr, sm.LoadAndSave(kc.Authenticate(mux)))
//
// In this order every handler may read the session, whatever the request
// carries. For API routes that never touch it, kc.Authenticate(
// kc.SkipForKeys(sessions)(mux)) skips loading it for requests that carry
// a key: they get an empty session that is never saved ([Keycap.SkipForKeys]).
//
// Every refusal is written by [keycap.WriteError] as a JSON body with a
// stable code (an RFC 9457 problem for a client that prefers one), unless
// Options.OnError writes it. For other services and gateways, the keys
// handler also serves token introspection (Options.Introspection), token
// revocation by the key's holder, forward auth (Options.ForwardAuth) and
// its OpenAPI 3.1 document ([Keycap.OpenAPI]).
package middleware
