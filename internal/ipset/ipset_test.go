package ipset

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// lookupCase is one query against a set: want is the most specific matching
// prefix, or "" when the address is in no prefix.
type lookupCase struct {
	ip   string
	want string
}

// setCases feeds TestLookup, TestContains and BenchmarkContains. Every expectation
// is written by hand from the entries, not copied from output.
var setCases = []struct {
	name    string
	entries []string
	wantLen int
	queries []lookupCase
}{
	{
		name:    "empty",
		entries: nil,
		wantLen: 0,
		queries: []lookupCase{{"192.0.2.1", ""}, {"2001:db8::1", ""}, {"0.0.0.0", ""}},
	},
	{
		name:    "single_ipv4_address",
		entries: []string{"192.0.2.7"},
		wantLen: 1,
		queries: []lookupCase{
			{"192.0.2.7", "192.0.2.7/32"},
			{"192.0.2.6", ""},
			{"192.0.2.8", ""},
			{"::ffff:192.0.2.7", "192.0.2.7/32"},
			{"::192.0.2.7", ""}, // IPv4-compatible, not mapped: an IPv6 address
		},
	},
	{
		name:    "ipv4_prefix_boundaries",
		entries: []string{"10.0.0.0/8"},
		wantLen: 1,
		queries: []lookupCase{
			{"10.0.0.0", "10.0.0.0/8"},
			{"10.255.255.255", "10.0.0.0/8"},
			{"9.255.255.255", ""},
			{"11.0.0.0", ""},
			{"::ffff:10.1.2.3", "10.0.0.0/8"},
			{"::ffff:a01:203", "10.0.0.0/8"}, // the same mapped address in hex
			{"::a01:203", ""},
		},
	},
	{
		name:    "ipv6_prefix_boundaries",
		entries: []string{"2001:db8::/32"},
		wantLen: 1,
		queries: []lookupCase{
			{"2001:db8::", "2001:db8::/32"},
			{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32"},
			{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", ""},
			{"2001:db9::", ""},
			{"2001:db8::1%eth0", "2001:db8::/32"}, // zone ignored
			{"32.1.13.184", ""},                   // 2001:0db8 read as IPv4 bytes
		},
	},
	{
		name:    "single_ipv6_address",
		entries: []string{"2001:db8::1"},
		wantLen: 1,
		queries: []lookupCase{
			{"2001:db8::1", "2001:db8::1/128"},
			{"2001:db8::1%en0", "2001:db8::1/128"},
			{"2001:db8::", ""},
			{"2001:db8::2", ""},
		},
	},
	{
		name:    "overlapping_prefixes_most_specific_wins",
		entries: []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3", "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64"},
		wantLen: 7,
		queries: []lookupCase{
			{"10.9.9.9", "10.0.0.0/8"},
			{"10.1.9.9", "10.1.0.0/16"},
			{"10.1.2.9", "10.1.2.0/24"},
			{"10.1.2.3", "10.1.2.3/32"},
			{"2001:db8:2::1", "2001:db8::/32"},
			{"2001:db8:1:3::1", "2001:db8:1::/48"},
			{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		},
	},
	{
		name:    "non_octet_prefix_lengths",
		entries: []string{"192.0.2.64/26", "198.51.100.0/23", "2001:db8:8000::/33"},
		wantLen: 3,
		queries: []lookupCase{
			{"192.0.2.63", ""},
			{"192.0.2.64", "192.0.2.64/26"},
			{"192.0.2.127", "192.0.2.64/26"},
			{"192.0.2.128", ""},
			{"198.51.100.0", "198.51.100.0/23"},
			{"198.51.101.255", "198.51.100.0/23"},
			{"198.51.102.0", ""},
			{"2001:db8:7fff::1", ""},
			{"2001:db8:8000::1", "2001:db8:8000::/33"},
		},
	},
	{
		name:    "host_bits_masked",
		entries: []string{"10.1.2.3/8", "2001:db8::1/32"},
		wantLen: 2,
		queries: []lookupCase{
			{"10.200.0.1", "10.0.0.0/8"},
			{"2001:db8:ffff::", "2001:db8::/32"},
		},
	},
	{
		name:    "default_routes_are_per_family",
		entries: []string{"0.0.0.0/0", "::/0"},
		wantLen: 2,
		queries: []lookupCase{
			{"203.0.113.9", "0.0.0.0/0"},
			{"::ffff:203.0.113.9", "0.0.0.0/0"},
			{"2001:db8::1", "::/0"},
			{"::", "::/0"},
		},
	},
	{
		name:    "ipv6_default_route_does_not_match_ipv4",
		entries: []string{"::/0"},
		wantLen: 1,
		queries: []lookupCase{
			{"192.0.2.1", ""},
			{"::ffff:192.0.2.1", ""}, // unmapped before lookup, so it is IPv4
		},
	},
	{
		name:    "mapped_entries_become_ipv4",
		entries: []string{"::ffff:1.2.3.4", "::ffff:10.0.0.0/104", "::ffff:0.0.0.0/96"},
		wantLen: 3,
		queries: []lookupCase{
			{"1.2.3.4", "1.2.3.4/32"},
			{"10.9.8.7", "10.0.0.0/8"},
			{"172.16.0.1", "0.0.0.0/0"},
			{"::ffff:1.2.3.4", "1.2.3.4/32"},
			{"2001:db8::1", ""},
		},
	},
	{
		name:    "duplicates_counted_once",
		entries: []string{"10.0.0.0/8", "10.0.0.0/8", "10.9.9.9/8", " 10.0.0.0/8 ", "192.0.2.1", "192.0.2.1/32", "::ffff:192.0.2.1"},
		wantLen: 2,
		queries: []lookupCase{{"10.0.0.1", "10.0.0.0/8"}, {"192.0.2.1", "192.0.2.1/32"}},
	},
	{
		name:    "edge_addresses",
		entries: []string{"0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		wantLen: 4,
		queries: []lookupCase{
			{"0.0.0.0", "0.0.0.0/32"},
			{"0.0.0.1", ""},
			{"255.255.255.255", "255.255.255.255/32"},
			{"255.255.255.254", ""},
			{"::", "::/128"},
			{"::1", ""},
			{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
		},
	},
}

func TestLookup(t *testing.T) {
	for _, tc := range setCases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.entries)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.entries, err)
			}
			if got := s.Len(); got != tc.wantLen {
				t.Errorf("Len() = %d, want %d", got, tc.wantLen)
			}
			for _, q := range tc.queries {
				ip := netip.MustParseAddr(q.ip)
				got, ok := s.Lookup(ip)
				var want netip.Prefix
				if q.want != "" {
					want = netip.MustParsePrefix(q.want)
				}
				if ok != (q.want != "") || got != want {
					t.Errorf("Lookup(%s) = %v, %v; want %v, %v", q.ip, got, ok, want, q.want != "")
				}
				if c := s.Contains(ip); c != (q.want != "") {
					t.Errorf("Contains(%s) = %v, want %v", q.ip, c, q.want != "")
				}
			}
		})
	}
}

