package bot

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// fakeResolver answers from tables. Real DNS is not reachable from the test machines, so
// these tests use a fake; it honours ctx like net.Resolver does. Inside a synctest bubble
// its delays run on the fake clock.
//
// Every verification test runs in a synctest bubble, which fails ("blocked goroutines
// remain") if a goroutine the Detector started is still alive when the test function
// returns: that is the goroutine-leak check.
type fakeResolver struct {
	ptr   map[string][]string     // IP → PTR names
	fwd   map[string][]netip.Addr // name → addresses
	delay time.Duration           // per look-up
	hang  bool                    // wait for ctx to end instead of answering

	mu          sync.Mutex
	calls       map[string]int // LookupAddr calls per IP
	inflight    int
	maxInflight int
}

func (f *fakeResolver) wait(ctx context.Context) error {
	f.mu.Lock()
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	f.mu.Lock()
	hang := f.hang
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return &net.DNSError{Err: "i/o timeout", IsTimeout: true}
	}
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return &net.DNSError{Err: "i/o timeout", IsTimeout: true}
		}
	}
	return nil
}

func (f *fakeResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[addr]++
	f.mu.Unlock()
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	names, ok := f.ptr[addr]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
	}
	return names, nil
}

func (f *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if network != "ip" {
		return nil, errors.New("unexpected network " + network)
	}
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	addrs, ok := f.fwd[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

func (f *fakeResolver) callsFor(ip string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[ip]
}

// stats returns the IPs looked up, the look-ups running and the most that ever ran at once.
func (f *fakeResolver) stats() (ips, inflight, maxInflight int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls), f.inflight, f.maxInflight
}

// verifyState returns the number of cached results and of running verifications.
func (d *Detector) verifyState() (results, pending int) {
	d.vmu.Lock()
	defer d.vmu.Unlock()
	return len(d.vres), len(d.vpending)
}

var (
	googlebot = Class{Kind: Crawler, Category: "search", Name: "googlebot", Claimed: "google"}
	bingbot   = Class{Kind: Crawler, Category: "search", Name: "bingbot", Claimed: "bing"}
)

func googleDNS() *fakeResolver {
	return &fakeResolver{
		ptr: map[string][]string{
			"66.249.66.1":  {"crawl-66-249-66-1.googlebot.com."},
			"203.0.113.5":  {"crawl.evil.example."},
			"203.0.113.6":  {"crawl-203-0-113-6.googlebot.com."}, // forward look-up disagrees
			"203.0.113.7":  {"crawl.notgooglebot.com."},          // suffix without a dot boundary
			"203.0.113.8":  {"x.example.", "Rate-Limited.GoogleBot.com."},
			"157.55.39.1":  {"msnbot-157-55-39-1.search.msn.com."},
			"2001:db8::10": {"crawl-2001-db8--10.googlebot.com."},
		},
		fwd: map[string][]netip.Addr{
			"crawl-66-249-66-1.googlebot.com":   {netip.MustParseAddr("66.249.66.1")},
			"crawl-203-0-113-6.googlebot.com":   {netip.MustParseAddr("66.249.66.99")},
			"crawl.evil.example":                {netip.MustParseAddr("203.0.113.5")},
			"crawl.notgooglebot.com":            {netip.MustParseAddr("203.0.113.7")},
			"rate-limited.googlebot.com":        {netip.MustParseAddr("203.0.113.8")},
			"msnbot-157-55-39-1.search.msn.com": {netip.MustParseAddr("157.55.39.1")},
			"crawl-2001-db8--10.googlebot.com":  {netip.MustParseAddr("2001:db8::10")},
		},
	}
}

func newVerifyDetector(t *testing.T, cfg Config) *Detector {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestVerify(t *testing.T) {
	cases := []struct {
		name string
		ip   string
		c    Class
		want Verification
	}{
		{"genuine_googlebot", "66.249.66.1", googlebot, Verified},
		{"genuine_googlebot_ipv4_mapped", "::ffff:66.249.66.1", googlebot, Verified},
		{"genuine_googlebot_ipv6", "2001:db8::10", googlebot, Verified},
		{"genuine_bingbot", "157.55.39.1", bingbot, Verified},
		{"second_ptr_name_matches", "203.0.113.8", googlebot, Verified},
		{"ptr_to_other_domain", "203.0.113.5", googlebot, Failed},
		{"forward_lookup_mismatch", "203.0.113.6", googlebot, Failed},
		{"suffix_without_dot_boundary", "203.0.113.7", googlebot, Failed},
		{"no_ptr_record", "198.51.100.1", googlebot, Failed},
		{"googlebot_claiming_bing", "66.249.66.1", bingbot, Failed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := newVerifyDetector(t, Config{Resolver: googleDNS()})
				ip := netip.MustParseAddr(tc.ip)
				if got := d.Verify(ip, tc.c); got != Pending {
					t.Fatalf("first Verify = %v, want pending", got)
				}
				synctest.Wait()
				if got := d.Verify(ip, tc.c); got != tc.want {
					t.Errorf("Verify(%v, %s) = %v, want %v", ip, tc.c.Claimed, got, tc.want)
				}
			})
		})
	}
}

