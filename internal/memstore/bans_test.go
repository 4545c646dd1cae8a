package memstore

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

var banAddCases = []struct {
	name      string
	kind      string
	value     string
	wantValue string // "" when Add must fail
}{
	{"ipv4", KindIP, "192.0.2.7", "192.0.2.7"},
	{"ipv6", KindIP, "2001:DB8:0:0::1", "2001:db8::1"},
	{"ipv4_mapped", KindIP, "::ffff:192.0.2.7", "192.0.2.7"},
	{"space_trimmed", KindIP, " 192.0.2.7\n", "192.0.2.7"},
	{"ip_zone_rejected", KindIP, "fe80::1%eth0", ""},
	{"ip_with_prefix_rejected", KindIP, "192.0.2.0/24", ""},
	{"ip_garbage", KindIP, "192.0.2", ""},
	{"cidr_masked", KindCIDR, "10.1.2.3/16", "10.1.0.0/16"},
	{"cidr_ipv6", KindCIDR, "2001:db8:1::/48", "2001:db8:1::/48"},
	{"cidr_mapped", KindCIDR, "::ffff:10.0.0.0/104", "10.0.0.0/8"},
	{"cidr_mapped_host", KindCIDR, "::ffff:192.0.2.7/128", "192.0.2.7/32"},
	{"cidr_short_ipv6_stays_ipv6", KindCIDR, "::/64", "::/64"},
	{"cidr_without_length", KindCIDR, "10.0.0.0", ""},
	{"cidr_length_out_of_range", KindCIDR, "10.0.0.0/33", ""},
	{"dna", KindDNA, "h1:9f2c-a1", "h1:9f2c-a1"},
	{"dna_trimmed", KindDNA, "  abc ", "abc"},
	{"dna_empty", KindDNA, "  ", ""},
	{"dna_inner_space", KindDNA, "a b", ""},
	{"dna_non_ascii", KindDNA, "é", ""},
	{"dna_too_long", KindDNA, strings.Repeat("a", 257), ""},
	{"dna_longest", KindDNA, strings.Repeat("a", 256), strings.Repeat("a", 256)},
	{"unknown_kind", "asn", "AS64496", ""},
	{"empty_kind", "", "192.0.2.7", ""},
}

func TestBansAdd(t *testing.T) {
	for _, tc := range banAddCases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBans()
			err := b.Add(Ban{Kind: tc.kind, Value: tc.value, Reason: "manual"})
			if tc.wantValue == "" {
				if err == nil {
					t.Fatalf("Add(%q, %q) succeeded, want an error", tc.kind, tc.value)
				}
				if b.Len() != 0 {
					t.Errorf("Len = %d after a failed Add", b.Len())
				}
				return
			}
			if err != nil {
				t.Fatalf("Add(%q, %q): %v", tc.kind, tc.value, err)
			}
			want := []Ban{{Kind: tc.kind, Value: tc.wantValue, Reason: "manual", Strikes: 1}}
			if diff := cmp.Diff(want, b.List(t0)); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			if !b.Remove(tc.kind, tc.value) {
				t.Errorf("Remove(%q, %q) found nothing", tc.kind, tc.value)
			}
			if b.Len() != 0 {
				t.Errorf("Len = %d after Remove", b.Len())
			}
		})
	}
}

// lookupBans is the table TestBansLookup and the benchmarks search. t0 is now.
var lookupBans = []Ban{
	{Kind: KindIP, Value: "192.0.2.7", Reason: "honeypot"},
	{Kind: KindCIDR, Value: "192.0.2.0/24", Reason: "net"},
	{Kind: KindCIDR, Value: "10.0.0.0/8", Reason: "wide"},
	{Kind: KindCIDR, Value: "10.1.0.0/16", Reason: "narrow"},
	{Kind: KindCIDR, Value: "10.1.2.0/24", Reason: "expired", Until: t0.Add(-time.Second)},
	{Kind: KindCIDR, Value: "10.1.3.0/24", Reason: "expires-soon", Until: t0.Add(time.Second)},
	{Kind: KindIP, Value: "10.9.9.9", Reason: "expired-ip", Until: t0},
	{Kind: KindCIDR, Value: "2001:db8::/32", Reason: "v6"},
	{Kind: KindCIDR, Value: "fe80::/64", Reason: "link-local"},
	{Kind: KindCIDR, Value: "::/0", Reason: "all-v6"},
	{Kind: KindDNA, Value: "dna-bad", Reason: "deny"},
	{Kind: KindDNA, Value: "dna-old", Reason: "expired-dna", Until: t0.Add(-time.Hour)},
}

