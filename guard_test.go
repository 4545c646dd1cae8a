package vigil_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
)

// sink collects events.
type sink struct {
	mu     sync.Mutex
	events []vigil.Event
}

func (s *sink) Record(e vigil.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *sink) byKind(k vigil.EventKind) []vigil.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []vigil.Event
	for _, e := range s.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// app echoes the body it received and the verdict it found in its context.
var app = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if v := vigil.VerdictFrom(r.Context()); v != nil {
		w.Header().Set("X-Seen-Verdict", string(v.Action))
	}
	w.Write(body)
})

type step struct {
	name       string
	method     string
	target     string
	ip         string
	header     map[string]string
	body       string
	wantStatus int
	wantAction string // X-Vigil-Action
	wantSignal string // a signal code the verdict must carry ("" for none required)
}

func (s step) request() *http.Request {
	method := s.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	r := httptest.NewRequest(method, s.target, body)
	r.RemoteAddr = s.ip + ":40000"
	if s.ip == "" {
		r.RemoteAddr = "198.51.100.7:40000"
	}
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0")
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	r.Header.Set("Accept-Language", "en-US,en;q=0.5")
	r.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	r.Header.Set("Sec-Fetch-Dest", "document")
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	r.Header.Set("Sec-Fetch-Site", "none")
	for k, v := range s.header {
		r.Header.Set(k, v)
	}
	return r
}

func run(t *testing.T, g *vigil.Guard, sk *sink, steps []step) {
	t.Helper()
	h := g.Handler(app)
	for _, s := range steps {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, s.request())
		if w.Code != s.wantStatus {
			t.Errorf("%s: status %d, want %d (body %q)", s.name, w.Code, s.wantStatus, w.Body.String())
		}
		if got := w.Header().Get("X-Vigil-Action"); got != s.wantAction {
			t.Errorf("%s: X-Vigil-Action %q, want %q", s.name, got, s.wantAction)
		}
		if id := w.Header().Get("X-Request-Id"); len(id) != 26 {
			t.Errorf("%s: X-Request-Id %q, want a 26-character ID", s.name, id)
		}
		if s.wantSignal != "" && sk != nil {
			evs := sk.byKind(vigil.EventRequest)
			if len(evs) == 0 {
				t.Fatalf("%s: no request event", s.name)
			}
			if !hasSignal(evs[len(evs)-1].Verdict, s.wantSignal) {
				t.Errorf("%s: signals %+v, want one with code %q", s.name, evs[len(evs)-1].Verdict.Signals, s.wantSignal)
			}
		}
	}
}

func hasSignal(v vigil.Verdict, code string) bool {
	for _, s := range v.Signals {
		if s.Code == code {
			return true
		}
	}
	return false
}

func newGuard(t *testing.T, p policy.Policy, mod func(*vigil.Config)) (*vigil.Guard, *sink) {
	t.Helper()
	sk := &sink{}
	cfg := vigil.Config{Policy: p, Events: sk}
	if mod != nil {
		mod(&cfg)
	}
	g, err := vigil.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g, sk
}

// attackSteps are the first milestone's acceptance requests, in order, against the default
// policy with a tight per-IP limit for the last client.
func attackSteps(blocked, limited int, action string) []step {
	return []step{
		{name: "browser_get", target: "/products?page=2", wantStatus: 200, wantAction: "allow"},
		{name: "honeypot_env", target: "/.env", ip: "203.0.113.5", wantStatus: blocked, wantAction: action, wantSignal: "honeypot"},
		{name: "banned_after_honeypot", target: "/", ip: "203.0.113.5", wantStatus: blocked, wantAction: action},
		{name: "sqli_query", target: "/?id=1%27%20OR%201=1--", ip: "203.0.113.6", wantStatus: blocked, wantAction: action, wantSignal: "sqli"},
		{name: "xss_query", target: "/?q=%3Cscript%3Ealert(1)%3C/script%3E", ip: "203.0.113.7", wantStatus: blocked, wantAction: action, wantSignal: "xss"},
		{name: "sqli_form_body", method: "POST", target: "/login", ip: "203.0.113.8", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: "user=admin%27--&password=x", wantStatus: blocked, wantAction: action},
		{name: "clean_json_body_reaches_handler", method: "POST", target: "/api/cart", ip: "203.0.113.9", header: map[string]string{"Content-Type": "application/json"},
			body: `{"sku":"A-1","note":"O'Brien's gift; wrap it (please)"}`, wantStatus: 200, wantAction: "allow"},
		{name: "flood_1", target: "/", ip: "203.0.113.10", wantStatus: 200, wantAction: "allow"},
		{name: "flood_2", target: "/", ip: "203.0.113.10", wantStatus: 200, wantAction: "allow"},
		{name: "flood_3_limited", target: "/", ip: "203.0.113.10", wantStatus: limited, wantAction: map[string]string{"block": "ratelimit", "allow": "allow"}[action]},
	}
}