func TestVerifyNotApplicable(t *testing.T) {
	d := newVerifyDetector(t, Config{Resolver: &fakeResolver{}})
	ip := netip.MustParseAddr("66.249.66.1")
	for _, c := range []Class{
		{},
		{Kind: Browser, Name: "chrome"},
		{Kind: Crawler, Name: "ahrefs", Category: "seo"},
		{Kind: Crawler, Name: "gptbot", Category: "ai", Claimed: "openai"},
		{Kind: Crawler, Name: "duckduckbot", Category: "search", Claimed: "duckduckgo"},
		{Kind: Crawler, Name: "x", Claimed: "nobody"},
	} {
		if got := d.Verify(ip, c); got != NotApplicable {
			t.Errorf("Verify(%+v) = %v, want not_applicable", c, got)
		}
	}
	if got := d.Verify(netip.Addr{}, googlebot); got != NotApplicable {
		t.Errorf("Verify(invalid IP) = %v, want not_applicable", got)
	}
}

// TestVerifyNeverBlocks checks that Verify answers at once while DNS is slow: no fake time
// passes during the calls, and the answer stays Pending until the look-up ends.
func TestVerifyNeverBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dns := googleDNS()
		dns.delay = 500 * time.Millisecond
		d := newVerifyDetector(t, Config{Resolver: dns})
		ip := netip.MustParseAddr("66.249.66.1")
		start := time.Now()
		for range 100 {
			if got := d.Verify(ip, googlebot); got != Pending {
				t.Fatalf("Verify during look-up = %v, want pending", got)
			}
		}
		if el := time.Since(start); el != 0 {
			t.Errorf("100 Verify calls took %v of fake time, want 0", el)
		}
		synctest.Wait() // let the look-up goroutine reach the resolver
		if n := dns.callsFor("66.249.66.1"); n != 1 {
			t.Errorf("%d reverse look-ups for one IP, want 1 (deduplicated)", n)
		}
		time.Sleep(400 * time.Millisecond)
		synctest.Wait()
		if got := d.Verify(ip, googlebot); got != Pending {
			t.Errorf("Verify after 400ms = %v, want pending (reverse done, forward running)", got)
		}
		time.Sleep(700 * time.Millisecond)
		synctest.Wait()
		if got := d.Verify(ip, googlebot); got != Verified {
			t.Errorf("Verify after both look-ups = %v, want verified", got)
		}
	})
}

// TestVerifyMaxPending checks the concurrency bound: past MaxPending, Verify answers
// Pending without starting a look-up, and a later call starts it.
func TestVerifyMaxPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 400ms per look-up: a verification takes 800ms, well inside the 2s VerifyTimeout.
		dns := &fakeResolver{delay: 400 * time.Millisecond, ptr: map[string][]string{}, fwd: map[string][]netip.Addr{}}
		ips := make([]netip.Addr, 6)
		for i := range ips {
			ips[i] = netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)})
			name := "crawl-" + ips[i].String() + ".googlebot.com"
			dns.ptr[ips[i].String()] = []string{name + "."}
			dns.fwd[name] = []netip.Addr{ips[i]}
		}
		d := newVerifyDetector(t, Config{Resolver: dns, MaxPending: 2})
		for _, ip := range ips {
			if got := d.Verify(ip, googlebot); got != Pending {
				t.Fatalf("Verify(%v) = %v, want pending", ip, got)
			}
		}
		synctest.Wait()
		if started, _, _ := dns.stats(); started != 2 {
			t.Errorf("%d look-ups started, want MaxPending = 2", started)
		}
		// Keep asking; each call past the bound is refused until a slot frees. Three
		// rounds of 800ms, each started on the next call after a slot frees, fit in 4s.
		for range 16 {
			time.Sleep(250 * time.Millisecond)
			for _, ip := range ips {
				d.Verify(ip, googlebot)
			}
			synctest.Wait()
		}
		if _, _, most := dns.stats(); most > 2 {
			t.Errorf("%d concurrent look-ups, want at most 2", most)
		}
		for _, ip := range ips {
			if got := d.Verify(ip, googlebot); got != Verified {
				t.Errorf("Verify(%v) after retries = %v, want verified", ip, got)
			}
		}
	})
}

