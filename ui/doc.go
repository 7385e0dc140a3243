// Package ui is keycap's key-management page, for an app to mount: its
// logged-in users create, rotate, restrict and revoke their own API keys
// over the app's keys API (middleware.Keycap, at /api-keys by default),
// of each kind the app defines (keys.Config.Kinds), with metadata where the
// policy lets clients set it, and those of the organizations they manage
// ([Options].Owners; every call then carries ?owner=).
//
// The page is server-rendered HTML and one embedded script and stylesheet
// (package embed: no CDN, no build step). It runs no inline script, so a
// strict Content-Security-Policy (script-src 'self'; style-src 'self')
// works unchanged. The words of the page are [Labels] (English defaults);
// its colours and shapes are CSS custom properties (--keycap-accent,
// --keycap-radius, …: see assets/keycap.css). Every id and class the page
// emits starts with "kc-" (kc-card, kc-create-form), so the app's own CSS
// and ids cannot collide with them.
//
// Two ways to use it:
//
//	page.Mount(mux, "/keys") // a whole page at /keys/, its assets at /keys/assets/
//
// or, inside the app's own page, [Page.Render] returns the pieces for the
// app's template: the tags for <head>, the attributes of the element that
// holds the page, and its body (fragment mode); Options.Layout wraps the
// whole page in the app's layout instead (layout mode).
package ui
