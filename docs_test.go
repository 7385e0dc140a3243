package keycap_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keycaphq/keycap/internal/doccheck"
)

// maxKeysAPI bounds the names package keys exports, counted as
// [doccheck.API] does: API v1 (#11) says at most 60. Issues #12-#17 added
// 11 (Manager.Inspect, Manager.SecretCounts, Store.CountBySecret,
// ErrIPNotAllowed, Manager.Manages, Kind, Manager.Kinds,
// Manager.VerifyShared, Manager.Subject, Store.PruneKeys, Manager.Prune);
// 11 went to bring it back: Verify returns the read-only, possibly shared
// *Verified (VerifyShared gone); Manager.Prefix is Kinds()[""].Prefix;
// Manager.Cap is Subject then Policy().Cap; ErrMalformed is an
// ErrInvalid (its text says which); ErrDisabledByAdmin is an
// ErrAdminChange; ErrPreviousSecret is a *DelegationError with
// PreviousSecret; KeyLimitError is policy's (policy.Config.MaxKeys is its
// bound); Key.IsRevoked is RevokedAt set; Change's Disabled and Revoked
// types are fields (Disabled *bool, Revoke, RevokeReason; By says who).
// Put new features' names in their own packages, or take one out.
// (For scale, counted the same way: scs v2.9.0 has 61, chi v5 80.)
const maxKeysAPI = 60

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
