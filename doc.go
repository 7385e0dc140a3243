// Package keycap lets the logged-in users of a Go web app create their own
// API keys with the permissions they choose, while the app's policy caps
// what they may grant — at creation, on update, and again at every
// verification.
//
// The packages:
//
//   - [github.com/keycaphq/keycap/policy]: permissions, caps and grants (pure).
//   - [github.com/keycaphq/keycap/keys]: key format, hashing, the Store
//     interface and the Manager that creates and verifies keys (pure).
//   - [github.com/keycaphq/keycap/session]: who is logged in (scs adapter).
//   - [github.com/keycaphq/keycap/middleware]: Authenticate, Require and the
//     /api-keys handler.
//
// This package holds what they share over HTTP: the [Error] type, its
// stable codes ([Code]) and [WriteError], the only writer of keycap's
// errors: its JSON, or an RFC 9457 problem ([WriteProblem]) for a client
// that prefers one.
package keycap