func tightPolicy(mode policy.Mode) policy.Policy {
	p := policy.Default()
	p.Mode = mode
	p.RateLimit.PerIP = policy.Limit{Rate: 2, Period: policy.Duration(time.Minute), Burst: 2}
	return p
}

func TestGuardBlockMode(t *testing.T) {
	g, sk := newGuard(t, tightPolicy(policy.ModeBlock), nil)
	run(t, g, sk, attackSteps(403, 429, "block"))

	bans := sk.byKind(vigil.EventBan)
	if len(bans) != 1 || bans[0].Ban.Value != "203.0.113.5" || bans[0].Ban.Reason != "honeypot" {
		t.Errorf("ban events %+v, want one honeypot ban of 203.0.113.5", bans)
	}
}

func TestGuardMonitorMode(t *testing.T) {
	var logs strings.Builder
	g, sk := newGuard(t, tightPolicy(policy.ModeMonitor), func(c *vigil.Config) {
		c.Logger = slogTo(&logs)
	})
	run(t, g, sk, attackSteps(200, 200, "allow"))

	// Nothing is enforced, but every event knows what would have happened.
	want := map[string]vigil.Action{
		"/.env": vigil.ActionBlock, "/?id=1%27%20OR%201=1--": vigil.ActionBlock,
	}
	for _, e := range sk.byKind(vigil.EventRequest) {
		if e.Verdict.Action != vigil.ActionAllow {
			t.Errorf("%s: action %s in monitor mode", e.Path, e.Verdict.Action)
		}
		if w, ok := want[e.Path]; ok && e.Verdict.WouldBe != w {
			t.Errorf("%s: would-be %s, want %s", e.Path, e.Verdict.WouldBe, w)
		}
	}
	if len(sk.byKind(vigil.EventBan)) != 0 {
		t.Error("monitor mode placed a ban")
	}
	if !strings.Contains(logs.String(), "would_be=block") {
		t.Errorf("log has no would-be action:\n%s", logs.String())
	}
}

// TestGuardMonitorRevealsNothing compares a blocked request's response in monitor mode
// with the same request to an unguarded handler.
func TestGuardMonitorRevealsNothing(t *testing.T) {
	g, _ := newGuard(t, tightPolicy(policy.ModeMonitor), nil)
	s := step{target: "/?q=%3Cscript%3Ealert(1)%3C/script%3E"}
	guarded, bare := httptest.NewRecorder(), httptest.NewRecorder()
	g.Handler(app).ServeHTTP(guarded, s.request())
	app.ServeHTTP(bare, s.request())
	if guarded.Code != bare.Code || guarded.Body.String() != bare.Body.String() {
		t.Errorf("monitor response %d %q differs from bare %d %q", guarded.Code, guarded.Body, bare.Code, bare.Body)
	}
	for name := range guarded.Header() {
		switch name {
		case "X-Request-Id", "X-Vigil-Action", "X-Seen-Verdict":
		default:
			if _, ok := bare.Header()[name]; !ok {
				t.Errorf("monitor mode added header %s", name)
			}
		}
	}
}