// TestContainsMatchesBruteForce checks Contains and Lookup against a linear scan
// with netip.Prefix.Contains over many addresses near the prefix boundaries.
func TestContainsMatchesBruteForce(t *testing.T) {
	entries := []string{
		"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25", "10.1.2.3",
		"172.16.0.0/12", "192.0.2.64/26", "203.0.113.255",
		"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/63", "2001:db8:1:2::1", "fe80::/10",
	}
	s, err := Parse(entries)
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []netip.Prefix
	for _, e := range entries {
		p, err := parseEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		prefixes = append(prefixes, p)
	}
	var probes []netip.Addr
	for _, p := range prefixes {
		first := p.Addr()
		last := lastAddr(p)
		probes = append(probes, first, last, first.Prev(), last.Next(), first.Next(), last.Prev())
	}
	for _, ip := range probes {
		if !ip.IsValid() {
			continue
		}
		var want netip.Prefix
		for _, p := range prefixes {
			if p.Contains(ip) && (!want.IsValid() || p.Bits() > want.Bits()) {
				want = p
			}
		}
		got, ok := s.Lookup(ip)
		if ok != want.IsValid() || got != want {
			t.Errorf("Lookup(%s) = %v, %v; brute force says %v", ip, got, ok, want)
		}
		if c := s.Contains(ip); c != want.IsValid() {
			t.Errorf("Contains(%s) = %v; brute force says %v", ip, c, want.IsValid())
		}
		if ip.Is4() {
			mapped := netip.AddrFrom16(ip.As16())
			if s.Contains(mapped) != want.IsValid() {
				t.Errorf("Contains(%s) differs from Contains(%s)", mapped, ip)
			}
		}
	}
}

