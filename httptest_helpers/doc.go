// Package keycaptest helps test apps that use keycap, and keycap itself:
// a ready server with sessions and a mutable user directory ([NewServer]),
// clients that are logged in ([Server.LogIn]) or carry a key
// ([Client.WithKey]), key creation in one line ([Client.CreateKey]), a
// session cookie for any scs-based app ([SessionCookie]), and assertions on
// keycap's JSON errors ([RequireCode]).
package keycaptest
