package clientip

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// FuzzClientIP feeds arbitrary RemoteAddr, X-Forwarded-For and Forwarded values
// (a "\n" in a header value separates header lines) and checks invariants that
// hold whatever the input:
//
//   - ClientIP never panics and never returns an IPv4-mapped or zoned address;
//   - with no trusted proxies the result is RemoteAddr as netip parses it;
//   - the result is RemoteAddr's address, or, only when RemoteAddr is trusted, an
//     address that appears in the headers;
//   - for X-Forwarded-For within the work bounds, the result equals a plain
//     reference implementation built on strings.Split and netip, and for a
//     well-formed Forwarded one that splits the field left to right.
func FuzzClientIP(f *testing.F) {
	for _, tc := range resolveCases {
		var x, fw []string
		for _, l := range tc.lines {
			switch l.name {
			case "X-Forwarded-For":
				x = append(x, l.value)
			case "Forwarded":
				fw = append(fw, l.value)
			}
		}
		f.Add(tc.remote, strings.Join(x, "\n"), strings.Join(fw, "\n"))
	}
	// Peers the fuzz resolvers trust, so header parsing is reached.
	f.Add("[2001:db8:ffff::1]:443", "2001:db8::1%eth0, [::ffff:10.1.1.1]:80", `for="[fe80::1%25eth0]:_x";by=x`)
	f.Add("127.0.0.1:1", "", `for=10.0.0.1, For="10.0.0.2:8080" , for=unknown`)

	none := mustNew(f, Config{})
	mixed := mustNew(f, Config{TrustedProxies: proxies})
	everyone := mustNew(f, Config{TrustedProxies: []string{"0.0.0.0/0", "::/0"}})
	realIP := mustNew(f, Config{TrustedProxies: proxies, Header: "X-Real-IP"})
	forwardedOnly := mustNew(f, Config{TrustedProxies: proxies, Header: "Forwarded"})

	f.Fuzz(func(t *testing.T, remote, xffValue, fwdValue string) {
		req := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		var xffLines, fwdLines []string
		if xffValue != "" {
			xffLines = strings.Split(xffValue, "\n")
			req.Header[headerXFF] = xffLines
			req.Header["X-Real-Ip"] = xffLines
		}
		if fwdValue != "" {
			fwdLines = strings.Split(fwdValue, "\n")
			req.Header[headerForwarded] = fwdLines
		}
		peer := referencePeer(remote)
		seen := addressesIn(xffValue + "\n" + fwdValue)

		if got := none.ClientIP(req); got != peer {
			t.Fatalf("no trusted proxies: ClientIP = %v, want RemoteAddr %v", got, peer)
		}
		for name, r := range map[string]*Resolver{"mixed": mixed, "everyone": everyone, "real_ip": realIP} {
			got := r.ClientIP(req)
			if got.Is4In6() || got.Zone() != "" {
				t.Fatalf("%s: ClientIP = %v, not normalised", name, got)
			}
			if got == peer {
				continue
			}
			if !peer.IsValid() || !r.Trusted(peer) {
				t.Fatalf("%s: ClientIP = %v, but RemoteAddr %v is not a trusted proxy", name, got, peer)
			}
			if !seen[got] {
				t.Fatalf("%s: ClientIP = %v, which is neither RemoteAddr %v nor in the headers", name, got, peer)
			}
		}
		if len(fwdLines) > 0 && peer.IsValid() {
			r := forwardedOnly
			want, ok := referenceForwarded(r, peer, fwdLines)
			if got := r.ClientIP(req); ok && got != want {
				t.Fatalf("Forwarded: ClientIP = %v, reference implementation says %v", got, want)
			}
		}
		if len(xffLines) > 0 && peer.IsValid() {
			for name, r := range map[string]*Resolver{"mixed": mixed, "everyone": everyone} {
				want, ok := referenceXFF(r, peer, xffLines)
				if got := r.ClientIP(req); ok && got != want {
					t.Fatalf("%s: ClientIP = %v, reference implementation says %v", name, got, want)
				}
			}
		}
	})
}

