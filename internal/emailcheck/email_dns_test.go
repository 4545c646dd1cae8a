package emailcheck

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// dnsServer is a real DNS server on loopback UDP (github.com/miekg/dns) that answers
// from a zone held in memory and counts the queries it receives.
type dnsServer struct {
	addr string

	mu      sync.Mutex
	records map[string][]dns.RR // "name type" → answers; name lower-case with a trailing dot
	names   map[string]bool     // names that exist (NODATA instead of NXDOMAIN)
	silent  map[string]bool     // names never answered
	fail    map[string]bool     // names answered with SERVFAIL
	queries map[string]int      // "name type" → count
}

// newDNSServer starts a server for zone, given as RR lines in presentation format.
// Names listed in silent get no answer at all; names in fail get SERVFAIL.
func newDNSServer(t *testing.T, zone []string, silent, fail []string) *dnsServer {
	t.Helper()
	s := &dnsServer{
		records: map[string][]dns.RR{}, names: map[string]bool{},
		silent: map[string]bool{}, fail: map[string]bool{}, queries: map[string]int{},
	}
	for _, line := range zone {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("zone line %q: %v", line, err)
		}
		h := rr.Header()
		key := strings.ToLower(h.Name) + " " + dns.TypeToString[h.Rrtype]
		s.records[key] = append(s.records[key], rr)
		s.names[strings.ToLower(h.Name)] = true
	}
	for _, n := range silent {
		s.silent[dns.Fqdn(n)] = true
	}
	for _, n := range fail {
		s.fail[dns.Fqdn(n)] = true
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = pc.LocalAddr().String()
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("dns server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("dns server shutdown: %v", err)
		}
		<-done
	})
	return s
}

func (s *dnsServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		m.SetRcodeFormatError(req)
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	key := name + " " + dns.TypeToString[q.Qtype]
	s.mu.Lock()
	s.queries[key]++
	rrs, exists := s.records[key], s.names[name]
	silent, fail := s.silent[name], s.fail[name]
	s.mu.Unlock()
	if silent {
		return
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	switch {
	case fail:
		m.Rcode = dns.RcodeServerFailure
	case len(rrs) > 0:
		m.Answer = rrs
	case !exists:
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// count returns how many queries of type qtype (e.g. "MX") for name the server got.
func (s *dnsServer) count(name, qtype string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[dns.Fqdn(name)+" "+qtype]
}

// resolver returns a net.Resolver that sends every query to s.
func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", s.addr)
		},
	}
}

// testZone is the zone of the DNS tests, under the reserved .test TLD (RFC 6761).
var testZone = []string{
	"mx.test. 300 IN MX 20 backup.mx.test.",
	"mx.test. 300 IN MX 10 Mail.mx.test.",
	"workspace.test. 300 IN MX 1 aspmx.l.google.com.",
	"workspace.test. 300 IN MX 5 alt1.aspmx.l.google.com.",
	"newworkspace.test. 300 IN MX 1 smtp.google.com.",
	"fastvanity.test. 300 IN MX 10 in1-smtp.messagingengine.com.",
	"zohodomain.test. 300 IN MX 10 mx.zoho.com.",
	"nullmx.test. 300 IN MX 0 .",
	"aonly.test. 300 IN A 192.0.2.10",
	"aaaaonly.test. 300 IN AAAA 2001:db8::10",
	"nothing.test. 300 IN TXT \"no mail here\"",
	"mailinator.com. 300 IN MX 10 mail.mailinator.com.",
}

