package demo

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil"
)

// TestSimulatorExpectations runs the simulator against stand-in servers that allow or
// block everything, to check that outcomes are counted and judged per class: the counts
// must be able to show a guard that lets attacks through or blocks visitors.
func TestSimulatorExpectations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		action string
		status int
		// odd says whether a class's requests are unexpected under this server: all of
		// them ("all"), none ("none"), or some ("some", the flood's overflow).
		odd map[Class]string
	}{
		{
			name: "allow_everything", action: "allow", status: http.StatusOK,
			odd: map[Class]string{ClassBrowser: "none", ClassGoodBot: "none", ClassSuspect: "none", ClassFlood: "some"},
		},
		{
			name: "block_everything", action: "block", status: http.StatusForbidden,
			odd: map[Class]string{ClassBrowser: "all", ClassGoodBot: "all", ClassSuspect: "none", ClassFlood: "all"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			clients := map[string]bool{}
			direct := map[string]bool{}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				if r.TLS != nil {
					host, _, _ := net.SplitHostPort(r.RemoteAddr)
					direct[host] = r.Header.Get("X-Forwarded-For") == "" && strings.HasPrefix(r.UserAgent(), "Mozilla/5.0")
				} else {
					clients[r.Header.Get("X-Forwarded-For")] = true
				}
				mu.Unlock()
				w.Header().Set("X-Vigil-Action", tc.action)
				w.Header().Set("X-Request-Id", "test")
				w.WriteHeader(tc.status)
			})
			srv := httptest.NewServer(h)
			defer srv.Close()
			tsrv := httptest.NewTLSServer(h)
			defer tsrv.Close()
			roots := x509.NewCertPool()
			roots.AddCert(tsrv.Certificate())
			s, err := NewSimulator(SimulatorConfig{Seed: 1, TLSURL: tsrv.URL, TLSRoots: roots})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			if err := s.Run(ctx, srv.URL); err != nil {
				t.Fatal(err)
			}
			c := s.Counts()
			for _, cc := range c.Classes {
				want := tc.odd[cc.Class]
				if want == "" {
					want = map[string]string{"allow": "all", "block": "none"}[tc.action]
				}
				var got string
				switch {
				case cc.Sent == 0:
					t.Errorf("%s: nothing sent", cc.Class)
				case cc.Unexpected == 0:
					got = "none"
				case cc.Unexpected == cc.Sent:
					got = "all"
				default:
					got = "some"
				}
				if got != want {
					t.Errorf("%s: %s of the requests unexpected (%+v), want %s", cc.Class, got, cc, want)
				}
			}
			if len(c.Unexpected) == 0 || c.Unexpected[0].RequestID != "test" || c.Unexpected[0].Got != tc.action {
				t.Errorf("first unexpected outcome: %+v", c.Unexpected)
			}
			for ip := range clients {
				a, err := netip.ParseAddr(ip)
				if err != nil || !documentation(a) {
					t.Errorf("X-Forwarded-For %q is not a documentation address", ip)
				}
			}
			if len(clients) < 10 {
				t.Errorf("%d distinct client addresses, want many", len(clients))
			}
			// The scrapers come straight to the TLS listener, without a forwarding
			// header, each from a loopback address of its own where Linux allows it.
			for ip, ok := range direct {
				if a, err := netip.ParseAddr(ip); err != nil || !a.IsLoopback() || !ok {
					t.Errorf("TLS client %q: not a loopback address, or it sent X-Forwarded-For or no browser User-Agent", ip)
				}
			}
			if len(direct) == 0 {
				t.Error("no TLS client")
			}
		})
	}
}

// documentation reports whether a is in a documentation range (RFC 5737, RFC 3849).
func documentation(a netip.Addr) bool {
	for _, p := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return true
		}
	}
	return false
}

func TestSimulatorRunErrors(t *testing.T) {
	s, err := NewSimulator(SimulatorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://127.0.0.1/", "http://"} {
		if err := s.Run(context.Background(), u); err == nil {
			t.Errorf("Run(%q): no error", u)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, "http://127.0.0.1:1"); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if err := s.Run(ctx, "http://127.0.0.1:1"); err == nil {
		t.Error("second Run: no error")
	}
	if n := s.Counts().Sent(); n != 0 {
		t.Errorf("a run with a cancelled context sent %d requests", n)
	}
}

func TestNewSimulatorRejects(t *testing.T) {
	for _, cfg := range []SimulatorConfig{
		{Visitors: -1},
		{MaxRate: -5},
		{RateLimit: vigil.Limit{Rate: 0, Period: time.Second}},
		{RateLimit: vigil.Limit{Rate: 5}},
	} {
		if _, err := NewSimulator(cfg); err == nil {
			t.Errorf("NewSimulator(%+v): no error", cfg)
		}
	}
}

func TestFloodAllowance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit vigil.Limit
		after time.Duration
		want  int
	}{
		{"burst_at_once", vigil.Limit{Rate: 10, Period: time.Second, Burst: 20}, 0, 21},
		{"burst_and_refill", vigil.Limit{Rate: 10, Period: time.Second, Burst: 20}, 500 * time.Millisecond, 26},
		{"partial_interval_rounds_up", vigil.Limit{Rate: 10, Period: time.Second, Burst: 20}, 510 * time.Millisecond, 27},
		{"zero_burst_means_rate", vigil.Limit{Rate: 600, Period: time.Minute}, 2 * time.Second, 621},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := floodAllowance(tc.limit, tc.after); got != tc.want {
				t.Errorf("floodAllowance(%+v, %v) = %d, want %d", tc.limit, tc.after, got, tc.want)
			}
		})
	}
}