// TestVerifyTimeout checks that a resolver that never answers costs one VerifyTimeout, the
// goroutine ends, the claim stays Pending (not Failed), and it is retried a minute later.
func TestVerifyTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dns := googleDNS()
		dns.hang = true
		d := newVerifyDetector(t, Config{Resolver: dns, VerifyTimeout: 2 * time.Second})
		ip := netip.MustParseAddr("66.249.66.1")
		d.Verify(ip, googlebot)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		_, inflight, _ := dns.stats()
		if _, pending := d.verifyState(); inflight != 0 || pending != 0 {
			t.Fatalf("look-up still running after its timeout: %d in the resolver, %d pending", inflight, pending)
		}
		if got := d.Verify(ip, googlebot); got != Pending {
			t.Errorf("Verify after a timeout = %v, want pending", got)
		}
		if n := dns.callsFor("66.249.66.1"); n != 1 {
			t.Errorf("%d look-ups before the retry delay, want 1", n)
		}
		dns.mu.Lock()
		dns.hang = false
		dns.mu.Unlock()
		time.Sleep(retryAfter)
		d.Verify(ip, googlebot)
		synctest.Wait()
		if got := d.Verify(ip, googlebot); got != Verified {
			t.Errorf("Verify after the retry = %v, want verified", got)
		}
	})
}

// TestVerifyTTL checks that results expire after VerifyTTL and are looked up again.
func TestVerifyTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dns := googleDNS()
		d := newVerifyDetector(t, Config{Resolver: dns, VerifyTTL: time.Hour})
		ip := netip.MustParseAddr("66.249.66.1")
		d.Verify(ip, googlebot)
		synctest.Wait()
		time.Sleep(59 * time.Minute)
		if got := d.Verify(ip, googlebot); got != Verified {
			t.Fatalf("Verify within TTL = %v, want verified", got)
		}
		time.Sleep(2 * time.Minute)
		if got := d.Verify(ip, googlebot); got != Pending {
			t.Errorf("Verify after TTL = %v, want pending (a new look-up)", got)
		}
		synctest.Wait()
		if n := dns.callsFor("66.249.66.1"); n != 2 {
			t.Errorf("%d reverse look-ups, want 2", n)
		}
	})
}

// TestVerifyCacheBounded checks that verification results never exceed CacheSize.
func TestVerifyCacheBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newVerifyDetector(t, Config{Resolver: &fakeResolver{}, CacheSize: 8, MaxPending: 64})
		for i := range 50 {
			d.Verify(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), googlebot)
			synctest.Wait()
			if n, _ := d.verifyState(); n > 8 {
				t.Fatalf("%d cached verifications, want at most 8", n)
			}
		}
	})
}

func TestVerifyAllocs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newVerifyDetector(t, Config{Resolver: googleDNS()})
		ip := netip.MustParseAddr("66.249.66.1")
		d.Verify(ip, googlebot)
		synctest.Wait()
		if n := vigiltest.AllocsPerRun(100, func() { d.Verify(ip, googlebot) }); n != 0 {
			t.Errorf("Verify cache hit: %v allocs, want 0", n)
		}
	})
}

func TestVerificationString(t *testing.T) {
	want := []string{"not_applicable", "pending", "verified", "failed", "verification(4)"}
	for v, w := range want {
		if got := Verification(v).String(); got != w {
			t.Errorf("Verification(%d).String() = %q, want %q", v, got, w)
		}
	}
}

func TestInDomains(t *testing.T) {
	doms := []string{"googlebot.com", "google.com"}
	for name, want := range map[string]bool{
		"crawl-1-2-3-4.googlebot.com": true,
		"googlebot.com":               true,
		"a.b.google.com":              true,
		"notgooglebot.com":            false,
		"googlebot.com.evil.example":  false,
		"google.co":                   false,
		"":                            false,
	} {
		if got := inDomains(name, doms); got != want {
			t.Errorf("inDomains(%q) = %v, want %v", name, got, want)
		}
	}
}