func dnsAnalyzer(t *testing.T, srv *dnsServer, cfg EmailConfig) *EmailAnalyzer {
	t.Helper()
	cfg.Resolver = srv.resolver()
	a, err := NewEmailAnalyzer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAnalyzeEmailDNS checks the deliverability results, signals and MX-based provider
// detection against the loopback server.
func TestAnalyzeEmailDNS(t *testing.T) {
	srv := newDNSServer(t, testZone, []string{"silent.test"}, []string{"servfail.test"})
	a := dnsAnalyzer(t, srv, EmailConfig{LookupTimeout: 300 * time.Millisecond})
	tests := []struct {
		name      string
		addr      string
		mx        MXResult
		canonical string
		provider  Provider
		codes     []string
		score     int
	}{
		{
			name: "mx_present", addr: "a+b@mx.test",
			mx:        MXResult{Status: LookupFound, Hosts: []string{"mail.mx.test", "backup.mx.test"}},
			canonical: "a+b@mx.test", provider: ProviderOther, codes: []string{"email_subaddress"},
		},
		{
			name: "workspace_keeps_dots", addr: "J.Doe+x@workspace.test",
			mx:        MXResult{Status: LookupFound, Hosts: []string{"aspmx.l.google.com", "alt1.aspmx.l.google.com"}},
			canonical: "j.doe@workspace.test", provider: ProviderGoogleWorkspace,
			codes: []string{"email_provider_mx", "email_subaddress"},
		},
		{
			name: "workspace_smtp_google_com", addr: "a.b+c@newworkspace.test",
			mx:        MXResult{Status: LookupFound, Hosts: []string{"smtp.google.com"}},
			canonical: "a.b@newworkspace.test", provider: ProviderGoogleWorkspace,
			codes: []string{"email_provider_mx", "email_subaddress"},
		},
		{
			name: "fastmail_vanity", addr: "me+shop@fastvanity.test",
			mx:        MXResult{Status: LookupFound, Hosts: []string{"in1-smtp.messagingengine.com"}},
			canonical: "me@fastvanity.test", provider: ProviderFastmail,
			codes: []string{"email_provider_mx", "email_subaddress"},
		},
		{
			name: "zoho_keeps_tag", addr: "me+shop@zohodomain.test",
			mx:        MXResult{Status: LookupFound, Hosts: []string{"mx.zoho.com"}},
			canonical: "me+shop@zohodomain.test", provider: ProviderZoho,
			codes: []string{"email_provider_mx", "email_subaddress"},
		},
		{
			name: "null_mx", addr: "a@nullmx.test",
			mx:        MXResult{Status: LookupNull},
			canonical: "a@nullmx.test", provider: ProviderOther, codes: []string{"email_null_mx"}, score: 90,
		},
		{
			name: "no_mx_but_a", addr: "a@aonly.test",
			mx:        MXResult{Status: LookupNone, Fallback: LookupFound},
			canonical: "a@aonly.test", provider: ProviderOther, codes: []string{"email_implicit_mx"}, score: 10,
		},
		{
			name: "no_mx_but_aaaa", addr: "a@aaaaonly.test",
			mx:        MXResult{Status: LookupNone, Fallback: LookupFound},
			canonical: "a@aaaaonly.test", provider: ProviderOther, codes: []string{"email_implicit_mx"}, score: 10,
		},
		{
			name: "name_without_records", addr: "a@nothing.test",
			mx:        MXResult{Status: LookupNone, Fallback: LookupNone},
			canonical: "a@nothing.test", provider: ProviderOther, codes: []string{"email_no_mx"}, score: 90,
		},
		{
			name: "nxdomain", addr: "a@nxdomain.test",
			mx:        MXResult{Status: LookupNone, Fallback: LookupNone},
			canonical: "a@nxdomain.test", provider: ProviderOther, codes: []string{"email_no_mx"}, score: 90,
		},
		{
			name: "servfail_fails_open", addr: "a@servfail.test",
			mx:        MXResult{Status: LookupUnknown, Error: "temporary"},
			canonical: "a@servfail.test", provider: ProviderOther, codes: []string{"email_dns_unknown"},
		},
		{
			name: "disposable_and_mx", addr: "x@mailinator.com",
			mx:        MXResult{Status: LookupFound, Hosts: []string{"mail.mailinator.com"}},
			canonical: "x@mailinator.com", provider: ProviderOther, codes: []string{"email_disposable"}, score: 80,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.AnalyzeEmail(context.Background(), tc.addr)
			if diff := cmp.Diff(tc.mx, r.MX); diff != "" {
				t.Errorf("MX (-want +got):\n%s", diff)
			}
			if r.Canonical != tc.canonical || r.Provider != tc.provider {
				t.Errorf("canonical, provider = %q, %q; want %q, %q", r.Canonical, r.Provider, tc.canonical, tc.provider)
			}
			var got []string
			for _, s := range r.Reasons {
				got = append(got, s.Code)
			}
			if diff := cmp.Diff(tc.codes, got); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if r.RiskScore != tc.score || !r.Valid {
				t.Errorf("score %d, valid %v; want %d, true", r.RiskScore, r.Valid, tc.score)
			}
		})
	}
}

// TestAnalyzeEmailTimeout checks that a server that never answers makes the result
// unknown within the lookup timeout, that the failure is cached for UnknownTTL, and that
// the address is not penalised.
func TestAnalyzeEmailTimeout(t *testing.T) {
	srv := newDNSServer(t, testZone, []string{"silent.test"}, nil)
	const timeout = 200 * time.Millisecond
	a := dnsAnalyzer(t, srv, EmailConfig{LookupTimeout: timeout})

	start := time.Now()
	r := a.AnalyzeEmail(context.Background(), "a@silent.test")
	elapsed := time.Since(start)
	if want := (MXResult{Status: LookupUnknown, Error: "timeout"}); !cmp.Equal(r.MX, want) {
		t.Errorf("MX = %+v, want %+v", r.MX, want)
	}
	if elapsed < timeout || elapsed > timeout+time.Second {
		t.Errorf("AnalyzeEmail took %v with a %v timeout", elapsed, timeout)
	}
	if !r.Valid || r.RiskScore != 0 || len(r.Reasons) != 1 || r.Reasons[0].Code != "email_dns_unknown" {
		t.Errorf("report %+v, want valid, score 0 and one email_dns_unknown reason", r)
	}
	if srv.count("silent.test", "MX") == 0 {
		t.Error("the server saw no MX query")
	}

	queries := srv.count("silent.test", "MX")
	start = time.Now()
	r = a.AnalyzeEmail(context.Background(), "b@silent.test")
	if d := time.Since(start); d >= timeout || r.MX.Status != LookupUnknown {
		t.Errorf("second look-up took %v with status %s; want the cached unknown at once", d, r.MX.Status)
	}
	if n := srv.count("silent.test", "MX"); n != queries {
		t.Errorf("the second look-up sent %d more queries; want it served from the cache", n-queries)
	}
}

