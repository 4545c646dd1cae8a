package vigil_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/challenge"
	"github.com/vigilhq/vigil/internal/selfsigned"
	"github.com/vigilhq/vigil/internal/vigiltest/cdp"
	"github.com/vigilhq/vigil/policy"
)

// The end-to-end test of the challenge through the public guard: vigil.New with a
// policy whose rule challenges /members/**, g.Handler around an application, served by
// a plain httptest server (the pass is bound to IP and User-Agent) and by a
// fingerprint.Server in listener mode (bound to IP, User-Agent and the stable part of
// the JA4 the guard saw), driven by headless Chromium and curl.
//
// Not covered: the verified-crawler bypass. It needs a crawler's reverse and forward
// DNS to agree, and vigil.Config has no resolver to fake them with; here a claimed
// crawler is only checked not to get in.

// membersMarker is in the protected pages and nowhere in the challenge page.
const membersMarker = "vigil-e2e-members-only"

// e2eSecret is the guard's ChallengeSecret; the test mints passes with it.
var e2eSecret = strings.Repeat("vigil-e2e-secret/", 2)

// e2eTimeout bounds each browser session and curl run; generous, for a loaded 2-core
// machine where a solve takes a second or two.
const e2eTimeout = 45 * time.Second

// hit is one request as the site saw it from outside the guard.
type hit struct {
	Method, Path, UA string
	Status           int
	Action           string // X-Vigil-Action
	JA4              string // the JA4 of the verdict, when the guard had one (TLS) and decided with it
}

// e2eSite is the guard and the application behind it, on one server.
type e2eSite struct {
	url   string
	tls   bool
	conns *trackingListener // TLS only: the listener, to close its connections

	mu   sync.Mutex
	hits []*hit
}

type hitKey struct{}

