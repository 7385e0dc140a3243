package keycap_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keycaphq/keycap/internal/doccheck"
)

// maxKeysAPI bounds the names package keys exports, counted as
// [doccheck.API] does. API v1: keys exports at most 60 names; 61 since
// interop (#15) added the one operation protocol handlers need that the
// others do not give, Manager.Inspect (the state of a presented key, for
// introspection). Revoking a presented key is RevokeRequest.Presented, a
// field, not a method. Put new features' names in their own packages.
// (For scale, counted the same way: scs v2.9.0 has 61, chi v5 80.)
// Issue #14 (IP allow-lists, server-secret rotation) adds 3 that have no
// other home: ErrIPNotAllowed (the refusal Verify returns),
// Store.CountBySecret (what only a Store can count) and
// Manager.SecretCounts (what an operator asks before retiring a secret).
// Issue #17 (organization keys, kinds) adds 3: Manager.Manages (whether a
// user manages an organization's keys, a domain rule the HTTP layer must
// ask before it lists or reads them), the type Kind (a configured kind of
// key, for Config.Kinds) and Manager.Kinds (the kinds' prefixes and
// bounds, which Authenticate and /grantable need).
// Issue #12 (performance) adds 1: Manager.VerifyShared, Verify without the
// copy of its result, so that middleware keeps a key in an 8-byte pointer
// (the per-request state shrinks from 240 to 48 bytes); no other package
// can reach the cache entry the shared Verified lives in.
// Issue #13 (keys limited to records) adds 1: Manager.Subject, the owner
// as the Subjects say now, which a record guard hands to the policy's
// Records for a logged-in user (a key's Verified already holds it).
// Issue #16 (pruning) adds 2 with no other home: Store.PruneKeys (the one
// conditional delete only a Store can do, on every store) and Manager.Prune
// (the batches, the audit and the refusal of a time in the future, used by
// cmd/keycap). Templates live in policy, the page in ui.
const maxKeysAPI = 71

// libraryOnly skips what is not keycap's API: internal packages and the
// example app.
func libraryOnly(dir string) bool {
	return dir == "internal" || dir == "example" ||
		strings.HasPrefix(dir, "internal/") || strings.HasPrefix(dir, "example/")
}

// libraryPackages parses keycap's packages: not internal, not the example,
// not main, without tests.
func libraryPackages(t *testing.T) []*doccheck.Package {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := doccheck.Packages(root, libraryOnly)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) == 0 {
		t.Fatal("no packages found")
	}
	return pkgs
}

// TestExportedNamesDocumented fails for each exported type, func, method,
// const, var, struct field and interface method of keycap's packages that
// has no doc comment.
func TestExportedNamesDocumented(t *testing.T) {
	var missing []string
	for _, p := range libraryPackages(t) {
		u := doccheck.Undocumented(p)
		t.Logf("%-22s %3d undocumented", p.Dir, len(u))
		missing = append(missing, u...)
	}
	if len(missing) > 0 {
		t.Errorf("%d exported names have no doc comment:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

// TestAPISize logs how many names each package exports, counted as
// [doccheck.API] does, and fails if keys exports more than maxKeysAPI.
func TestAPISize(t *testing.T) {
	found := false
	for _, p := range libraryPackages(t) {
		names := doccheck.API(p)
		kinds := map[string]int{}
		for _, n := range names {
			kinds[n.Kind]++
		}
		t.Logf("%-22s %3d names (%s)", p.Dir, len(names), summary(kinds))
		if p.Dir != "keys" {
			continue
		}
		found = true
		if len(names) > maxKeysAPI {
			list := make([]string, len(names))
			for i, n := range names {
				list[i] = n.Name
			}
			t.Errorf("keys exports %d names, more than maxKeysAPI (%d): %s\nkeys exports: %s",
				len(names), maxKeysAPI, summary(kinds), strings.Join(list, " "))
		}
	}
	if !found {
		t.Error("package keys not found: has it moved? Update TestAPISize.")
	}
}

// summary formats counts by kind: "12 types, 3 funcs, ...".
func summary(kinds map[string]int) string {
	var parts []string
	for _, k := range []string{"type", "func", "const", "var", "method", "interface method"} {
		switch n := kinds[k]; n {
		case 0:
		case 1:
			parts = append(parts, "1 "+k)
		default:
			parts = append(parts, fmt.Sprintf("%d %ss", n, k))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