// lastAddr returns the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name    string
		entries []string
		// wantIn are substrings the error must contain: the index and the text.
		wantIn []string
	}{
		{"not_an_address", []string{"10.0.0.0/8", "example.com"}, []string{"entry 1", `"example.com"`}},
		{"empty_entry", []string{""}, []string{"entry 0", `""`, "empty"}},
		{"blank_entry", []string{"192.0.2.1", "  "}, []string{"entry 1", `"  "`, "empty"}},
		{"ipv4_prefix_too_long", []string{"10.0.0.0/33"}, []string{"entry 0", `"10.0.0.0/33"`}},
		{"ipv6_prefix_too_long", []string{"2001:db8::/129"}, []string{"entry 0", `"2001:db8::/129"`}},
		{"negative_prefix", []string{"10.0.0.0/-1"}, []string{"entry 0", `"10.0.0.0/-1"`}},
		{"missing_bits", []string{"10.0.0.0/"}, []string{"entry 0", `"10.0.0.0/"`}},
		{"zone_in_address", []string{"fe80::1%eth0"}, []string{"entry 0", `"fe80::1%eth0"`, "zone"}},
		{"zone_in_prefix", []string{"fe80::%eth0/64"}, []string{"entry 0", `"fe80::%eth0/64"`}},
		{"octal_looking_ipv4", []string{"010.0.0.1"}, []string{"entry 0", `"010.0.0.1"`}},
		{"port", []string{"192.0.2.1:80"}, []string{"entry 0", `"192.0.2.1:80"`}},
		{"brackets", []string{"[2001:db8::1]"}, []string{"entry 0", `"[2001:db8::1]"`}},
		{"two_prefixes_in_one_entry", []string{"10.0.0.0/8,192.168.0.0/16"}, []string{"entry 0", `"10.0.0.0/8,192.168.0.0/16"`}},
		{"later_entry_bad", []string{"10.0.0.0/8", "::1", "1.2.3"}, []string{"entry 2", `"1.2.3"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.entries)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, nil; want an error", tc.entries, s)
			}
			if s != nil {
				t.Errorf("Parse(%q) returned a non-nil set with an error", tc.entries)
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestZeroAndNilSet(t *testing.T) {
	ips := []netip.Addr{{}, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("::1")}
	for name, s := range map[string]*Set{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			if s.Len() != 0 {
				t.Errorf("Len() = %d, want 0", s.Len())
			}
			for _, ip := range ips {
				if s.Contains(ip) {
					t.Errorf("Contains(%v) = true", ip)
				}
				if p, ok := s.Lookup(ip); ok || p.IsValid() {
					t.Errorf("Lookup(%v) = %v, %v", ip, p, ok)
				}
			}
		})
	}
}

func TestInvalidAddrIsNeverContained(t *testing.T) {
	s, err := Parse([]string{"0.0.0.0/0", "::/0"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Contains(netip.Addr{}) {
		t.Error("Contains(zero Addr) = true")
	}
	if p, ok := s.Lookup(netip.Addr{}); ok {
		t.Errorf("Lookup(zero Addr) = %v, true", p)
	}
}

func TestParseDoesNotKeepInput(t *testing.T) {
	entries := []string{"10.0.0.0/8"}
	s, err := Parse(entries)
	if err != nil {
		t.Fatal(err)
	}
	entries[0] = "192.0.2.0/24"
	if !s.Contains(netip.MustParseAddr("10.0.0.1")) || s.Contains(netip.MustParseAddr("192.0.2.1")) {
		t.Error("changing the input slice after Parse changed the set")
	}
}

func TestConcurrentReads(t *testing.T) {
	s, err := Parse([]string{"10.0.0.0/8", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				ip := netip.AddrFrom4([4]byte{10, byte(g), byte(i >> 8), byte(i)})
				if !s.Contains(ip) {
					t.Errorf("Contains(%s) = false", ip)
					return
				}
				if p, ok := s.Lookup(ip); !ok || p != netip.MustParsePrefix("10.0.0.0/8") {
					t.Errorf("Lookup(%s) = %v, %v", ip, p, ok)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestLookupAllocs(t *testing.T) {
	s, err := Parse([]string{"10.0.0.0/8", "10.1.2.0/24", "2001:db8::/32", "2001:db8:1::/48"})
	if err != nil {
		t.Fatal(err)
	}
	ips := []netip.Addr{
		netip.MustParseAddr("10.1.2.3"),
		netip.MustParseAddr("192.0.2.1"),
		netip.MustParseAddr("::ffff:10.1.2.3"),
		netip.MustParseAddr("2001:db8:1::1"),
		netip.MustParseAddr("2001:db8:1::1%eth0"),
	}
	for _, ip := range ips {
		if n := vigiltest.AllocsPerRun(100, func() { s.Contains(ip) }); n != 0 {
			t.Errorf("Contains(%s): %v allocs, want 0", ip, n)
		}
		if n := vigiltest.AllocsPerRun(100, func() { s.Lookup(ip) }); n != 0 {
			t.Errorf("Lookup(%s): %v allocs, want 0", ip, n)
		}
	}
}

func TestMappedEntriesMergeWithIPv4(t *testing.T) {
	s, err := Parse([]string{"10.0.0.0/8", "::ffff:10.0.0.0/104", "::ffff:0:0/96", "0.0.0.0/0", "::/96"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range []string{"10.0.0.0/8", "0.0.0.0/0", "::/96"} {
		if q, ok := s.Lookup(netip.MustParsePrefix(p).Addr()); ok {
			got = append(got, q.String())
		}
	}
	want := []string{"10.0.0.0/8", "0.0.0.0/0", "::/96"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lookups (-want +got):\n%s", diff)
	}
	if s.Len() != 3 {
		t.Errorf("Len() = %d, want 3 (10.0.0.0/8, 0.0.0.0/0, ::/96)", s.Len())
	}
}

func BenchmarkContains(b *testing.B) {
	for _, tc := range setCases {
		s, err := Parse(tc.entries)
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range tc.queries {
			ip := netip.MustParseAddr(q.ip)
			b.Run(fmt.Sprintf("%s/%s", tc.name, q.ip), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.Contains(ip)
				}
			})
		}
	}
}

// BenchmarkContainsLarge measures a set the size of a real deny list.
func BenchmarkContainsLarge(b *testing.B) {
	entries := make([]string, 0, 100_000)
	for i := range 50_000 {
		entries = append(entries,
			fmt.Sprintf("%d.%d.%d.0/24", 1+i%223, (i/223)%256, i%256),
			fmt.Sprintf("2001:db8:%x:%x::/64", i, i%7))
	}
	s, err := Parse(entries)
	if err != nil {
		b.Fatal(err)
	}
	for _, ip := range []string{"100.50.7.9", "224.0.0.1", "2001:db8:10:2::1", "2001:db9::1"} {
		addr := netip.MustParseAddr(ip)
		b.Run("contains/"+ip, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Contains(addr)
			}
		})
		b.Run("lookup/"+ip, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Lookup(addr)
			}
		})
	}
}
