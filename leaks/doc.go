// Package leaks revokes API keys found in public. [GitHub] serves GitHub's
// secret scanning partner program: GitHub scans public repositories, gists,
// issues and npm packages for the pattern an app registered
// (keys.Manager.Pattern for the app's own prefix), and posts what it finds
// to the app; each key of the app's is revoked at once, as
// audit.System("secret-scanning"), audited as leaked with where it was
// found, and its owner is told by keys/notify. Reports are signed by GitHub
// with ECDSA P-256; [PublicKeys] holds the keys that verify them.
//
// The decision (is this presented key one of ours? revoke it) is
// keys.Manager.Revoke with keys.RevokeRequest.Presented; this package is
// the protocol around it.
package leaks