func TestGuardBlockResponse(t *testing.T) {
	g, _ := newGuard(t, policy.Default(), nil)
	h := g.Handler(app)

	t.Run("problem_json", func(t *testing.T) {
		r := step{target: "/?id=1%27%20OR%201=1--", header: map[string]string{"Accept": "application/json"}}.request()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var p map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p["status"] != float64(403) || p["request_id"] != w.Header().Get("X-Request-Id") {
			t.Errorf("problem %v does not carry status 403 and the request ID", p)
		}
		if strings.Contains(w.Body.String(), "sqli") {
			t.Errorf("block response reveals the reason: %s", w.Body)
		}
	})
	t.Run("html_for_browsers", func(t *testing.T) {
		r := step{target: "/?id=1%27%20OR%201=1--"}.request()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(w.Body.String(), w.Header().Get("X-Request-Id")) {
			t.Errorf("browser block page: %q %q", w.Header().Get("Content-Type"), w.Body)
		}
	})
	t.Run("ratelimit_headers", func(t *testing.T) {
		g, _ := newGuard(t, tightPolicy(policy.ModeBlock), nil)
		h := g.Handler(app)
		var w *httptest.ResponseRecorder
		for range 3 {
			w = httptest.NewRecorder()
			h.ServeHTTP(w, step{target: "/", ip: "192.0.2.77"}.request())
		}
		if w.Code != 429 {
			t.Fatalf("third request: %d, want 429", w.Code)
		}
		if ra := w.Header().Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After %q", ra)
		}
		if got := w.Header().Get("RateLimit-Policy"); got != `"ip";q=2;w=60` {
			t.Errorf("RateLimit-Policy %q", got)
		}
		if got := w.Header().Get("RateLimit"); !strings.HasPrefix(got, `"ip";r=0;t=`) {
			t.Errorf("RateLimit %q", got)
		}
	})
}

// TestGuardBanEscalation checks that bans expire and that repeat offenders get longer
// ones, on a fake clock.
func TestGuardBanEscalation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := policy.Default()
		p.Bans = policy.Bans{TTL: policy.Duration(time.Hour), MaxTTL: policy.Duration(3 * time.Hour), Window: policy.Duration(48 * time.Hour)}
		g, sk := newGuard(t, p, nil)
		h := g.Handler(app)
		get := func(target string) int {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, step{target: target, ip: "203.0.113.50"}.request())
			return w.Code
		}
		wantBans := []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour, 3 * time.Hour}
		for i, ttl := range wantBans {
			if c := get("/wp-login.php"); c != 403 {
				t.Fatalf("strike %d: honeypot %d", i+1, c)
			}
			bans := sk.byKind(vigil.EventBan)
			if got := bans[len(bans)-1].Ban; got.Strikes != i+1 || time.Until(got.Until) != ttl {
				t.Errorf("strike %d: ban %+v lasts %v, want strikes %d and %v", i+1, got, time.Until(got.Until), i+1, ttl)
			}
			time.Sleep(ttl - time.Second)
			if c := get("/"); c != 403 {
				t.Errorf("strike %d: %v into a %v ban: %d, want 403", i+1, ttl-time.Second, ttl, c)
			}
			time.Sleep(2 * time.Second)
			if c := get("/"); c != 200 {
				t.Errorf("strike %d: after the ban: %d, want 200", i+1, c)
			}
		}
	})
}

func TestGuardLists(t *testing.T) {
	p := policy.Default()
	p.Allow = []string{"192.0.2.0/28"}
	p.Deny = []string{"198.18.0.0/15", "2001:db8:bad::/48"}
	g, sk := newGuard(t, p, nil)
	run(t, g, sk, []step{
		{name: "allow_listed_honeypot_not_banned", target: "/.env", ip: "192.0.2.3", wantStatus: 200, wantAction: "allow", wantSignal: "allow_list"},
		{name: "allow_listed_attack", target: "/?id=1%27%20OR%201=1--", ip: "192.0.2.3", wantStatus: 200, wantAction: "allow"},
		{name: "deny_listed", target: "/", ip: "198.19.4.4", wantStatus: 403, wantAction: "block", wantSignal: "deny_list"},
		{name: "deny_listed_v6", target: "/", ip: "[2001:db8:bad::9]", wantStatus: 403, wantAction: "block", wantSignal: "deny_list"},
		{name: "mapped_v4_deny", target: "/", ip: "[::ffff:198.18.0.1]", wantStatus: 403, wantAction: "block"},
	})
}

