package keys

import (
	"reflect"
	"testing"

	"github.com/keycaphq/keycap/policy"
)

// TestSameSubjectKnowsEveryField: a cache hit answers a memoized Verified
// only for an equal subject, so sameSubject must compare every field of
// policy.Subject; a field added there fails this test until it does.
func TestSameSubjectKnowsEveryField(t *testing.T) {
	if n := reflect.TypeFor[policy.Subject]().NumField(); n != subjectFields {
		t.Fatalf("policy.Subject has %d fields, sameSubject compares %d: compare the new one and update subjectFields", n, subjectFields)
	}
	base := policy.Subject{ID: "a", Roles: []string{"r"}, Attributes: map[string]string{"k": "v"}}
	for name, other := range map[string]policy.Subject{
		"ID":           {ID: "b", Roles: []string{"r"}, Attributes: map[string]string{"k": "v"}},
		"Roles":        {ID: "a", Roles: []string{"s"}, Attributes: map[string]string{"k": "v"}},
		"Attributes":   {ID: "a", Roles: []string{"r"}, Attributes: map[string]string{"k": "w"}},
		"Disabled":     {ID: "a", Roles: []string{"r"}, Attributes: map[string]string{"k": "v"}, Disabled: true},
		"Organization": {ID: "a", Roles: []string{"r"}, Attributes: map[string]string{"k": "v"}, Organization: true},
	} {
		if sameSubject(base, other) {
			t.Errorf("a different %s compared equal", name)
		}
	}
	if !sameSubject(base, policy.Subject{ID: "a", Roles: []string{"r"}, Attributes: map[string]string{"k": "v"}}) {
		t.Error("equal subjects compared different")
	}
}
