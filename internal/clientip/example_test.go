package clientip_test

import (
	"fmt"
	"net/http/httptest"
	"net/netip"

	"github.com/vigilhq/vigil/internal/clientip"
)

// A service behind a load balancer in 10.0.0.0/8. The client claims to be
// 127.0.0.1; the load balancer appends the address it really saw.
func Example() {
	r, err := clientip.New(clientip.Config{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		fmt.Println(err)
		return
	}

	viaProxy := httptest.NewRequest("GET", "/", nil)
	viaProxy.RemoteAddr = "10.0.0.1:41000"
	viaProxy.Header.Set("X-Forwarded-For", "127.0.0.1, 198.51.100.7")
	fmt.Println(r.ClientIP(viaProxy))

	direct := httptest.NewRequest("GET", "/", nil)
	direct.RemoteAddr = "203.0.113.9:52000"
	direct.Header.Set("X-Forwarded-For", "198.51.100.7")
	fmt.Println(r.ClientIP(direct))
	// Output:
	// 198.51.100.7
	// 203.0.113.9
}

// Without trusted proxies, forwarding headers are never read.
func ExampleResolver() {
	var r clientip.Resolver // the zero value behaves like New(Config{})
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "[::ffff:203.0.113.9]:52000"
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	fmt.Println(r.ClientIP(req))
	// Output: 203.0.113.9
}

// Behind Cloudflare, which puts the client in a single-address header.
func ExampleConfig_header() {
	r, err := clientip.New(clientip.Config{
		TrustedProxies: []string{"173.245.48.0/20", "2400:cb00::/32"}, // part of Cloudflare's published ranges
		Header:         "CF-Connecting-IP",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "[2400:cb00:2049:1::a29f:1804]:443"
	req.Header.Set("CF-Connecting-IP", "2001:db8:1:2::7")
	fmt.Println(r.ClientIP(req))
	// Output: 2001:db8:1:2::7
}

func ExamplePrefix() {
	fmt.Println(clientip.Prefix(netip.MustParseAddr("198.51.100.7")))
	fmt.Println(clientip.Prefix(netip.MustParseAddr("2001:db8:1:2:a:b:c:d")))
	// Output:
	// 198.51.100.7/32
	// 2001:db8:1:2::/64
}
