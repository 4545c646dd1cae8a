package ipset

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParse checks Parse against the standard library: a single entry is accepted
// exactly when netip accepts it as a prefix or a zone-free address, and the set
// then contains the entry's first and last address.
func FuzzParse(f *testing.F) {
	for _, tc := range setCases {
		for _, e := range tc.entries {
			f.Add(e)
		}
	}
	for _, e := range []string{"", " ", "fe80::1%eth0", "10.0.0.0/33", "::ffff:1.2.3.4/120", "1.2.3.4/0", "::/0", "::/80"} {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		s, err := Parse([]string{entry})

		text := strings.TrimSpace(entry)
		var want netip.Prefix
		if strings.Contains(text, "/") {
			want, _ = netip.ParsePrefix(text)
		} else if a, err := netip.ParseAddr(text); err == nil && a.Zone() == "" {
			want = netip.PrefixFrom(a, a.BitLen())
		}
		if want.IsValid() != (err == nil) {
			t.Fatalf("Parse(%q) error = %v; netip says valid = %v", entry, err, want.IsValid())
		}
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q) returned a set with an error", entry)
			}
			return
		}
		if s.Len() != 1 {
			t.Fatalf("Parse(%q).Len() = %d, want 1", entry, s.Len())
		}
		want = want.Masked()
		for _, ip := range []netip.Addr{want.Addr(), lastAddr(want)} {
			if ip.Is4In6() && want.Bits() < 96 {
				// An IPv6 prefix wider than ::ffff:0:0/96 does not match mapped
				// addresses: they are looked up as IPv4 (see the package doc).
				if s.Contains(ip) {
					t.Fatalf("Parse(%q) contains mapped %s", entry, ip)
				}
				continue
			}
			if !s.Contains(ip) {
				t.Fatalf("Parse(%q) does not contain %s", entry, ip)
			}
			got, ok := s.Lookup(ip)
			if !ok || got.Addr().Is4In6() || !got.Contains(ip.Unmap()) {
				t.Fatalf("Parse(%q).Lookup(%s) = %v, %v", entry, ip, got, ok)
			}
		}
	})
}