// The emergency lockdown refuses everyone but the allow lists with 503 and lifts
// with the next policy that does not set it.
func TestGuardEmergency(t *testing.T) {
	p := policy.Default()
	p.Allow = []string{"192.0.2.0/28"}
	p.ExcludePaths = []string{"/healthz"}
	p.Emergency = policy.Emergency{Enabled: true, Allow: []string{"203.0.113.0/24"}}
	g, sk := newGuard(t, p, nil)
	run(t, g, sk, []step{
		{name: "stranger", target: "/", ip: "198.51.100.9", wantStatus: 503, wantAction: "block", wantSignal: "emergency_lockdown"},
		{name: "stranger_v6", target: "/", ip: "[2001:db8::1]", wantStatus: 503, wantAction: "block", wantSignal: "emergency_lockdown"},
		{name: "excluded_path", target: "/healthz", ip: "198.51.100.9", wantStatus: 200, wantAction: "allow"},
		{name: "policy_allow_list", target: "/", ip: "192.0.2.3", wantStatus: 200, wantAction: "allow", wantSignal: "allow_list"},
		{name: "emergency_allow_list", target: "/", ip: "203.0.113.5", wantStatus: 200, wantAction: "allow"},
		{name: "emergency_allow_list_still_checked", target: "/?id=1%27%20OR%201=1--", ip: "203.0.113.5", wantStatus: 403, wantAction: "block", wantSignal: "sqli"},
	})
	w := httptest.NewRecorder()
	g.Handler(app).ServeHTTP(w, step{target: "/", ip: "198.51.100.10"}.request())
	if w.Header().Get("Retry-After") == "" {
		t.Errorf("lockdown answer without Retry-After: %v", w.Header())
	}
	p.Emergency = policy.Emergency{}
	p.Version = 2
	if err := g.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	run(t, g, sk, []step{{name: "lifted", target: "/", ip: "198.51.100.9", wantStatus: 200, wantAction: "allow"}})
}

func TestGuardTrustedProxies(t *testing.T) {
	spoof := map[string]string{"X-Forwarded-For": "192.0.2.3, 203.0.113.200"}
	t.Run("untrusted_peer_xff_ignored", func(t *testing.T) {
		g, _ := newGuard(t, policy.Default(), nil)
		v := g.Check(step{target: "/", ip: "198.51.100.1", header: spoof}.request())
		if v.ClientIP != netip.MustParseAddr("198.51.100.1") {
			t.Errorf("client IP %v, want the peer", v.ClientIP)
		}
	})
	t.Run("trusted_peer_rightmost_untrusted", func(t *testing.T) {
		g, _ := newGuard(t, policy.Default(), func(c *vigil.Config) { c.TrustedProxies = []string{"10.0.0.0/8"} })
		v := g.Check(step{target: "/", ip: "10.1.2.3", header: spoof}.request())
		if v.ClientIP != netip.MustParseAddr("203.0.113.200") {
			t.Errorf("client IP %v, want 203.0.113.200", v.ClientIP)
		}
	})
	t.Run("trusted_proxy_never_banned", func(t *testing.T) {
		g, sk := newGuard(t, policy.Default(), func(c *vigil.Config) { c.TrustedProxies = []string{"10.0.0.0/8"} })
		run(t, g, sk, []step{
			{name: "proxy_itself_hits_honeypot", target: "/.env", ip: "10.1.2.3", wantStatus: 403, wantAction: "block"},
			{name: "proxy_not_banned", target: "/", ip: "10.1.2.3", wantStatus: 200, wantAction: "allow"},
		})
	})
}

