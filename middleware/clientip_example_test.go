package middleware_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/keycaphq/keycap/middleware"
)

// An app behind a load balancer at 10.0.0.5 and a CDN whose addresses
// are 192.0.2.0/24 reads the client's address from X-Forwarded-For, and
// only through them: a header sent by anybody else is ignored.
func ExampleForwardedClientIP() {
	clientIP, err := middleware.ForwardedClientIP("X-Forwarded-For", "10.0.0.5", "192.0.2.0/24")
	if err != nil {
		panic(err)
	}
	// Pass it as middleware.Options{ClientIP: clientIP, ...}.

	viaProxies := httptest.NewRequest("GET", "/api/files", nil)
	viaProxies.RemoteAddr = "10.0.0.5:41234"
	viaProxies.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.7, 192.0.2.44") // 6.6.6.6: written by the client
	fmt.Println(clientIP(viaProxies))

	direct := httptest.NewRequest("GET", "/api/files", nil)
	direct.RemoteAddr = "198.51.100.9:5555"
	direct.Header.Set("X-Forwarded-For", "203.0.113.7") // spoofed
	fmt.Println(clientIP(direct))
	// Output:
	// 203.0.113.7
	// 198.51.100.9
}
