package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/keycaphq/keycap/ratelimit"
)

func ExampleMemory() {
	m := ratelimit.NewMemory()
	perKey := ratelimit.Bucket{Name: "key:k1", Limit: ratelimit.Limit{Requests: 2, Window: time.Minute}}
	for range 3 {
		res, _ := m.Allow(context.Background(), ratelimit.FixedWindow, t0, perKey)
		fmt.Println(res.Allowed, res.Remaining)
	}
	// Output:
	// true 1
	// true 0
	// false 0
}

func ExampleLimit_Validate() {
	fmt.Println(ratelimit.Limit{}.Validate())
	fmt.Println(ratelimit.Limit{Window: time.Minute}.Validate())
	// Output:
	// <nil>
	// ratelimit: a limit needs Requests of at least 1; to set no limit, leave both Requests and Window 0
}
