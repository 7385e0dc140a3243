// Package keycaptest tests apps that use keycap, whatever their router:
// [Start] serves the app's own http.Handler; its clients log in through
// the app's login form ([Server.LogInWithForm]) or straight through its
// sessions ([Server.LogIn] with [WithSessions]), create keys through the
// app's /api-keys ([Client.CreateKey]), call routes with a key
// ([Client.WithKey], [Client.KeyOnly]), and check keycap's JSON errors
// ([RequireCode], whose statuses come from keycap.Code.Status).
//
//	handler := sm.LoadAndSave(kc.Authenticate(router)) // the app's own, any router
//	srv := keycaptest.Start(t, handler, keycaptest.WithSessions(session.SCS(sm, "userID")))
//	key := srv.LogIn(t, "alice").CreateKey(t, "/api-keys", "ci", policy.MustParse("files:read"))
//	resp := srv.Anonymous(t).WithKey(key.Key).DoJSON(t, http.MethodDelete, "/api/files/1", nil)
//	keycaptest.RequireCode(t, resp, keycap.CodeInsufficientPermissions)
//
// [NewApp] starts a ready-made keycap app (the one keycap's own tests
// use) with a mutable user directory ([Users]), to test a keys.Store, an
// Auditor or middleware.Options over HTTP.
//
// The package lives in the folder httptest_helpers but is named keycaptest:
// the design card's choice, kept on purpose. Import it as
//
//	keycaptest "github.com/keycaphq/keycap/httptest_helpers"
package keycaptest