func TestGuardRequestID(t *testing.T) {
	inbound := map[string]string{"X-Request-Id": "lb-7f3a9c"}
	g, _ := newGuard(t, policy.Default(), nil)
	if v := g.Check(step{target: "/", header: inbound}.request()); v.RequestID == "lb-7f3a9c" {
		t.Error("inbound X-Request-Id trusted without TrustRequestID")
	}
	g, _ = newGuard(t, policy.Default(), func(c *vigil.Config) { c.TrustRequestID = true })
	if v := g.Check(step{target: "/", header: inbound}.request()); v.RequestID != "lb-7f3a9c" {
		t.Errorf("request ID %q, want the trusted inbound one", v.RequestID)
	}
	bad := map[string]string{"X-Request-Id": "<script>"}
	if v := g.Check(step{target: "/", header: bad}.request()); v.RequestID == "<script>" || len(v.RequestID) != 26 {
		t.Errorf("malformed inbound ID kept: %q", v.RequestID)
	}
}

// faultyStore fails or panics on every call.
type faultyStore struct {
	vigil.Store
	panics bool
}

var errStore = errors.New("store unreachable")

func (s faultyStore) Banned(context.Context, netip.Addr, string) (vigil.Ban, bool, error) {
	if s.panics {
		panic("boom")
	}
	return vigil.Ban{}, false, errStore
}
func (s faultyStore) Allow(context.Context, string, vigil.Limit, int) (vigil.Quota, error) {
	return vigil.Quota{}, errStore
}

func TestGuardFaults(t *testing.T) {
	for _, tc := range []struct {
		name       string
		panics     bool
		failClosed bool
		wantStatus int
	}{
		{name: "error_fails_open", wantStatus: 200},
		{name: "panic_fails_open", panics: true, wantStatus: 200},
		{name: "error_fails_closed", failClosed: true, wantStatus: 503},
		{name: "panic_fails_closed", panics: true, failClosed: true, wantStatus: 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hooked []error
			g, sk := newGuard(t, policy.Default(), func(c *vigil.Config) {
				c.Store = faultyStore{Store: vigil.NewMemoryStore(vigil.MemoryStoreConfig{}), panics: tc.panics}
				c.FailClosed = tc.failClosed
				c.OnError = func(_ *http.Request, err error) { hooked = append(hooked, err) }
			})
			w := httptest.NewRecorder()
			g.Handler(app).ServeHTTP(w, step{target: "/"}.request())
			if w.Code != tc.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tc.wantStatus)
			}
			errs := sk.byKind(vigil.EventError)
			if len(errs) == 0 || len(hooked) == 0 {
				t.Fatalf("fault not reported: %d events, %d hook calls", len(errs), len(hooked))
			}
			if errs[0].FailedOpen == tc.failClosed {
				t.Errorf("event failed_open=%v with FailClosed=%v", errs[0].FailedOpen, tc.failClosed)
			}
			if strings.Contains(w.Body.String(), "unreachable") || strings.Contains(w.Body.String(), "boom") {
				t.Errorf("internal error text reached the client: %s", w.Body)
			}
		})
	}
}

func TestGuardSetPolicy(t *testing.T) {
	g, _ := newGuard(t, policy.Default(), nil)
	attack := step{target: "/?q=%3Cscript%3Ealert(1)%3C/script%3E"}
	if v := g.Check(attack.request()); v.Action != vigil.ActionBlock {
		t.Fatalf("block mode: %s", v.Action)
	}
	p := policy.Default()
	p.Mode = policy.ModeMonitor
	p.Version = 2
	if err := g.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	if v := g.Check(attack.request()); v.Action != vigil.ActionAllow || v.WouldBe != vigil.ActionBlock {
		t.Errorf("monitor mode: action %s would-be %s", v.Action, v.WouldBe)
	}
	bad := policy.Default()
	bad.BlockThreshold = 400
	if err := g.SetPolicy(bad); err == nil {
		t.Error("SetPolicy accepted block_threshold 400")
	}
	if g.Policy().Version != 2 {
		t.Errorf("a rejected policy replaced the current one")
	}
	older := policy.Default()
	older.Version = 1
	if err := g.SetPolicy(older); err == nil || g.Policy().Version != 2 {
		t.Errorf("SetPolicy accepted version 1 over version 2 (err %v)", err)
	}
}

