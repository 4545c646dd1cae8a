package ipset_test

import (
	"fmt"
	"net/netip"

	"github.com/vigilhq/vigil/internal/ipset"
)

func Example() {
	deny, err := ipset.Parse([]string{"10.0.0.0/8", "10.1.2.0/24", "2001:db8::/32", "::ffff:192.0.2.7"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"10.1.2.3", "10.9.9.9", "::ffff:10.1.2.3", "192.0.2.7", "2001:db8::1", "198.51.100.1"} {
		p, ok := deny.Lookup(netip.MustParseAddr(s))
		fmt.Println(s, ok, p)
	}
	fmt.Println(deny.Len(), "prefixes")
	// Output:
	// 10.1.2.3 true 10.1.2.0/24
	// 10.9.9.9 true 10.0.0.0/8
	// ::ffff:10.1.2.3 true 10.1.2.0/24
	// 192.0.2.7 true 192.0.2.7/32
	// 2001:db8::1 true 2001:db8::/32
	// 198.51.100.1 false invalid Prefix
	// 4 prefixes
}

func ExampleParse_error() {
	_, err := ipset.Parse([]string{"10.0.0.0/8", "10.0.0.0/33"})
	fmt.Println(err)
	// Output:
	// ipset: entry 1 "10.0.0.0/33": netip.ParsePrefix("10.0.0.0/33"): prefix length out of range
}

func ExampleSet_Contains() {
	var empty ipset.Set // the zero value is an empty set
	trusted, err := ipset.Parse([]string{"127.0.0.1", "::1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ip := netip.MustParseAddr("::ffff:127.0.0.1") // as a dual-stack listener reports it
	fmt.Println(empty.Contains(ip), trusted.Contains(ip))
	// Output: false true
}