var banLookupCases = []struct {
	name       string
	ip         string // "" for no address
	dna        string
	wantReason string // "" for no ban
}{
	{"exact_ip_before_cidr", "192.0.2.7", "", "honeypot"},
	{"cidr", "192.0.2.8", "", "net"},
	{"most_specific_cidr", "10.1.9.9", "", "narrow"},
	{"less_specific_cidr", "10.200.0.1", "", "wide"},
	{"expired_cidr_falls_back", "10.1.2.3", "", "narrow"},
	{"active_until_later", "10.1.3.3", "", "expires-soon"},
	{"expired_ip_falls_back_to_cidr", "10.9.9.9", "", "wide"},
	{"mapped_ipv6_client", "::ffff:10.1.9.9", "", "narrow"},
	{"mapped_exact_ip", "::ffff:192.0.2.7", "", "honeypot"},
	{"ipv6_cidr", "2001:db8::1", "", "v6"},
	{"zone_ignored", "fe80::1%eth0", "", "link-local"},
	{"ipv6_default_route_not_ipv4", "198.51.100.1", "", ""},
	{"ipv6_default_route", "2001:db9::1", "", "all-v6"},
	{"ip_before_dna", "192.0.2.7", "dna-bad", "honeypot"},
	{"dna_when_ip_clean", "198.51.100.1", "dna-bad", "deny"},
	{"dna_without_ip", "", "dna-bad", "deny"},
	{"expired_dna", "198.51.100.1", "dna-old", ""},
	{"clean", "198.51.100.1", "dna-good", ""},
	{"nothing", "", "", ""},
}