func TestGuardEvents(t *testing.T) {
	g, sk := newGuard(t, policy.Default(), nil)
	run(t, g, nil, []step{{name: "echo", method: "POST", target: "/x", body: "hello", header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 200, wantAction: "allow"}})
	evs := sk.byKind(vigil.EventRequest)
	if len(evs) != 1 {
		t.Fatalf("%d request events", len(evs))
	}
	e := evs[0]
	if e.Status != 200 || e.Bytes != 5 || e.Method != "POST" || e.Path != "/x" || e.Verdict.RequestID == "" {
		t.Errorf("event %+v", e)
	}
}

// TestGuardBansIPv6Prefix checks that a honeypot hit from IPv6 bans the client's /64, so
// hopping to another address inside it does not escape.
func TestGuardBansIPv6Prefix(t *testing.T) {
	g, sk := newGuard(t, policy.Default(), nil)
	run(t, g, sk, []step{
		{name: "honeypot_v6", target: "/.git/config", ip: "[2001:db8:1:2::10]", wantStatus: 403, wantAction: "block", wantSignal: "honeypot"},
		{name: "same_64_other_address", target: "/", ip: "[2001:db8:1:2:ffff::1]", wantStatus: 403, wantAction: "block", wantSignal: "banned"},
		{name: "other_64", target: "/", ip: "[2001:db8:1:3::10]", wantStatus: 200, wantAction: "allow"},
	})
	if bans := sk.byKind(vigil.EventBan); len(bans) != 1 || bans[0].Ban.Kind != vigil.BanCIDR || bans[0].Ban.Value != "2001:db8:1:2::/64" {
		t.Errorf("ban events %+v, want one ban of 2001:db8:1:2::/64", bans)
	}
}

// TestGuardHoneypotCrossSite: a page elsewhere can make a visitor's browser fetch a bait
// path (<img src=https://victim/.env>). The request is blocked, but the visitor is not
// banned, or anyone could ban a site's visitors.
func TestGuardHoneypotCrossSite(t *testing.T) {
	g, sk := newGuard(t, policy.Default(), nil)
	img := map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image", "Referer": "https://evil.example/"}
	oldBrowser := map[string]string{"Sec-Fetch-Site": "", "Sec-Fetch-Mode": "", "Sec-Fetch-Dest": "", "Referer": "https://evil.example/page"}
	run(t, g, sk, []step{
		{name: "cross_site_image", target: "/.env", ip: "203.0.113.60", header: img, wantStatus: 403, wantAction: "block", wantSignal: "honeypot"},
		{name: "victim_not_banned", target: "/", ip: "203.0.113.60", wantStatus: 200, wantAction: "allow"},
		{name: "foreign_referer_without_fetch_metadata", target: "/.env", ip: "203.0.113.61", header: oldBrowser, wantStatus: 403, wantAction: "block"},
		{name: "old_browser_not_banned", target: "/", ip: "203.0.113.61", wantStatus: 200, wantAction: "allow"},
		{name: "direct_hit", target: "/.env", ip: "203.0.113.62", header: map[string]string{"Sec-Fetch-Site": "none"}, wantStatus: 403, wantAction: "block"},
		{name: "direct_hit_banned", target: "/", ip: "203.0.113.62", wantStatus: 403, wantAction: "block", wantSignal: "banned"},
	})
}

// TestGuardMonitorWinsOverFailClosed: a guard on trial never takes a site down.
func TestGuardMonitorWinsOverFailClosed(t *testing.T) {
	p := policy.Default()
	p.Mode = policy.ModeMonitor
	g, sk := newGuard(t, p, func(c *vigil.Config) {
		c.Store = faultyStore{Store: vigil.NewMemoryStore(vigil.MemoryStoreConfig{})}
		c.FailClosed = true
	})
	run(t, g, sk, []step{{name: "store_down", target: "/", wantStatus: 200, wantAction: "allow"}})
	evs := sk.byKind(vigil.EventRequest)
	if len(evs) != 1 || evs[0].Verdict.WouldBe != vigil.ActionBlock {
		t.Errorf("request events %+v, want one with would-be block", evs)
	}
	if errs := sk.byKind(vigil.EventError); len(errs) == 0 || !errs[0].FailedOpen {
		t.Errorf("error events %+v, want failed_open", errs)
	}
}