func mustNew(tb testing.TB, cfg Config) *Resolver {
	tb.Helper()
	r, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// referencePeer parses RemoteAddr with the standard library alone.
func referencePeer(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if ip, err := netip.ParseAddr(remote); err == nil {
		return ip.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// addressesIn returns every address that appears as text in s, normalised: each
// run of characters between separators, with or without a trailing ":port" and
// with or without a "%zone".
func addressesIn(s string) map[netip.Addr]bool {
	seen := make(map[netip.Addr]bool)
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(",;=\"[] \t\n", r) }) {
		cands := []string{tok}
		if i := strings.LastIndexByte(tok, ':'); i >= 0 {
			cands = append(cands, tok[:i])
		}
		if i := strings.IndexByte(tok, '%'); i >= 0 {
			cands = append(cands, tok[:i])
		}
		for _, c := range cands {
			if ip, err := netip.ParseAddr(c); err == nil {
				seen[ip.Unmap().WithZone("")] = true
			}
		}
	}
	return seen
}

// referenceXFF is the X-Forwarded-For walk written as plainly as possible. ok is
// false when the header exceeds the byte bound, which the reference does not
// model.
func referenceXFF(r *Resolver, peer netip.Addr, lines []string) (ip netip.Addr, ok bool) {
	if !r.Trusted(peer) {
		return peer, true
	}
	if len(strings.Join(lines, "")) > maxHeaderBytes {
		return netip.Addr{}, false
	}
	elems := strings.Split(strings.Join(lines, ","), ",")
	last := peer
	for i, n := len(elems)-1, 1; i >= 0; i, n = i-1, n+1 {
		e := elems[i]
		if n > maxEntries || len(e) > maxEntryBytes {
			return last, true
		}
		if e = strings.Trim(e, " \t"); e == "" {
			continue
		}
		ip, ok := referenceEntry(e)
		if !ok {
			return last, true
		}
		if !r.Trusted(ip) {
			return ip, true
		}
		last = ip
	}
	return last, true
}

// referenceForwarded splits Forwarded left to right, as a parser reading the
// whole field would, and then walks the elements from the right like
// referenceXFF, reading each with forwardedFor. ok is false when the field
// exceeds the byte bound or holds a backslash or unbalanced quotes, which the
// reference does not model.
func referenceForwarded(r *Resolver, peer netip.Addr, lines []string) (ip netip.Addr, ok bool) {
	if !r.Trusted(peer) {
		return peer, true
	}
	if len(strings.Join(lines, "")) > maxHeaderBytes || strings.Contains(strings.Join(lines, ""), `\`) {
		return netip.Addr{}, false
	}
	var elems []string
	for _, l := range lines {
		quoted, start := false, 0
		for i := 0; i < len(l); i++ {
			switch l[i] {
			case '"':
				quoted = !quoted
			case ',':
				if !quoted {
					elems = append(elems, l[start:i])
					start = i + 1
				}
			}
		}
		if quoted {
			return netip.Addr{}, false
		}
		elems = append(elems, l[start:])
	}
	last := peer
	for i, n := len(elems)-1, 1; i >= 0; i, n = i-1, n+1 {
		e := elems[i]
		if n > maxEntries || len(e) > maxElementBytes {
			return last, true
		}
		if e = strings.Trim(e, " \t"); e == "" {
			continue
		}
		ip, ok := forwardedFor(e)
		if !ok {
			return last, true
		}
		if !r.Trusted(ip) {
			return ip, true
		}
		last = ip
	}
	return last, true
}

// referenceEntry parses one X-Forwarded-For entry with netip alone.
func referenceEntry(e string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(e); err == nil {
		return ip.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(e); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if strings.HasPrefix(e, "[") && strings.HasSuffix(e, "]") {
		if ip, err := netip.ParseAddr(e[1 : len(e)-1]); err == nil && ip.Is6() {
			return ip.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}

// FuzzParseIPv4Port holds the RemoteAddr fast path to netip.ParseAddrPort: whenever it
// answers, it answers what netip does.
func FuzzParseIPv4Port(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8080", "1.2.3.4:0", "255.255.255.255:65535", "01.2.3.4:80",
		"1.2.3.4:080", "1.2.3.4:65536", "1.2.3.4:", "1.2.3:4", "[::1]:80", "1.2.3.4.5:6", "256.1.1.1:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIPv4Port(s)
		if !ok {
			return
		}
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			t.Fatalf("parseIPv4Port(%q) = %v, but netip rejects it: %v", s, got, err)
		}
		if ap.Addr() != got {
			t.Fatalf("parseIPv4Port(%q) = %v, netip says %v", s, got, ap.Addr())
		}
	})
}

// TestParseIPv4PortTakesCommonForms checks that the fast path answers for the forms
// net/http puts in RemoteAddr, so that it is taken at all.
func TestParseIPv4PortTakesCommonForms(t *testing.T) {
	for s, want := range map[string]string{
		"127.0.0.1:8080":        "127.0.0.1",
		"10.0.0.1:1":            "10.0.0.1",
		"255.255.255.255:65535": "255.255.255.255",
		"0.0.0.0:0":             "0.0.0.0",
	} {
		got, ok := parseIPv4Port(s)
		if !ok || got != netip.MustParseAddr(want) {
			t.Errorf("parseIPv4Port(%q) = %v, %v; want %s, true", s, got, ok, want)
		}
	}
	for _, s := range []string{"01.2.3.4:80", "1.2.3.4:65536", "1.2.3.4", "[::1]:80", "1.2.3.4:8a"} {
		if got, ok := parseIPv4Port(s); ok {
			t.Errorf("parseIPv4Port(%q) = %v, true; want false", s, got)
		}
	}
}
