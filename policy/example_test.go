package policy_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/policy"
)

func ExampleExcess() {
	requested := policy.Permissions{"invoices": {"read", "delete"}}
	fmt.Println(policy.Excess(requested, policy.Permissions{"invoices": {"read"}}))
	// Output: invoices:delete
}

func ExampleNormalize() {
	p, err := policy.Normalize(policy.Permissions{"files": {"write", "read", "write"}, "notes": {}})
	fmt.Println(p, err)

	_, err = policy.Normalize(policy.Permissions{"files": {"read", "*"}})
	var invalid *policy.InvalidError
	if errors.As(err, &invalid) {
		fmt.Println(invalid.Path)
	}
	// Output:
	// files:read files:write <nil>
	// files[1]
}

func ExampleParse() {
	p, err := policy.Parse("files:write", "files:read", "invoices:read")
	fmt.Println(p, err)
	fmt.Println(p.Strings())
	// Output:
	// files:read files:write invoices:read <nil>
	// [files:read files:write invoices:read]
}

func ExampleSatisfies() {
	granted := policy.MustParse("files:read", "files:write")
	fmt.Println(policy.Satisfies(granted, "files:read"))
	fmt.Println(policy.Satisfies(granted, "files:read", "files:delete"))
	fmt.Println(policy.Missing(granted, "files:read", "files:delete"))
	// Output:
	// true
	// false
	// [files:delete]
}

func ExampleIntersect() {
	a := policy.MustParse("files:read", "files:write", "invoices:read")
	b := policy.MustParse("files:read", "invoices:write")
	fmt.Println(policy.Intersect(a, b))
	fmt.Println(policy.Subset(policy.Intersect(a, b), a))
	// Output:
	// files:read
	// true
}

func ExamplePolicy_Grant() {
	p := policy.MustNew(policy.Config{
		AllowClientPermissions: true,
		Roles: map[string]policy.Permissions{
			"editor": policy.MustParse("files:read", "files:write"),
		},
		Default: policy.MustParse("files:read"),
	})
	editor := policy.Subject{ID: "u1", Roles: []string{"editor"}}
	ctx := context.Background()

	granted, err := p.Grant(ctx, editor, policy.Permissions{"files": {"write", "read"}})
	fmt.Println(granted, err)

	granted, err = p.Grant(ctx, editor, nil) // the client named none: Default
	fmt.Println(granted, err)

	_, err = p.Grant(ctx, editor, policy.MustParse("files:read", "files:delete"))
	var exceeds *policy.ExceedsError
	if errors.As(err, &exceeds) {
		fmt.Println("exceeded:", exceeds.Exceeded)
		fmt.Println("maximum:", exceeds.Maximum)
	}
	// Output:
	// files:read files:write <nil>
	// files:read <nil>
	// exceeded: files:delete
	// maximum: files:read files:write
}

func ExamplePolicy_Cap() {
	p := policy.MustNew(policy.Config{
		Max: policy.MustParse("files:read", "files:write", "invoices:read"),
		Roles: map[string]policy.Permissions{
			"admin": policy.MustParse("files:read", "files:write", "files:delete"),
		},
	})
	admin := policy.Subject{ID: "u1", Roles: []string{"admin"}}
	callingKey := policy.MustParse("files:read")

	allowed, _ := p.Cap(context.Background(), admin)
	fmt.Println(allowed)
	allowed, _ = p.Cap(context.Background(), admin, callingKey)
	fmt.Println(allowed)
	// Output:
	// files:read files:write
	// files:read
}

func ExamplePolicy_Lifetime() {
	p := policy.MustNew(policy.Config{
		MaxLifetime:    90 * 24 * time.Hour,
		MaxLifetimeFor: map[string]time.Duration{"*:delete": 7 * 24 * time.Hour},
	})
	fmt.Println(p.Lifetime(policy.MustParse("files:read"), 0))
	_, err := p.Lifetime(policy.MustParse("files:delete"), 30*24*time.Hour)
	fmt.Println(err)
	// Output:
	// 2160h0m0s <nil>
	// requested lifetime 720h0m0s exceeds the maximum 168h0m0s
}