func newLookupBans(t testing.TB) *Bans {
	b := NewBans()
	for _, ban := range lookupBans {
		if err := b.Add(ban); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func parseIP(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

func TestBansLookup(t *testing.T) {
	b := newLookupBans(t)
	for _, tc := range banLookupCases {
		t.Run(tc.name, func(t *testing.T) {
			ban, ok := b.Lookup(parseIP(tc.ip), tc.dna, t0)
			if ok != (tc.wantReason != "") || ban.Reason != tc.wantReason {
				t.Errorf("Lookup(%q, %q) = %+v, %v; want reason %q", tc.ip, tc.dna, ban, ok, tc.wantReason)
			}
		})
	}
}

func TestBansLookupClock(t *testing.T) {
	b := newLookupBans(t)
	for _, tc := range banLookupCases {
		t.Run(tc.name, func(t *testing.T) {
			reads := 0
			clock := func() time.Time { reads++; return t0 }
			ban, ok := b.LookupClock(parseIP(tc.ip), tc.dna, clock)
			want, wantOK := b.Lookup(parseIP(tc.ip), tc.dna, t0)
			if ok != wantOK || ban != want {
				t.Errorf("LookupClock(%q, %q) = %+v, %v; Lookup gives %+v, %v", tc.ip, tc.dna, ban, ok, want, wantOK)
			}
			if reads > 1 {
				t.Errorf("LookupClock read the clock %d times, want at most once", reads)
			}
			if ok && reads != 1 {
				t.Errorf("LookupClock found a ban with %d clock reads, want 1", reads)
			}
		})
	}
	t.Run("no_ban_named", func(t *testing.T) {
		reads := 0
		if _, ok := b.LookupClock(netip.MustParseAddr("198.51.100.1"), "dna-good", func() time.Time { reads++; return t0 }); ok {
			t.Error("found a ban for an address and DNA that no ban names")
		}
		if reads != 0 {
			t.Errorf("read the clock %d times for a request no ban names, want 0", reads)
		}
	})
}

func TestBansExpiry(t *testing.T) {
	b := NewBans()
	until := t0.Add(time.Hour)
	for _, ban := range []Ban{
		{Kind: KindIP, Value: "192.0.2.7", Until: until},
		{Kind: KindCIDR, Value: "192.0.2.0/24", Until: until},
		{Kind: KindCIDR, Value: "192.0.0.0/16"}, // permanent
		{Kind: KindDNA, Value: "d", Until: until},
	} {
		if err := b.Add(ban); err != nil {
			t.Fatal(err)
		}
	}
	ip := netip.MustParseAddr("192.0.2.7")
	if ban, _ := b.Lookup(ip, "d", until.Add(-1)); ban.Value != "192.0.2.7" {
		t.Errorf("just before Until: matched %+v, want the IP ban", ban)
	}
	// At Until the ban is over: the permanent /16 matches, and the expired IP and /24
	// are dropped on the way.
	if ban, _ := b.Lookup(ip, "d", until); ban.Value != "192.0.0.0/16" {
		t.Errorf("at Until: matched %+v, want the permanent /16", ban)
	}
	if n := b.Len(); n != 2 {
		t.Errorf("Len = %d after Lookup met two expired bans, want 2", n)
	}
	if _, ok := b.Lookup(netip.Addr{}, "d", until); ok {
		t.Error("expired DNA ban matched")
	}
	if n := b.Len(); n != 1 {
		t.Errorf("Len = %d, want only the permanent ban", n)
	}
	if ban, ok := b.Lookup(ip, "", until.Add(100*365*24*time.Hour)); !ok || ban.Value != "192.0.0.0/16" {
		t.Errorf("permanent ban: %+v, %v", ban, ok)
	}
}

func TestBansSweep(t *testing.T) {
	b := NewBans()
	for i := range 300 {
		kind, value := KindIP, "192.0.2."+strconv.Itoa(i)
		switch i / 100 {
		case 1:
			kind, value = KindCIDR, "10."+strconv.Itoa(i)+".0.0/16"
		case 2:
			kind, value = KindDNA, "dna-"+strconv.Itoa(i)
		}
		// The last ten of each kind are permanent.
		until := t0.Add(time.Duration(i%100+1) * time.Minute)
		if i%100 >= 90 {
			until = time.Time{}
		}
		if err := b.Add(Ban{Kind: kind, Value: value, Until: until}); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.Len(); n != 300 {
		t.Fatalf("Len = %d, want 300", n)
	}
	// At t0+50m the bans with Until ≤ t0+50m (the first 50 of each kind) are over.
	if n := b.Sweep(t0.Add(50 * time.Minute)); n != 150 {
		t.Errorf("Sweep dropped %d, want 150", n)
	}
	if n := b.Len(); n != 150 {
		t.Errorf("Len = %d after Sweep, want 150", n)
	}
	if n := b.Sweep(t0.Add(50 * time.Minute)); n != 0 {
		t.Errorf("second Sweep dropped %d, want 0", n)
	}
	if n := len(b.List(t0.Add(24 * time.Hour))); n != 30 {
		t.Errorf("List a day later has %d bans, want the 30 permanent ones", n)
	}
}

func TestBansReplaceAndRemove(t *testing.T) {
	b := NewBans()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Add(Ban{Kind: KindIP, Value: "192.0.2.7", Reason: "first", Until: t0.Add(time.Minute)}))
	must(b.Add(Ban{Kind: KindIP, Value: "::ffff:192.0.2.7", Reason: "second", Until: t0.Add(time.Hour), Strikes: 2}))
	if n := b.Len(); n != 1 {
		t.Errorf("Len = %d after banning the same address twice, want 1", n)
	}
	ban, ok := b.Lookup(netip.MustParseAddr("192.0.2.7"), "", t0.Add(30*time.Minute))
	if want := (Ban{Kind: KindIP, Value: "192.0.2.7", Reason: "second", Until: t0.Add(time.Hour), Strikes: 2}); !ok || ban != want {
		t.Errorf("Lookup = %+v, %v; want the replacement %+v", ban, ok, want)
	}
	if b.Remove(KindCIDR, "192.0.2.7/32") {
		t.Error("Remove of a CIDR ban removed the IP ban")
	}
	if b.Remove(KindIP, "not an ip") {
		t.Error("Remove of garbage reported true")
	}
	if !b.Remove(KindIP, "192.0.2.7") || b.Remove(KindIP, "192.0.2.7") {
		t.Error("Remove did not report true exactly once")
	}
	if _, ok := b.Lookup(netip.MustParseAddr("192.0.2.7"), "", t0); ok {
		t.Error("removed ban still matches")
	}
}

func TestBansList(t *testing.T) {
	b := NewBans()
	for _, ban := range []Ban{
		{Kind: KindDNA, Value: "zz"},
		{Kind: KindCIDR, Value: "2001:db8::/32"},
		{Kind: KindIP, Value: "2001:db8::1"},
		{Kind: KindDNA, Value: "aa"},
		{Kind: KindIP, Value: "192.0.2.10"},
		{Kind: KindCIDR, Value: "10.0.0.0/8"},
		{Kind: KindIP, Value: "192.0.2.9"},
		{Kind: KindCIDR, Value: "10.0.0.0/16"},
		{Kind: KindIP, Value: "192.0.2.8", Until: t0}, // expired
	} {
		if err := b.Add(ban); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, ban := range b.List(t0) {
		got = append(got, ban.Kind+" "+ban.Value)
	}
	want := []string{
		"ip 192.0.2.9", "ip 192.0.2.10", "ip 2001:db8::1",
		"cidr 10.0.0.0/8", "cidr 10.0.0.0/16", "cidr 2001:db8::/32",
		"dna aa", "dna zz",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestBansZeroValue(t *testing.T) {
	var b Bans
	if _, ok := b.Lookup(netip.MustParseAddr("192.0.2.7"), "d", t0); ok {
		t.Error("empty table matched")
	}
	if b.Len() != 0 || b.List(t0) != nil || b.Remove(KindIP, "192.0.2.7") || b.Sweep(t0) != 0 {
		t.Error("empty table is not empty")
	}
	if err := b.Add(Ban{Kind: KindDNA, Value: "d"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Lookup(netip.Addr{}, "d", t0); !ok {
		t.Error("ban added to the zero value does not match")
	}
}

func TestBansConcurrent(t *testing.T) {
	b := NewBans()
	const writers, readers, n = 4, 4, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range n {
				ip := netip.AddrFrom4([4]byte{10, byte(w), byte(i >> 8), byte(i)})
				until := t0.Add(time.Duration(i%3) * time.Second) // some expire at once
				if err := b.Add(Ban{Kind: KindIP, Value: ip.String(), Until: until}); err != nil {
					t.Error(err)
					return
				}
				if err := b.Add(Ban{Kind: KindDNA, Value: "dna-" + ip.String(), Until: until}); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					b.Remove(KindIP, ip.String())
					b.Add(Ban{Kind: KindCIDR, Value: ip.String() + "/30"})
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for i := range n * 4 {
				ip := netip.AddrFrom4([4]byte{10, byte(r), byte(i >> 8), byte(i)})
				if ban, ok := b.Lookup(ip, "dna-"+ip.String(), t0.Add(time.Second)); ok && !ban.Active(t0.Add(time.Second)) {
					t.Errorf("Lookup returned an expired ban %+v", ban)
					return
				}
				if i%100 == 0 {
					b.List(t0)
					b.Len()
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			b.Sweep(t0.Add(time.Second))
		}
	})
	wg.Wait()
	// After a final sweep, every ban held is active and Len agrees with List.
	now := t0.Add(time.Second)
	b.Sweep(now)
	if got, want := b.Len(), len(b.List(now)); got != want {
		t.Errorf("Len = %d, List has %d", got, want)
	}
}

func TestBansLookupAllocs(t *testing.T) {
	b := newLookupBans(t)
	for _, tc := range banLookupCases {
		if strings.HasPrefix(tc.name, "expired") {
			continue // dropping an expired ban allocates, once
		}
		ip := parseIP(tc.ip)
		if n := vigiltest.AllocsPerRun(1000, func() { b.Lookup(ip, tc.dna, t0) }); n != 0 {
			t.Errorf("%s: %v allocations, want 0", tc.name, n)
		}
		if n := vigiltest.AllocsPerRun(1000, func() { b.LookupClock(ip, tc.dna, time.Now) }); n != 0 {
			t.Errorf("%s: LookupClock: %v allocations, want 0", tc.name, n)
		}
	}
}

func FuzzBanAdd(f *testing.F) {
	for _, tc := range banAddCases {
		f.Add(tc.kind, tc.value)
	}
	f.Fuzz(func(t *testing.T, kind, value string) {
		b := NewBans()
		err := b.Add(Ban{Kind: kind, Value: value})
		// Differential against netip for the address kinds.
		v := strings.TrimSpace(value)
		switch kind {
		case KindIP:
			a, perr := netip.ParseAddr(v)
			if (perr == nil && a.Zone() == "") != (err == nil) {
				t.Fatalf("Add(ip %q) = %v; netip.ParseAddr: %v", value, err, perr)
			}
		case KindCIDR:
			_, perr := netip.ParsePrefix(v)
			if (perr == nil) != (err == nil) {
				t.Fatalf("Add(cidr %q) = %v; netip.ParsePrefix: %v", value, err, perr)
			}
		}
		if err != nil {
			return
		}
		list := b.List(t0)
		if len(list) != 1 {
			t.Fatalf("List after one Add: %+v", list)
		}
		canon := list[0].Value
		// Canonical values are fixed points.
		b2 := NewBans()
		if err := b2.Add(Ban{Kind: kind, Value: canon}); err != nil || b2.List(t0)[0].Value != canon {
			t.Fatalf("canonical %q of %q does not round-trip: %v", canon, value, err)
		}
		// The ban matches its own target.
		var ip netip.Addr
		var dna string
		switch kind {
		case KindIP:
			ip = netip.MustParseAddr(canon)
		case KindCIDR:
			ip = netip.MustParsePrefix(canon).Addr()
		case KindDNA:
			dna = canon
		}
		if _, ok := b.Lookup(ip, dna, t0); !ok {
			t.Fatalf("ban on %s %q does not match its own target", kind, canon)
		}
		if !b.Remove(kind, value) || b.Len() != 0 {
			t.Fatalf("Remove(%q, %q) failed", kind, value)
		}
	})
}

// benchBans returns a table of 10,000 bans, 4,000 IPs, 4,000 CIDRs and 2,000 DNA ids,
// with addresses to look up.
func benchBans(b *testing.B) (bans *Bans, hitIP, cidrIP, missIP netip.Addr) {
	bans = NewBans()
	for i := range 4000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		if err := bans.Add(Ban{Kind: KindIP, Value: ip.String()}); err != nil {
			b.Fatal(err)
		}
		v6 := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i)}), 48)
		if i%2 == 0 {
			v6 = netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i >> 8), byte(i), 0}), 24)
		}
		if err := bans.Add(Ban{Kind: KindCIDR, Value: v6.String()}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 2000 {
		if err := bans.Add(Ban{Kind: KindDNA, Value: "dna-" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	if n := bans.Len(); n != 10000 {
		b.Fatalf("Len = %d", n)
	}
	return bans, netip.MustParseAddr("10.3.4.1"), netip.MustParseAddr("172.3.4.200"), netip.MustParseAddr("198.51.100.1")
}

func BenchmarkBansLookup(b *testing.B) {
	bans, hitIP, cidrIP, missIP := benchBans(b)
	for _, bc := range []struct {
		name string
		ip   netip.Addr
		dna  string
	}{
		{"ip_hit", hitIP, ""},
		{"cidr_hit", cidrIP, ""},
		{"dna_hit", missIP, "dna-1234"},
		{"miss", missIP, "dna-clean"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bans.Lookup(bc.ip, bc.dna, t0)
			}
		})
	}
	b.Run("miss_parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bans.Lookup(missIP, "dna-clean", t0)
			}
		})
	})
}

// BenchmarkBansAdd measures one copy-on-write Add to a table of 10,000 bans. The cost
// grows with the fan-out of the trie nodes on the path: sparse addresses touch small
// nodes, consecutive addresses fill one node whose 256 leaves are all copied.
func BenchmarkBansAdd(b *testing.B) {
	for _, bc := range []struct {
		name string
		addr func(i uint32) netip.Addr
	}{
		{"sparse", func(i uint32) netip.Addr {
			x := i * 2654435761 // spread over the address space
			return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
		}},
		{"dense", func(i uint32) netip.Addr {
			return netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)})
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bans, _, _, _ := benchBans(b)
			b.ReportAllocs()
			var i uint32
			for b.Loop() {
				i++
				if err := bans.Add(Ban{Kind: KindIP, Value: bc.addr(i).String()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