func newE2ESite(t *testing.T, useTLS bool) *e2eSite {
	t.Helper()
	s := &e2eSite{tls: useTLS}
	p := policy.Default()
	p.Rules = []policy.Rule{{Name: "members", Match: policy.Match{Paths: []string{"/members/**"}}, Action: policy.ActionChallenge}}
	g, err := vigil.New(vigil.Config{
		Policy:          p,
		ChallengeSecret: e2eSecret,
		OnBlock: func(r *http.Request, v *vigil.Verdict) {
			if h, ok := r.Context().Value(hitKey{}).(*hit); ok && v.DNA.TLS != nil {
				h.JA4 = v.DNA.TLS.JA4
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := r.Context().Value(hitKey{}).(*hit); ok {
			if v := vigil.VerdictFrom(r.Context()); v != nil && v.DNA.TLS != nil {
				h.JA4 = v.DNA.TLS.JA4
			}
		}
		switch {
		case r.URL.Path == "/members/api":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"content":"`+membersMarker+`"}`)
		case strings.HasPrefix(r.URL.Path, "/members/"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, `<!doctype html><html><head><title>Members</title></head><body><p id="content">`+
				membersMarker+` at `+r.URL.Path+`</p></body></html>`)
		default: // the favicon, and anything else a browser asks for
			w.WriteHeader(http.StatusNoContent)
		}
	})
	h := s.record(g.Handler(app))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !useTLS {
		srv := httptest.NewUnstartedServer(h)
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
		s.url = srv.URL
		return s
	}
	cert, err := selfsigned.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	s.conns = &trackingListener{Listener: ln, conns: map[net.Conn]struct{}{}}
	fs := &fingerprint.Server{HTTP: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
	}}
	served := make(chan error, 1)
	go func() { served <- fs.Serve(s.conns) }()
	t.Cleanup(func() {
		_ = fs.Close()
		if err := <-served; !errors.Is(err, fingerprint.ErrServerClosed) {
			t.Errorf("fingerprint.Server.Serve: %v", err)
		}
	})
	s.url = "https://" + ln.Addr().String()
	return s
}

// record wraps the guard's handler and logs every request with the guard's answer.
func (s *e2eSite) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := &hit{Method: r.Method, Path: r.URL.Path, UA: r.UserAgent()}
		rec := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), hitKey{}, h)))
		h.Status, h.Action = rec.code, w.Header().Get("X-Vigil-Action")
		if h.Status == 0 {
			h.Status = http.StatusOK
		}
		s.mu.Lock()
		s.hits = append(s.hits, h)
		s.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// mark returns a position in the request log, for since.
func (s *e2eSite) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.hits)
}

// since returns copies of the requests logged after mark m.
func (s *e2eSite) since(m int) []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hit
	for _, h := range s.hits[m:] {
		out = append(out, *h)
	}
	return out
}

// challenges counts the requests in hs that the guard answered with a challenge.
func challenges(hs []hit) int {
	n := 0
	for _, h := range hs {
		if h.Action == string(vigil.ActionChallenge) {
			n++
		}
	}
	return n
}

func describe(hs []hit) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString("\n  " + h.Method + " " + h.Path + " → " + strconv.Itoa(h.Status) + " " + h.Action + " ja4=" + h.JA4 + " ua=" + h.UA)
	}
	return b.String()
}

// lastJA4 returns the JA4 of the last request in hs that has one.
func lastJA4(hs []hit) string {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].JA4 != "" {
			return hs[i].JA4
		}
	}
	return ""
}

// trackingListener remembers the connections it accepted so that a test can close
// them all, making the client open new ones (and resume its TLS sessions).
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns[c] = struct{}{}
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) closeAll() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.conns)
	for c := range l.conns {
		_ = c.Close()
		delete(l.conns, c)
	}
	return n
}

// TestE2EChallengeGuard is the acceptance test of the challenge: headless Chromium
// solves it and gets through, later navigations and fetches pass without a new
// challenge; curl gets the challenge and never the content; a forged pass, a pass
// carried to another binding (User-Agent, IP prefix, TLS stack) and an expired pass
// are refused. Over plain HTTP and over TLS in listener mode.
func TestE2EChallengeGuard(t *testing.T) {
	chromium := cdp.Chromium(t)
	curl := cdp.LookTool(t, "curl")
	b := cdp.Start(t, chromium)
	for _, tc := range []struct {
		name string
		tls  bool
	}{
		{name: "plain_http"},
		{name: "tls_listener_mode", tls: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newE2ESite(t, tc.tls)
			// An expired pass, minted now for curl's binding over plain HTTP, to be
			// tried at the end when it has run out.
			var expired string
			var mintedAt time.Time
			if !tc.tls {
				mintedAt = time.Now()
				expired = mintPass(t, challenge.Bind(netip.MustParseAddr("127.0.0.1"), curlUA), time.Second)
			}
			pass, userAgent := testBrowser(t, b, s)
			testCurl(t, curl, s, pass, userAgent)
			if tc.tls {
				testTLSBinding(t, curl, s)
				return
			}
			t.Run("curl_expired_pass", func(t *testing.T) {
				// Wait until the pass has expired: its expiry is whole Unix seconds,
				// at most mintedAt+1s.
				if d := time.Until(mintedAt.Add(time.Second)); d > 0 {
					select {
					case <-time.After(d):
					case <-t.Context().Done():
						t.Fatal(t.Context().Err())
					}
				}
				valid := mintPass(t, challenge.Bind(netip.MustParseAddr("127.0.0.1"), curlUA), time.Hour)
				for _, c := range []struct {
					name, pass string
					content    bool
				}{{"expired", expired, false}, {"unexpired_control", valid, true}} {
					r := runCurl(t, curl, s.url+"/members/home", "-A", curlUA, "-H", "Accept: text/html", "-H", "Cookie: __vigil_pass="+c.pass)
					if got := strings.Contains(r.body, membersMarker); got != c.content {
						t.Errorf("%s pass: status %d %s, content shown %v, want %v", c.name, r.status, r.header.Get("X-Vigil-Action"), got, c.content)
					}
				}
			})
		})
	}
}

// testBrowser drives Chromium through the challenge and the pass's reuse and returns
// the pass it earned and its User-Agent.
func testBrowser(t *testing.T, b *cdp.Browser, s *e2eSite) (pass cdp.Cookie, userAgent string) {
	ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
	defer cancel()
	page := b.Open(ctx)
	if err := page.Eval(ctx, "navigator.userAgent", &userAgent); err != nil {
		t.Fatal(err)
	}

	// The first navigation gets the interstitial, whose script solves it, posts the
	// solution and reloads into the page.
	m := s.mark()
	start := time.Now()
	if err := page.Navigate(ctx, s.url+"/members/home?from=e2e"); err != nil {
		t.Fatal(err)
	}
	if dom, err := page.WaitFor(ctx, membersMarker+" at /members/home"); err != nil {
		t.Fatalf("the protected content did not appear: %v\nrequests:%s\nlast DOM:\n%s\nbrowser log:\n%s",
			err, describe(s.since(m)), cdp.Tail(dom, 2000), strings.Join(b.Logs(), "\n"))
	}
	hs := s.since(m)
	var sawPage, sawVerify, sawContent bool
	for _, h := range hs {
		switch {
		case h.Path == "/members/home" && h.Status == http.StatusForbidden && h.Action == "challenge":
			sawPage = !sawContent
		case h.Path == challenge.DefaultPath && h.Method == http.MethodPost && h.Status == http.StatusNoContent:
			sawVerify = sawPage
		case h.Path == "/members/home" && h.Status == http.StatusOK && h.Action == "allow":
			sawContent = sawVerify
		}
	}
	if !sawPage || !sawVerify || !sawContent || challenges(hs) != 1 {
		t.Fatalf("want challenge page, then solution accepted, then content, and one challenge; got:%s", describe(hs))
	}
	t.Logf("challenge solved: navigation → content in %v", time.Since(start).Round(time.Millisecond))

	jar, err := page.Cookies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range jar {
		if c.Name == "__vigil_pass" {
			pass = c
		}
	}
	if pass.Value == "" || !pass.HTTPOnly || pass.SameSite != "Lax" || pass.Secure != s.tls {
		t.Errorf("pass cookie %+v: want __vigil_pass, HttpOnly, SameSite Lax, Secure %v", pass, s.tls)
	}

	// Later navigations and the page's fetches pass without a new challenge.
	m = s.mark()
	if err := page.Navigate(ctx, s.url+"/members/orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := page.WaitFor(ctx, membersMarker+" at /members/orders"); err != nil {
		t.Errorf("second navigation: %v%s", err, describe(s.since(m)))
	}
	var fetched string
	if err := page.Eval(ctx, `fetch("/members/api").then(async r => r.status + " " + r.headers.get("X-Vigil-Action") + " " + await r.text())`, &fetched); err != nil {
		t.Fatal(err)
	}
	if want := `200 allow {"content":"` + membersMarker + `"}`; fetched != want {
		t.Errorf("fetch from the page: %q, want %q", fetched, want)
	}
	if n := challenges(s.since(m)); n != 0 {
		t.Errorf("%d challenges after solving, want none:%s", n, describe(s.since(m)))
	}

	// Over TLS, new connections resume the TLS session, whose ClientHello has other
	// extensions; the pass must still hold.
	if s.tls {
		t.Run("browser_new_connections", func(t *testing.T) {
			before := lastJA4(s.since(0))
			n := s.conns.closeAll()
			m := s.mark()
			if err := page.Navigate(ctx, s.url+"/members/after-reconnect"); err != nil {
				t.Fatal(err)
			}
			if _, err := page.WaitFor(ctx, membersMarker+" at /members/after-reconnect"); err != nil {
				t.Fatalf("after closing %d connections: %v%s", n, err, describe(s.since(m)))
			}
			hs := s.since(m)
			if challenges(hs) != 0 {
				t.Errorf("after closing %d connections the browser was challenged again:%s", n, describe(hs))
			}
			if after := lastJA4(hs); after == before {
				t.Errorf("JA4 %q before and after reconnecting: the browser did not resume its TLS session, so this tests nothing", after)
			}
		})
	}

	if err := page.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// Fresh browser contexts (empty jars, new connections) with a pass put in the jar:
	// the earned one works; a forged one, or the earned one sent with another
	// User-Agent, gets the challenge. (The test does not wait for the browser to
	// solve it again: the first solve showed that it can.)
	forged := forge(pass.Value)
	for _, pc := range []struct {
		name       string
		value      string
		ua         string // a User-Agent override; empty keeps the browser's
		challenged int
	}{
		{name: "earned_pass_new_jar", value: pass.Value},
		{name: "forged_pass", value: forged, challenged: 1},
		{name: "earned_pass_other_user_agent", value: pass.Value, ua: strings.Replace(userAgent, "HeadlessChrome/", "Chrome/", 1) + " e2e", challenged: 1},
	} {
		t.Run("browser_"+pc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
			defer cancel()
			page := b.Open(ctx)
			if pc.ua != "" {
				if err := page.Call(ctx, "Emulation.setUserAgentOverride", map[string]any{"userAgent": pc.ua}, nil); err != nil {
					t.Fatal(err)
				}
			}
			c := cdp.Cookie{Name: pass.Name, Value: pc.value, URL: s.url + "/", HTTPOnly: true, Secure: s.tls, SameSite: "Lax"}
			if err := page.SetCookies(ctx, c); err != nil {
				t.Fatal(err)
			}
			m := s.mark()
			if err := page.Navigate(ctx, s.url+"/members/"+pc.name); err != nil {
				t.Fatal(err)
			}
			content := membersMarker + " at /members/" + pc.name
			dom, err := page.WaitFor(ctx, content, `id="vigil-challenge"`)
			if err != nil {
				t.Fatalf("neither the content nor the challenge appeared: %v%s", err, describe(s.since(m)))
			}
			hs := s.since(m)
			if len(hs) == 0 {
				t.Fatal("the site saw no request")
			}
			if first := hs[0]; first.Path != "/members/"+pc.name || (first.Action == "challenge") != (pc.challenged > 0) ||
				challenges(hs) != pc.challenged || pc.challenged == 0 && !strings.Contains(dom, content) {
				t.Errorf("want %d challenges and then the content:%s", pc.challenged, describe(hs))
			}
			if pc.ua != "" {
				for _, h := range hs {
					if h.UA != pc.ua {
						t.Errorf("request with User-Agent %q, want the override %q", h.UA, pc.ua)
					}
				}
			}
			if err := page.Close(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	if bad := unexpectedBrowserLogs(b.Logs()); len(bad) > 0 {
		t.Errorf("browser logged errors (a CSP violation or a script error?):\n%s", strings.Join(bad, "\n"))
	}
	return pass, userAgent
}

// forge returns pass with one character of its HMAC changed: still well-formed
// base64url of the right length, so only the HMAC check can refuse it.
func forge(pass string) string {
	i := len(pass) - 5 // the last character holds padding bits; this one is all HMAC
	c := "A"
	if pass[i] == 'A' {
		c = "B"
	}
	return pass[:i] + c + pass[i+1:]
}

// unexpectedBrowserLogs drops the expected lines: the network errors for the 403
// challenge pages.
func unexpectedBrowserLogs(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "Log.entryAdded ") && strings.Contains(l, `"source":"network"`) && strings.Contains(l, "status of 403") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// curlUA is the User-Agent curl sends in the tests, so that passes can be minted for it.
const curlUA = "vigil-e2e-curl/1.0"

// testCurl checks what curl gets: the challenge, never the content, whatever it does
// short of solving; and the browser's pass replayed from curl.
func testCurl(t *testing.T, curl string, s *e2eSite, pass cdp.Cookie, browserUA string) {
	jar := filepath.Join(t.TempDir(), "jar")
	navigation := []string{"-H", "Accept: text/html,application/xhtml+xml,*/*;q=0.8"}
	withPass := func(value string) []string { return []string{"-H", "Cookie: " + pass.Name + "=" + value} }
	forged := forge(pass.Value)

	type want int
	const (
		wantPage    want = iota + 1 // the challenge page: 403, HTML, X-Vigil-Action challenge
		wantProblem                 // 403 application/problem+json, X-Vigil-Action challenge
		wantStopped                 // 403 of any kind: challenged or blocked, never the content
		wantContent                 // 200 and the content
	)
	// Over TLS, curl sending a Chromium User-Agent is blocked outright: its TLS stack
	// contradicts the User-Agent (spoofed_client). overTLS says what to expect then.
	type curlCase struct {
		name    string
		args    []string
		want    want
		overTLS want // when not zero, want over TLS
	}
	cases := []curlCase{
		{name: "navigation", args: append([]string{"-A", curlUA}, navigation...), want: wantPage},
		{name: "navigation_following_redirects_with_jar", args: append([]string{"-A", curlUA, "-L", "-c", jar, "-b", jar}, navigation...), want: wantPage},
		{name: "again_with_jar", args: append([]string{"-A", curlUA, "-L", "-c", jar, "-b", jar}, navigation...), want: wantPage},
		{name: "default_accept", args: []string{"-A", curlUA}, want: wantProblem},
		{name: "curl_user_agent", args: navigation, want: wantPage},
		{name: "forged_pass", args: append(append([]string{"-A", browserUA}, navigation...), withPass(forged)...), want: wantPage, overTLS: wantStopped},
		{name: "made_up_pass", args: append(append([]string{"-A", curlUA}, navigation...), withPass(strings.Repeat("A", len(pass.Value)))...), want: wantPage},
		{name: "browser_pass_curl_user_agent", args: append(append([]string{"-A", curlUA}, navigation...), withPass(pass.Value)...), want: wantPage},
		{name: "browser_pass_from_another_address", args: append(append([]string{"-A", browserUA, "--interface", "127.0.0.2"}, navigation...), withPass(pass.Value)...), want: wantPage, overTLS: wantStopped},
		// A crawler's claim is not verified here (see the file's comment): it is
		// challenged like anyone, or blocked once its DNS check has failed.
		{name: "claimed_googlebot", args: append([]string{"-A", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, navigation...), want: wantStopped},
	}
	if s.tls {
		// Same address and User-Agent, other TLS stack: the pass is bound to the JA4.
		cases = append(cases, curlCase{name: "browser_pass_browser_user_agent_other_tls_stack", args: append(append([]string{"-A", browserUA}, navigation...), withPass(pass.Value)...), want: wantStopped})
	} else {
		// Over plain HTTP the pass is bound to address and User-Agent only: replayed
		// with both it works (the control for the refusals above).
		cases = append(cases, curlCase{name: "browser_pass_browser_user_agent", args: append(append([]string{"-A", browserUA}, navigation...), withPass(pass.Value)...), want: wantContent})
	}
	for _, tc := range cases {
		if s.tls && tc.overTLS != 0 {
			tc.want = tc.overTLS
		}
		t.Run("curl_"+tc.name, func(t *testing.T) {
			m := s.mark()
			r := runCurl(t, curl, s.url+"/members/home", tc.args...)
			action := r.header.Get("X-Vigil-Action")
			if got := strings.Contains(r.body, membersMarker); got != (tc.want == wantContent) {
				t.Errorf("content shown %v, want %v (status %d, action %s)", got, tc.want == wantContent, r.status, action)
			}
			switch tc.want {
			case wantContent:
				if r.status != http.StatusOK || action != "allow" {
					t.Errorf("status %d, action %q; want 200 allow", r.status, action)
				}
			case wantStopped:
				if r.status != http.StatusForbidden || action != "challenge" && action != "block" {
					t.Errorf("status %d, action %q; want 403 challenge or block", r.status, action)
				}
			case wantPage, wantProblem:
				if r.status != http.StatusForbidden || action != "challenge" {
					t.Errorf("status %d, action %q; want 403 challenge", r.status, action)
				}
				if r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Request-Id") == "" {
					t.Errorf("Cache-Control %q, X-Request-Id %q; want no-store and an ID", r.header.Get("Cache-Control"), r.header.Get("X-Request-Id"))
				}
			}
			switch ct := r.header.Get("Content-Type"); tc.want {
			case wantPage:
				if ct != "text/html; charset=utf-8" || !strings.Contains(r.body, `id="vigil-challenge"`) ||
					!strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'sha256-") {
					t.Errorf("not the challenge page: Content-Type %q, CSP %q\n%s", ct, r.header.Get("Content-Security-Policy"), cdp.Tail(r.body, 300))
				}
			case wantProblem:
				if ct != "application/problem+json" || !strings.Contains(r.body, `"status":403`) {
					t.Errorf("not a problem document: Content-Type %q\n%s", ct, r.body)
				}
			}
			if t.Failed() {
				t.Logf("requests:%s", describe(s.since(m)))
			}
		})
	}
}

// testTLSBinding checks that the pass is bound to the TLS stack, all else equal: Go's
// HTTP client solves the challenge (in Go, as the page's script would), and the pass it
// gets works for it on a new connection but not for curl with the same User-Agent
// from the same address. Then it checks that the pass survives the Go client resuming
// its TLS session.
func testTLSBinding(t *testing.T, curl string, s *e2eSite) {
	const ua = "vigil-e2e-go/1.0"
	newClient := func(jar http.CookieJar, sessions tls.ClientSessionCache) *http.Client {
		return &http.Client{Jar: jar, Timeout: e2eTimeout, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ClientSessionCache: sessions},
		}}
	}
	get := func(t *testing.T, c *http.Client, path string, header http.Header) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		req.Header.Set("User-Agent", ua)
		req.Header.Set("Accept", "text/html")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions := tls.NewLRUClientSessionCache(8)
	client := newClient(jar, sessions)
	defer client.CloseIdleConnections()

	goStart := s.mark()
	res, page := get(t, client, "/members/go", nil)
	tok := regexp.MustCompile(`data-token="([^"]+)"`).FindStringSubmatch(page)
	bits := regexp.MustCompile(`data-bits="([0-9]+)"`).FindStringSubmatch(page)
	if res.StatusCode != http.StatusForbidden || tok == nil || bits == nil {
		t.Fatalf("Go client: %d %s, want the challenge page", res.StatusCode, res.Header.Get("X-Vigil-Action"))
	}
	difficulty, _ := strconv.Atoi(bits[1])
	form := url.Values{"token": {tok[1]}, "nonce": {solve(tok[1], difficulty)}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+challenge.DefaultPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	vres, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	vres.Body.Close()
	if vres.StatusCode != http.StatusNoContent {
		t.Fatalf("solution: %d, want 204", vres.StatusCode)
	}
	u, _ := url.Parse(s.url)
	var pass string
	for _, c := range jar.Cookies(u) {
		if c.Name == "__vigil_pass" {
			pass = c.Value
		}
	}
	if pass == "" {
		t.Fatal("no pass after solving")
	}
	cookie := http.Header{"Cookie": {"__vigil_pass=" + pass}}

	t.Run("go_pass_new_connection", func(t *testing.T) {
		c := newClient(nil, tls.NewLRUClientSessionCache(8)) // no jar, an empty session cache: a full handshake
		defer c.CloseIdleConnections()
		m := s.mark()
		if res, body := get(t, c, "/members/go", cookie); res.StatusCode != http.StatusOK || !strings.Contains(body, membersMarker) {
			t.Errorf("the Go client's pass on a new connection: %d %s, want 200 and the content:%s", res.StatusCode, res.Header.Get("X-Vigil-Action"), describe(s.since(m)))
		}
	})
	t.Run("go_pass_from_curl", func(t *testing.T) {
		m := s.mark()
		r := runCurl(t, curl, s.url+"/members/go", "-A", ua, "-H", "Accept: text/html", "-H", "Cookie: __vigil_pass="+pass)
		if r.status != http.StatusForbidden || r.header.Get("X-Vigil-Action") != "challenge" || strings.Contains(r.body, membersMarker) {
			t.Errorf("the Go client's pass from curl: %d %s, want 403 challenge:%s", r.status, r.header.Get("X-Vigil-Action"), describe(s.since(m)))
		}
	})
	t.Run("go_pass_resumed_session", func(t *testing.T) {
		client.CloseIdleConnections()
		s.conns.closeAll()
		m := s.mark()
		res, body := get(t, client, "/members/go", nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, membersMarker) {
			t.Errorf("after resuming its TLS session, the Go client got %d %s, want 200 and the content:%s", res.StatusCode, res.Header.Get("X-Vigil-Action"), describe(s.since(m)))
		}
		if first := lastJA4(s.since(goStart)[:1]); lastJA4(s.since(m)) == first {
			t.Errorf("JA4 %q on the first and the resumed connection: the client did not resume, so this tests nothing", first)
		}
	})
}

// mintPass returns a pass for binding b valid for ttl, made as the guard makes one:
// a Challenger with the guard's secret verifies a solution of its own challenge.
func mintPass(t *testing.T, b challenge.Binding, ttl time.Duration) string {
	t.Helper()
	c, err := challenge.New(challenge.Config{Secret: []byte(e2eSecret), Difficulty: 1, PassTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	c.Page(rec, httptest.NewRequest(http.MethodGet, "/", nil), b)
	tok := regexp.MustCompile(`data-token="([^"]+)"`).FindStringSubmatch(rec.Body.String())
	if tok == nil {
		t.Fatal("no token in the challenge page")
	}
	req := httptest.NewRequest(http.MethodPost, c.Path(), strings.NewReader(url.Values{"token": {tok[1]}, "nonce": {solve(tok[1], 1)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	if !c.Verify(rec, req, b) || rec.Code != http.StatusNoContent {
		t.Fatalf("minting a pass: %d %s", rec.Code, rec.Body)
	}
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == c.CookieName() {
			return ck.Value
		}
	}
	t.Fatal("no pass cookie set")
	return ""
}

type curlResult struct {
	status int
	header http.Header // of the last response, when curl followed redirects
	body   string
}

// runCurl fetches url with curl (bounded; certificates not checked) and returns the
// last response.
func runCurl(t *testing.T, curl, url string, args ...string) curlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
	defer cancel()
	headers := filepath.Join(t.TempDir(), "headers")
	args = append([]string{"-sS", "-k", "-m", "20", "-D", headers, "-o", "-"}, args...)
	cmd := exec.CommandContext(ctx, curl, append(args, url)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("curl: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("curl: %v", err)
	}
	raw, err := os.ReadFile(headers)
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimRight(string(raw), "\r\n"), "\r\n\r\n")
	tp := textproto.NewReader(bufio.NewReader(strings.NewReader(blocks[len(blocks)-1] + "\r\n\r\n")))
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatalf("curl headers %q: %v", raw, err)
	}
	r := curlResult{body: string(out)}
	if f := strings.Fields(line); len(f) >= 2 {
		r.status, _ = strconv.Atoi(f[1])
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("curl headers %q: %v", raw, err)
	}
	r.header = http.Header(mh)
	return r
}