func TestGuardRules(t *testing.T) {
	p := policy.Default()
	p.Rules = []policy.Rule{
		{Name: "no-admin", Match: policy.Match{Paths: []string{"/admin/**"}}, Action: policy.ActionBlock},
		{Name: "trusted-monitor", Match: policy.Match{Headers: map[string]string{"X-Monitor-Token": "^s3cret$"}}, Action: policy.ActionAllow},
		{Name: "api-key-limit", Match: policy.Match{Paths: []string{"/api/**"}}, Action: policy.ActionRateLimit,
			RateLimit: policy.Limit{Rate: 1, Period: policy.Duration(time.Minute)}, Key: "header:X-Api-Key"},
	}
	g, sk := newGuard(t, p, nil)
	long := strings.Repeat("k", 10_000)
	run(t, g, sk, []step{
		{name: "block_rule_says_why", target: "/admin/users", wantStatus: 403, wantAction: "block", wantSignal: "rule:no-admin"},
		{name: "allow_rule_skips_detectors", target: "/?q=%3Cscript%3Ealert(1)%3C/script%3E", header: map[string]string{"X-Monitor-Token": "s3cret"}, wantStatus: 200, wantAction: "allow"},
		{name: "allow_rule_wrong_token", target: "/?q=%3Cscript%3Ealert(1)%3C/script%3E", header: map[string]string{"X-Monitor-Token": "guess"}, wantStatus: 403, wantAction: "block"},
		{name: "key_a_first", target: "/api/items", ip: "192.0.2.1", header: map[string]string{"X-Api-Key": "a"}, wantStatus: 200, wantAction: "allow"},
		{name: "key_a_second_other_ip", target: "/api/items", ip: "192.0.2.2", header: map[string]string{"X-Api-Key": "a"}, wantStatus: 429, wantAction: "ratelimit"},
		{name: "key_b_first", target: "/api/items", ip: "192.0.2.2", header: map[string]string{"X-Api-Key": "b"}, wantStatus: 200, wantAction: "allow"},
		{name: "long_key_first", target: "/api/items", ip: "192.0.2.3", header: map[string]string{"X-Api-Key": long}, wantStatus: 200, wantAction: "allow"},
		{name: "long_key_second", target: "/api/items", ip: "192.0.2.4", header: map[string]string{"X-Api-Key": long}, wantStatus: 429, wantAction: "ratelimit"},
		{name: "long_key_differs_at_end", target: "/api/items", ip: "192.0.2.4", header: map[string]string{"X-Api-Key": long + "x"}, wantStatus: 200, wantAction: "allow"},
	})
}

// TestGuardMethods: a method the policy does not list is blocked (TRACE, CONNECT and
// made-up ones by default; the REST methods pass), a policy can list its own (a WebDAV
// server's PROPFIND), and a route can disable the signal.
func TestGuardMethods(t *testing.T) {
	g, sk := newGuard(t, policy.Default(), nil)
	run(t, g, sk, []step{
		{name: "get", method: "GET", target: "/items", ip: "192.0.2.10", wantStatus: 200, wantAction: "allow"},
		{name: "delete", method: "DELETE", target: "/items/1", ip: "192.0.2.11", wantStatus: 200, wantAction: "allow"},
		{name: "options", method: "OPTIONS", target: "/items", ip: "192.0.2.12", wantStatus: 200, wantAction: "allow"},
		{name: "trace", method: "TRACE", target: "/items", ip: "192.0.2.13", wantStatus: 403, wantAction: "block", wantSignal: vigil.CodeMethodNotAllowed},
		{name: "made_up", method: "FOO", target: "/items", ip: "192.0.2.14", wantStatus: 403, wantAction: "block", wantSignal: vigil.CodeMethodNotAllowed},
		{name: "lower_case_get", method: "get", target: "/items", ip: "192.0.2.15", wantStatus: 403, wantAction: "block", wantSignal: vigil.CodeMethodNotAllowed},
	})

	p := policy.Default()
	p.Methods = []string{"GET", "PROPFIND"}
	p.Routes = []policy.Route{{Name: "debug", Paths: []string{"/debug/**"}, Disable: []string{vigil.CodeMethodNotAllowed}}}
	g, sk = newGuard(t, p, nil)
	run(t, g, sk, []step{
		{name: "listed", method: "PROPFIND", target: "/dav/a", ip: "192.0.2.20", wantStatus: 200, wantAction: "allow"},
		{name: "not_listed", method: "POST", target: "/dav/a", ip: "192.0.2.21", wantStatus: 403, wantAction: "block", wantSignal: vigil.CodeMethodNotAllowed},
		{name: "route_disables", method: "TRACE", target: "/debug/x", ip: "192.0.2.22", wantStatus: 200, wantAction: "allow"},
	})
}