func TestPoolAddresses(t *testing.T) {
	p := newPool("203.0.113.64", 191, "2001:db8:bad::")
	v4 := netip.MustParsePrefix("203.0.113.0/24")
	v6 := netip.MustParsePrefix("2001:db8:bad::/48")
	nets := map[netip.Prefix]bool{}
	var n4, n6 int
	for range 1000 {
		a := netip.MustParseAddr(p.take())
		switch {
		case a.Is4():
			n4++
			if !v4.Contains(a) || a.As4()[3] < 64 {
				t.Fatalf("IPv4 %v outside 203.0.113.64-254", a)
			}
		default:
			n6++
			if !v6.Contains(a) {
				t.Fatalf("IPv6 %v outside %v", a, v6)
			}
			n := netip.PrefixFrom(a, 64).Masked()
			if nets[n] {
				t.Fatalf("IPv6 /64 %v handed out twice", n)
			}
			nets[n] = true
		}
	}
	if n6 != 250 || n4 != 750 {
		t.Errorf("%d IPv4 and %d IPv6 clients, want 750 and 250", n4, n6)
	}
	first := newPool("198.51.100.1", 254, "2001:db8:b0::")
	var got []string
	for range 5 {
		got = append(got, first.take())
	}
	want := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "2001:db8:b0::1", "198.51.100.4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("first addresses (-want +got):\n%s", diff)
	}
}

func TestVisitorCookies(t *testing.T) {
	v := &visitor{p: profiles()[0], lang: "en-US,en;q=0.9", base: "http://shop.test"}
	v.keep([]*http.Cookie{{Name: "sid", Value: "1"}, {Name: "theme", Value: "dark"}})
	v.keep([]*http.Cookie{{Name: "sid", Value: "2"}})
	v.keep([]*http.Cookie{{Name: "theme", Value: "", MaxAge: -1}})
	if got, want := v.header(navigate, "/").Get("Cookie"), "sid=2"; got != want {
		t.Errorf("Cookie %q, want %q", got, want)
	}
}

// TestProfilesConsistent checks the header sets against what the browsers send, so the
// demo's visitors are not flagged for the simulator's own mistakes.
func TestProfilesConsistent(t *testing.T) {
	major := regexp.MustCompile(`Chrome/(\d+)\.`)
	for _, p := range profiles() {
		t.Run(p.name, func(t *testing.T) {
			chromium := p.hints[0] != ""
			m := major.FindStringSubmatch(p.userAgent)
			if (m != nil) != chromium {
				t.Fatalf("client hints %v for User-Agent %q", chromium, p.userAgent)
			}
			if chromium && !strings.Contains(p.hints[0], `"Chromium";v="`+m[1]+`"`) {
				t.Errorf("sec-ch-ua %q does not name Chromium %s", p.hints[0], m[1])
			}
			mobile := strings.Contains(p.userAgent, "Mobile")
			if chromium && (p.hints[1] == "?1") != mobile {
				t.Errorf("Sec-Ch-Ua-Mobile %s for User-Agent %q", p.hints[1], p.userAgent)
			}
			if len(p.languages) == 0 || p.encoding == "" || p.accept == "" {
				t.Errorf("incomplete profile %+v", p)
			}
			v := &visitor{p: p, lang: p.languages[0], base: "http://shop.test"}
			for _, k := range []kind{navigate, submit, subscript, fetchJSON} {
				h := v.header(k, "/products")
				for _, name := range []string{"User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Referer"} {
					if h.Get(name) == "" {
						t.Errorf("kind %d: no %s", k, name)
					}
				}
				if got := h.Get("Sec-Fetch-User") != ""; got != (p.fetchUser && (k == navigate || k == submit)) {
					t.Errorf("kind %d: Sec-Fetch-User present %v", k, got)
				}
			}
		})
	}
}

// TestLoopbackPool checks that scrapers get loopback addresses of their own on Linux,
// where all of 127.0.0.0/8 is loopback, and that those addresses can be dialled from.
func TestLoopbackPool(t *testing.T) {
	p := newLoopbackPool()
	first := p.take()
	if runtime.GOOS != "linux" {
		t.Skipf("on %s the scrapers share 127.0.0.1 (take: %v)", runtime.GOOS, first)
	}
	seen := map[string]bool{}
	for a := first; len(seen) < 600; a = p.take() {
		if a == nil || !a.IP.IsLoopback() || a.IP.Equal(net.IPv4(127, 0, 0, 1)) || seen[a.IP.String()] {
			t.Fatalf("address %d: %v", len(seen), a)
		}
		seen[a.IP.String()] = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := (&net.Dialer{LocalAddr: first}).Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.RemoteAddr().(*net.TCPAddr).IP; !got.Equal(first.IP) {
		t.Errorf("connection from %v, want %v", got, first.IP)
	}
}
