// Package policy decides which permissions an API key may carry.
//
// Permissions are a set of actions per resource, written "resource:action"
// in guards ("files:read"). A [Policy] computes a user's cap — the
// intersection of every bound that applies (a static maximum, the user's
// roles, a per-user function, and the calling key's own permissions) — and
// [Policy.Grant] turns a client's request into the permissions to store, or
// refuses it with a typed error naming exactly what was beyond the cap.
//
// The package is pure: it imports nothing from net/http, storage or the
// rest of keycap, and every function is safe for concurrent use.
package policy