// TestAnalyzeEmailCallerDeadline checks that a caller whose context ends first gets an
// unknown result at once, while the look-up goes on under its own timeout and caches
// its answer for later callers.
func TestAnalyzeEmailCallerDeadline(t *testing.T) {
	srv := newDNSServer(t, testZone, []string{"silent.test"}, nil)
	a := dnsAnalyzer(t, srv, EmailConfig{LookupTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := a.AnalyzeEmail(ctx, "a@silent.test")
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("AnalyzeEmail took %v; the caller's deadline was 20ms, the look-up timeout 1s", d)
	}
	if r.MX.Status != LookupUnknown || r.MX.Error != "timeout" {
		t.Errorf("MX = %+v, want unknown timeout", r.MX)
	}
	// The detached look-up ends within its timeout and caches its result.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := a.cache.get("silent.test", time.Now()); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the detached look-up did not cache a result within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAnalyzeEmailCache checks that answers are served from the cache (the server sees
// one query), that concurrent look-ups of one domain are merged, that results expire
// after their TTL, and that callers cannot change cached data.
func TestAnalyzeEmailCache(t *testing.T) {
	srv := newDNSServer(t, testZone, nil, nil)
	now := time.Unix(1_700_000_000, 0)
	var clockMu sync.Mutex
	a := dnsAnalyzer(t, srv, EmailConfig{LookupTimeout: time.Second, PositiveTTL: time.Hour, NegativeTTL: time.Minute})
	a.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); now = now.Add(d); clockMu.Unlock() }
	ctx := context.Background()

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if r := a.AnalyzeEmail(ctx, fmt.Sprintf("user%d@mx.test", i)); r.MX.Status != LookupFound {
				t.Errorf("user%d: MX status %s", i, r.MX.Status)
			}
		})
	}
	wg.Wait()
	if n := srv.count("mx.test", "MX"); n != 1 {
		t.Errorf("20 concurrent analyses sent %d MX queries, want 1", n)
	}

	r := a.AnalyzeEmail(ctx, "x@mx.test")
	r.MX.Hosts[0] = "changed.example"
	if r := a.AnalyzeEmail(ctx, "x@mx.test"); r.MX.Hosts[0] != "mail.mx.test" {
		t.Errorf("a caller changed the cached hosts: %v", r.MX.Hosts)
	}

	// Negative answers: both the MX and the A/AAAA fallback are cached.
	a.AnalyzeEmail(ctx, "a@nothing.test")
	a.AnalyzeEmail(ctx, "b@nothing.test")
	if mx, ip := srv.count("nothing.test", "MX"), srv.count("nothing.test", "A"); mx != 1 || ip != 1 {
		t.Errorf("two analyses of nothing.test sent %d MX and %d A queries, want 1 and 1", mx, ip)
	}

	advance(2 * time.Minute) // past NegativeTTL, within PositiveTTL
	a.AnalyzeEmail(ctx, "c@nothing.test")
	a.AnalyzeEmail(ctx, "y@mx.test")
	if n := srv.count("nothing.test", "MX"); n != 2 {
		t.Errorf("after NegativeTTL nothing.test was queried %d times in all, want 2", n)
	}
	if n := srv.count("mx.test", "MX"); n != 1 {
		t.Errorf("within PositiveTTL mx.test was queried %d times in all, want 1", n)
	}
	advance(time.Hour)
	a.AnalyzeEmail(ctx, "z@mx.test")
	if n := srv.count("mx.test", "MX"); n != 2 {
		t.Errorf("after PositiveTTL mx.test was queried %d times in all, want 2", n)
	}
}

// TestAnalyzeEmailOfflineSendsNoQuery checks that Offline makes no look-up.
func TestAnalyzeEmailOfflineSendsNoQuery(t *testing.T) {
	srv := newDNSServer(t, testZone, nil, nil)
	a := dnsAnalyzer(t, srv, EmailConfig{Offline: true})
	r := a.AnalyzeEmail(context.Background(), "J.Doe+x@workspace.test")
	if r.MX.Status != LookupSkipped || srv.count("workspace.test", "MX") != 0 {
		t.Errorf("offline: MX %+v, %d queries", r.MX, srv.count("workspace.test", "MX"))
	}
	// Without DNS the Workspace domain is "other", and its tag stays.
	if r.Canonical != "j.doe+x@workspace.test" || r.Provider != ProviderOther {
		t.Errorf("offline canonical, provider = %q, %q", r.Canonical, r.Provider)
	}
}
