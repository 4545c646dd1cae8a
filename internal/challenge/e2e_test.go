package challenge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest/cdp"
)

// protectedMarker is in the protected page and nowhere in the challenge page.
const protectedMarker = "vigil-e2e-protected-content"

// site is a test server that guards every path but the verify endpoint with a
// Challenger, as the guard will: Verify first, then Passed, else Page. Its binding's
// DNA is the User-Agent, which is the same for a browser's navigations and its fetch.
type site struct {
	c   *Challenger
	srv *httptest.Server

	cspEdit [2]string // when set, the challenge page's CSP has [0] replaced by [1]

	mu       sync.Mutex
	served   []time.Time // when a challenge page was served
	verified []time.Time // when a solution was accepted
	passed   int         // requests let through
}

func bindRequest(r *http.Request) Binding {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return Binding{}
	}
	return Bind(ap.Addr(), r.UserAgent())
}

func newSite(t testing.TB, cfg Config, tls bool) *site {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{c: c}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/favicon.ico":
			w.WriteHeader(http.StatusNoContent) // not guarded, so browsers fetching it do not skew the counts
			return
		case "/blank":
			_, _ = w.Write([]byte("<!doctype html><title>blank</title>")) // not guarded: a page for measurements
			return
		}
		b := bindRequest(r)
		rec := &statusRecorder{ResponseWriter: w}
		if c.Verify(rec, r, b) {
			if rec.code == http.StatusNoContent {
				s.mu.Lock()
				s.verified = append(s.verified, time.Now())
				s.mu.Unlock()
			}
			return
		}
		if !c.Passed(r, b, time.Now()) {
			s.mu.Lock()
			s.served = append(s.served, time.Now())
			s.mu.Unlock()
			if s.cspEdit[0] != "" {
				w = &cspEditor{ResponseWriter: w, edit: s.cspEdit}
			}
			c.Page(w, r, b)
			return
		}
		s.mu.Lock()
		s.passed++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>Shop</title></head><body><p id="content">` + protectedMarker + `</p></body></html>`))
	})
	if tls {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	return s
}

// cspEditor changes the Content-Security-Policy header as it is written.
type cspEditor struct {
	http.ResponseWriter
	edit [2]string
}

func (w *cspEditor) WriteHeader(code int) {
	h := w.Header()
	h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), w.edit[0], w.edit[1], 1))
	w.ResponseWriter.WriteHeader(code)
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// e2eTimeout bounds each browser or curl session of the e2e tests.
const e2eTimeout = 30 * time.Second

// ignorable reports whether a browser log line is expected: the network errors for the
// 403 challenge page itself (and the favicon fetched beside it).
func ignorable(line string) bool {
	return strings.HasPrefix(line, "Log.entryAdded ") && strings.Contains(line, `"source":"network"`) &&
		strings.Contains(line, "status of 403")
}

func unexpectedLogs(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !ignorable(l) {
			out = append(out, l)
		}
	}
	return out
}

// solveInBrowser opens url in a fresh browser context (no cookies) and waits until the
// page shows protectedMarker.
func solveInBrowser(t testing.TB, b *cdp.Browser, url string) (dom string, page *cdp.Page, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
	defer cancel()
	page = b.Open(ctx)
	if err := page.Navigate(ctx, url); err != nil {
		t.Fatal(err)
	}
	dom, err = page.WaitFor(ctx, protectedMarker)
	return dom, page, err
}

// TestE2EChromiumSolves is the acceptance test: headless Chromium opens a protected
// page, gets the challenge, solves it with the page's own script and sees the
// protected content, with no script error and no CSP violation, over plain HTTP and
// over TLS. A browser holding a forged pass or an expired one is challenged again; one
// holding a valid pass is not. The pass the browser earned works from the same
// address with the same DNA and not with another DNA.
func TestE2EChromiumSolves(t *testing.T) {
	bin := cdp.Chromium(t)
	for _, tc := range []struct {
		name  string
		tls   bool
		solve int // times to solve, each in a fresh browser context
	}{
		{name: "plain_http", solve: 2},
		{name: "tls", tls: true, solve: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, Config{}, tc.tls)
			b := cdp.Start(t, bin)
			var solved *cdp.Page
			for i := range tc.solve {
				start := time.Now()
				dom, page, err := solveInBrowser(t, b, s.srv.URL+"/shop?x=1")
				solved = page
				if err != nil {
					t.Fatalf("solve %d: the protected content did not appear within %v: %v\nlast DOM:\n%s\nbrowser log:\n%s",
						i, e2eTimeout, err, cdp.Tail(dom, 2000), strings.Join(b.Logs(), "\n"))
				}
				s.mu.Lock()
				served, verified := len(s.served), len(s.verified)
				solveTime := time.Duration(0)
				if verified == i+1 && served >= i+1 {
					solveTime = s.verified[i].Sub(s.served[i])
				}
				s.mu.Unlock()
				if served != i+1 || verified != i+1 {
					t.Errorf("solve %d: %d challenge pages served and %d solutions accepted, want %d of each", i, served, verified, i+1)
				}
				t.Logf("solve %d: difficulty %d, page served → solution accepted %v, navigation → content %v",
					i, DefaultDifficulty, solveTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
			}
			// A browser holding a forged pass, or a genuine one for its binding that
			// has expired, is challenged again, and solves again; one holding a
			// genuine pass that is still valid is not challenged.
			ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
			defer cancel()
			var userAgent string
			if err := b.Open(ctx).Eval(ctx, "navigator.userAgent", &userAgent); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			self := Bind(netip.MustParseAddr("127.0.0.1"), userAgent)
			for _, pc := range []struct {
				name       string
				value      string
				challenged int
			}{
				{name: "forged", value: strings.Repeat("A", passChars), challenged: 1},
				{name: "expired", value: string(s.c.pass(nil, self, now.Add(-time.Second))), challenged: 1},
				{name: "valid", value: string(s.c.pass(nil, self, now.Add(time.Hour))), challenged: 0},
			} {
				ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
				page := b.Open(ctx)
				if err := page.SetCookies(ctx, cdp.Cookie{Name: DefaultCookieName, Value: pc.value, URL: s.srv.URL + "/", HTTPOnly: true}); err != nil {
					t.Fatal(err)
				}
				s.mu.Lock()
				before := len(s.served)
				s.mu.Unlock()
				if err := page.Navigate(ctx, s.srv.URL+"/shop"); err != nil {
					t.Fatal(err)
				}
				_, err := page.WaitFor(ctx, protectedMarker)
				cancel()
				s.mu.Lock()
				challenged := len(s.served) - before
				s.mu.Unlock()
				if err != nil || challenged != pc.challenged {
					t.Errorf("%s pass: challenged %d times, content shown %v; want %d and true", pc.name, challenged, err == nil, pc.challenged)
				}
			}

			if bad := unexpectedLogs(b.Logs()); len(bad) > 0 {
				t.Errorf("browser logged errors (a CSP violation or a script error?):\n%s", strings.Join(bad, "\n"))
			}

			// The pass the browser holds: HttpOnly, SameSite=Lax, Secure over TLS only.
			jar, err := solved.Cookies(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(jar) != 1 || jar[0].Name != DefaultCookieName {
				t.Fatalf("browser cookies: %+v, want one %s", jar, DefaultCookieName)
			}
			ck := jar[0]
			if !ck.HTTPOnly || ck.SameSite != "Lax" || ck.Secure != tc.tls {
				t.Errorf("cookie attributes: HttpOnly %v, SameSite %q, Secure %v; want true, Lax, %v", ck.HTTPOnly, ck.SameSite, ck.Secure, tc.tls)
			}
			// Replayed from the same address: with the browser's DNA (here its
			// User-Agent) the pass works; with another DNA it does not.
			curl := cdp.LookTool(t, "curl")
			for _, rc := range []struct {
				name, ua string
				want     bool
			}{
				{name: "same_dna", ua: userAgent, want: true},
				{name: "other_dna", ua: "curl/8.5.0", want: false},
			} {
				code, body := runCurl(t, curl, s.srv.URL+"/shop", "-A", rc.ua, "-H", "Cookie: "+ck.Name+"="+ck.Value)
				if got := strings.Contains(body, protectedMarker); got != rc.want || (code == 200) != rc.want {
					t.Errorf("%s: replayed pass: status %d, content shown %v; want content %v", rc.name, code, got, rc.want)
				}
			}
		})
	}
}

// TestE2EChromiumPageFallbacks checks what the page does when its environment is
// hostile, by serving it with a changed CSP: without workers it solves on the main
// thread; with its script blocked it shows nothing, and the browser reports the CSP
// violation (which shows that TestE2EChromiumSolves would see one).
func TestE2EChromiumPageFallbacks(t *testing.T) {
	bin := cdp.Chromium(t)
	for _, tc := range []struct {
		name       string
		from, to   string // CSP edit
		wantSolved bool
		wantLog    string
	}{
		{name: "workers_blocked_main_thread_solves", from: "worker-src blob:", to: "worker-src 'none'", wantSolved: true},
		{name: "script_blocked_nothing_happens", from: "script-src 'sha256-", to: "script-src 'sha256-X", wantLog: "Content Security Policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, Config{Difficulty: 14}, false)
			s.cspEdit = [2]string{tc.from, tc.to}
			b := cdp.Start(t, bin)
			ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
			defer cancel()
			page := b.Open(ctx)
			if err := page.Navigate(ctx, s.srv.URL+"/shop"); err != nil {
				t.Fatal(err)
			}
			waitCtx := ctx
			if !tc.wantSolved { // give it the time a solve at this difficulty takes many times over
				var c2 context.CancelFunc
				waitCtx, c2 = context.WithTimeout(ctx, 3*time.Second)
				defer c2()
			}
			dom, err := page.WaitFor(waitCtx, protectedMarker)
			if solved := err == nil; solved != tc.wantSolved {
				t.Errorf("solved %v, want %v\nDOM:\n%s\nbrowser log:\n%s", solved, tc.wantSolved, cdp.Tail(dom, 1500), strings.Join(b.Logs(), "\n"))
			}
			logs := strings.Join(b.Logs(), "\n")
			if tc.wantLog != "" && !strings.Contains(logs, tc.wantLog) {
				t.Errorf("browser log lacks %q:\n%s", tc.wantLog, logs)
			}
		})
	}
}

// TestE2EChromiumHash runs the page's search function in Chromium and compares it
// with Go's SHA-256 for tokens of lengths around the 64-byte block boundaries (one or
// two final blocks), for nonces of 1 to 16 digits and for strides as the workers use
// them. It also logs the single-thread hash rate.
func TestE2EChromiumHash(t *testing.T) {
	bin := cdp.Chromium(t)
	start, end := strings.Index(pageScript, "function pow() {"), strings.Index(pageScript, "\nvar root")
	if start < 0 || end < 0 {
		t.Fatal("pow not found in pageScript")
	}
	pow := pageScript[start:end]
	b := cdp.Start(t, bin)
	ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
	defer cancel()
	page := b.Open(ctx)

	type query struct {
		Token       string `json:"token"`
		Bits        int    `json:"bits"`
		Start, Step int64
	}
	var qs []query
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, n := range []int{0, 1, 45, 46, 54, 55, 56, 63, 64, 65, tokenChars, 119, 120, 127, 128, 200} {
		tok := strings.Repeat(alphabet, 4)[:n]
		qs = append(qs, query{Token: tok, Bits: 8, Start: 0, Step: 1})
		qs = append(qs, query{Token: tok, Bits: 6, Start: 9007199254740000, Step: 1}) // 16 digits
		qs = append(qs, query{Token: tok, Bits: 7, Start: 2, Step: 3})
	}
	js, _ := json.Marshal(qs)
	expr := "(function(){" + pow + "\nvar search = pow(), qs = " + string(js) + ";" +
		"return JSON.stringify(qs.map(function (q) { return search(q.token, q.bits, q.Start, q.Step, 100000); }));})()"
	var out string
	if err := page.Eval(ctx, expr, &out); err != nil {
		t.Fatal(err)
	}
	var got []int64
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %q\nbrowser log:\n%s", err, out, strings.Join(b.Logs(), "\n"))
	}
	var want []int64
	for _, q := range qs {
		x := q.Start
		for leadingZeroBits(sha256.Sum256([]byte(q.Token+strconv.FormatInt(x, 10)))) < q.Bits {
			x += q.Step
		}
		want = append(want, x)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("first solutions, Go vs the page's JavaScript (-want +got):\n%s", diff)
	}

	// Single-thread rate on a real token: no solution at 32 bits is expected in 2^20
	// tries, so this times 2^20 hashes.
	var rate string
	err := page.Eval(ctx, "(function(){"+pow+"\nvar search = pow(), tok = '"+strings.Repeat("A", tokenChars)+"', n = 1 << 20;"+
		"var t = performance.now(); search(tok, 32, 0, 1, n); return String(Math.round(n / ((performance.now() - t) / 1000)));})()", &rate)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page's SHA-256 search: %s hashes/s on one thread; %d cores here", rate, runtime.NumCPU())

	// For comparison, crypto.subtle.digest, one call per candidate, awaited 64 at a
	// time. It exists only in a secure context: http://localhost is one.
	s := newSite(t, Config{}, false)
	if err := page.Navigate(ctx, strings.Replace(s.srv.URL, "127.0.0.1", "localhost", 1)+"/blank"); err != nil {
		t.Fatal(err)
	}
	var subtle string
	for range 100 { // until the navigation has committed
		if err := page.Eval(ctx, `(async function () {
	if (!window.crypto || !crypto.subtle) return "";
	var enc = new TextEncoder(), tok = "`+strings.Repeat("A", tokenChars)+`", n = 1 << 16, t = performance.now();
	for (var i = 0; i < n; i += 64) {
		var ps = [];
		for (var j = 0; j < 64; j++) ps.push(crypto.subtle.digest("SHA-256", enc.encode(tok + (i + j))));
		await Promise.all(ps);
	}
	return String(Math.round(n / ((performance.now() - t) / 1000)));
})()`, &subtle); err != nil {
			t.Fatal(err)
		}
		if subtle != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("crypto.subtle.digest: %s hashes/s on the main thread", subtle)
}

// BenchmarkChromiumSolve measures what a visitor waits for: from the challenge page
// being served to the solution being accepted, in headless Chromium, each solve in a
// fresh browser context. It reports the median and the slowest solve besides the mean
// (ns/op); the solves' number is geometrically distributed, so use -benchtime=9x or
// more:
//
//	go test ./internal/challenge -run '^$' -bench ChromiumSolve -benchtime 9x
func BenchmarkChromiumSolve(b *testing.B) {
	bin := cdp.Chromium(b)
	for _, d := range []int{16, 18, DefaultDifficulty, 22} {
		b.Run("difficulty_"+strconv.Itoa(d), func(b *testing.B) {
			s := newSite(b, Config{Difficulty: d}, false)
			br := cdp.Start(b, bin)
			var solves []time.Duration
			for b.Loop() {
				if _, _, err := solveInBrowser(b, br, s.srv.URL+"/shop"); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			s.mu.Lock()
			for i := range s.verified {
				solves = append(solves, s.verified[i].Sub(s.served[i]))
			}
			s.mu.Unlock()
			slices.Sort(solves)
			b.ReportMetric(float64(solves[len(solves)/2].Milliseconds()), "median-ms")
			b.ReportMetric(float64(solves[len(solves)-1].Milliseconds()), "max-ms")
		})
	}
}

// runCurl fetches url with curl (bounded) and returns the status and body.
func runCurl(t *testing.T, curl, url string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eTimeout)
	defer cancel()
	args = append([]string{"-sS", "-k", "-m", "20", "-o", "-", "-w", "\n%{http_code}"}, args...)
	cmd := exec.CommandContext(ctx, curl, append(args, url)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	i := bytes.LastIndexByte(out, '\n')
	code, err := strconv.Atoi(string(out[i+1:]))
	if err != nil {
		t.Fatalf("curl status %q: %v", out[i+1:], err)
	}
	return code, string(out[:i])
}

// TestE2ECurl checks the other half of the acceptance test: curl, which runs no
// JavaScript, gets the challenge and never the content, following redirects and
// keeping cookies; a forged cookie, an expired one, and one for another address or
// DNA are all refused; a valid pass for curl's own address and DNA works, which shows
// the refusals are the pass's doing.
func TestE2ECurl(t *testing.T) {
	curl := cdp.LookTool(t, "curl")
	const ua = "vigil-e2e-curl"
	s := newSite(t, Config{}, false)
	self := Bind(netip.MustParseAddr("127.0.0.1"), ua)
	now := time.Now()
	cookie := func(b Binding, exp time.Time) string {
		return DefaultCookieName + "=" + string(s.c.pass(nil, b, exp))
	}
	valid := cookie(self, now.Add(time.Hour))
	forged := valid[:len(valid)-2] + map[bool]string{true: "AA", false: "AQ"}[strings.HasSuffix(valid, "AQ")]
	jar := t.TempDir() + "/jar"
	for _, tc := range []struct {
		name    string
		args    []string
		content bool
	}{
		{name: "no_cookie", args: []string{"-L", "-c", jar, "-b", jar}},
		{name: "no_cookie_again_with_jar", args: []string{"-L", "-c", jar, "-b", jar}},
		{name: "as_browser", args: []string{"-H", "Accept: text/html", "-A", "Mozilla/5.0 (X11; Linux x86_64) Chrome/142.0.0.0"}},
		{name: "forged_cookie", args: []string{"-H", "Cookie: " + forged}},
		{name: "made_up_cookie", args: []string{"-H", "Cookie: " + DefaultCookieName + "=" + strings.Repeat("A", passChars)}},
		{name: "expired_cookie", args: []string{"-H", "Cookie: " + cookie(self, now.Add(-time.Second))}},
		{name: "cookie_for_another_address", args: []string{"-H", "Cookie: " + cookie(Bind(netip.MustParseAddr("203.0.113.9"), ua), now.Add(time.Hour))}},
		{name: "cookie_for_another_dna", args: []string{"-H", "Cookie: " + cookie(Bind(netip.MustParseAddr("127.0.0.1"), "Mozilla/5.0"), now.Add(time.Hour))}},
		{name: "valid_cookie", args: []string{"-H", "Cookie: " + valid}, content: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-A", ua}, tc.args...)
			code, body := runCurl(t, curl, s.srv.URL+"/shop", args...)
			if got := strings.Contains(body, protectedMarker); got != tc.content {
				t.Errorf("content shown %v, want %v (status %d)", got, tc.content, code)
			}
			wantCode := http.StatusForbidden
			if tc.content {
				wantCode = http.StatusOK
			}
			if code != wantCode {
				t.Errorf("status %d, want %d", code, wantCode)
			}
			if !tc.content && !strings.Contains(body, `id="vigil-challenge"`) {
				t.Errorf("not the challenge page:\n%s", cdp.Tail(body, 500))
			}
		})
	}
	// A client that cannot run the page can still post a guess: it is refused.
	code, body := runCurl(t, curl, s.srv.URL+DefaultPath, "-A", ua, "-d", "token="+string(s.c.issue(nil, self, now))+"&nonce=1")
	if code != http.StatusForbidden || body != "wrong solution\n" && body != "" {
		t.Errorf("guessed solution: status %d %q, want 403", code, body)
	}
}