func TestGuardCheckReportsBans(t *testing.T) {
	g, sk := newGuard(t, policy.Default(), nil)
	if v := g.Check(step{target: "/.git/config", ip: "203.0.113.70"}.request()); v.Action != vigil.ActionBlock {
		t.Fatalf("honeypot through Check: %s", v.Action)
	}
	if bans := sk.byKind(vigil.EventBan); len(bans) != 1 {
		t.Errorf("%d ban events from Check, want 1", len(bans))
	}
	if evs := sk.byKind(vigil.EventRequest); len(evs) != 0 {
		t.Errorf("Check recorded %d request events; it writes no response", len(evs))
	}
}

// TestGuardRuleIgnoresPathCase: case-insensitive routers (Express by default, ASP.NET,
// IIS) send "/ADMIN/users" to the "/admin/users" handler, so a block rule on "/admin/**"
// must block it too.
func TestGuardRuleIgnoresPathCase(t *testing.T) {
	p := policy.Default()
	p.Rules = []policy.Rule{
		{Name: "no-admin", Match: policy.Match{Paths: []string{"/admin/**"}}, Action: policy.ActionBlock},
	}
	g, sk := newGuard(t, p, nil)
	run(t, g, sk, []step{
		{name: "upper_case", target: "/ADMIN/users", wantStatus: 403, wantAction: "block", wantSignal: "rule:no-admin"},
		{name: "title_case", target: "/Admin/users", wantStatus: 403, wantAction: "block", wantSignal: "rule:no-admin"},
		{name: "other_path", target: "/ADMINISTRATORS", wantStatus: 200, wantAction: "allow"},
	})
}

// stringWriter is a ResponseWriter that tells Write from WriteString calls.
type stringWriter struct {
	h              http.Header
	writes, writeS int
}

func (w *stringWriter) Header() http.Header               { return w.h }
func (w *stringWriter) Write(b []byte) (int, error)       { w.writes++; return len(b), nil }
func (w *stringWriter) WriteString(s string) (int, error) { w.writeS++; return len(s), nil }
func (w *stringWriter) WriteHeader(int)                   {}

// TestHandlerKeepsWriteString: io.WriteString through the guard reaches the writer's own
// WriteString (net/http's response has one) instead of copying the string to a byte
// slice, and the event still counts the bytes.
func TestHandlerKeepsWriteString(t *testing.T) {
	g, sk := newGuard(t, policy.Default(), nil)
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello, world")
	}))
	w := &stringWriter{h: http.Header{}}
	h.ServeHTTP(w, browserRequest("/"))
	if w.writeS != 1 || w.writes != 0 {
		t.Errorf("writer saw %d WriteString and %d Write calls, want 1 and 0", w.writeS, w.writes)
	}
	evs := sk.byKind(vigil.EventRequest)
	if len(evs) != 1 {
		t.Fatalf("%d request events, want 1", len(evs))
	}
	if e := evs[0]; e.Bytes != int64(len("hello, world")) || e.Status != http.StatusOK {
		t.Errorf("event bytes %d status %d, want %d and 200", e.Bytes, e.Status, len("hello, world"))
	}
}
