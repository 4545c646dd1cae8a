package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/internal/studio"
	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/policy"
)

// The dashboard user every test signs in as.
const (
	adminName     = "root"
	adminPassword = "correct horse battery staple"
)

// stepTimeout bounds one browser step (a click, a wait for an element).
const stepTimeout = 20 * time.Second

// env is one test's world: Studio, a protected application reporting to it, and a
// browser tab.
type env struct {
	t *testing.T

	studio  *httptest.Server
	st      *store.Store
	project int64
	ingest  string // the project's ingest key
	admin   string // the project's admin key

	app   *httptest.Server // the protected application, behind a trusted proxy
	guard *vigil.Guard
	agent *agent.Agent

	ctx    context.Context // the browser tab
	shotN  int
	shotTo string // VIGIL_SCREENSHOTS, or ""
}

// chromiumPath finds the browser, or skips the test (fails it under CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("VIGIL_CHROMIUM")
	if path == "" {
		if p, err := exec.LookPath("chromium"); err == nil {
			path = p
		} else {
			path = "/usr/bin/chromium"
		}
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium is required under CI (.ci/run installs Debian's chromium): %v", err)
		}
		t.Skipf("no Chromium (%v): install Debian's chromium or set VIGIL_CHROMIUM", err)
	}
	return path
}

// newEnv starts Studio, the protected application with its agent, and Chromium.
func newEnv(t *testing.T) *env {
	t.Helper()
	chromium := chromiumPath(t)
	e := &env{t: t, shotTo: os.Getenv("VIGIL_SCREENSHOTS")}
	if e.shotTo != "" {
		if err := os.MkdirAll(e.shotTo, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.startStudio()
	e.startApp()
	e.startBrowser(chromium)
	return e
}

var pepper = []byte("browsertest-pepper-0123456789abcdef0123456789")

func (e *env) startStudio() {
	t := e.t
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "studio.db"), store.Options{Pepper: pepper})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := studio.New(studio.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("studio Run: %v", err)
		}
	})
	p, err := st.CreateProject(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if e.ingest, _, err = st.CreateKey(ctx, p.ID, store.ScopeIngest); err != nil {
		t.Fatal(err)
	}
	if e.admin, _, err = st.CreateKey(ctx, p.ID, store.ScopeAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, adminName, adminPassword, store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	e.studio, e.st, e.project = ts, st, p.ID
}

// appPolicy is the application's local policy, and the base of the policies the
// tests publish: the per-IP limit and the behaviour detector are out of the way,
// because one test process plays every client at a pace no person keeps.
func appPolicy() policy.Policy {
	p := policy.Default()
	p.RateLimit.PerIP = policy.Limit{Rate: 1_000_000, Period: policy.Duration(time.Second)}
	p.Weights = map[string]float64{"automated_behaviour": 0}
	return p
}

// startApp starts the protected application: a guard that trusts the loopback
// proxy's X-Forwarded-For, and an agent that reports to Studio and applies its
// bans and policy.
func (e *env) startApp() {
	t := e.t
	a, err := agent.New(agent.Config{Endpoint: e.studio.URL, Key: e.ingest, Dir: t.TempDir(),
		FlushInterval: 50 * time.Millisecond, MetricsInterval: time.Second, StatusInterval: time.Second, Instance: "browsertest"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := vigil.New(vigil.Config{Policy: appPolicy(), Events: a, TrustedProxies: []string{"127.0.0.1/32", "::1/128"}})
	if err != nil {
		t.Fatal(err)
	}
	a.SetGuard(g)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	app := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "shop\n")
	})))
	t.Cleanup(func() {
		app.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent Run: %v", err)
		}
	})
	e.app, e.guard, e.agent = app, g, a
}

// syncBuffer is the browser's output, kept for a failing test's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() < 1<<20 {
		s.b.Write(p)
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startBrowser starts a headless Chromium with a fresh profile (chromedp makes a
// temporary one and removes it) and opens a tab. The flags keep the browser off
// the network: no background requests, component updates, sync or QUIC probes.
func (e *env) startBrowser(path string) {
	t := e.t
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.NoFirstRun,
		chromedp.WindowSize(1280, 900),
	)
	out := &syncBuffer{}
	opts = append(opts, chromedp.CombinedOutput(out))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			// Without a D-Bus, Chromium logs a line for each call it would make;
			// they say nothing about the test.
			var keep []string
			for l := range strings.Lines(out.String()) {
				if !strings.Contains(l, "dbus") {
					keep = append(keep, l)
				}
			}
			if s := strings.Join(keep, ""); s != "" {
				t.Logf("chromium output (last 4 KiB):\n%s", tail(s, 4096))
			}
		}
	})
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium at %s: %v", path, err)
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	e.ctx = ctx
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// do runs browser actions, failing the test with what was being done.
func (e *env) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		e.shot("failed")
		e.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](e *env, expr string) T {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		e.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it is true, or fails the test after d
// saying what did not happen. It returns how long it took.
func (e *env) waitJS(d time.Duration, what, cond string) time.Duration {
	e.t.Helper()
	start := time.Now()
	for {
		if eval[bool](e, "!!("+cond+")") {
			return time.Since(start)
		}
		if time.Since(start) > d {
			e.shot("failed")
			e.t.Fatalf("after %v: %s (still false: %s)", d, what, cond)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// shot writes a screenshot of the tab to VIGIL_SCREENSHOTS, when set, named after
// the test, the step's number and its name.
func (e *env) shot(step string) {
	e.t.Helper()
	if e.shotTo == "" {
		return
	}
	e.shotN++
	ctx, cancel := context.WithTimeout(e.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		e.t.Logf("screenshot %q: %v", step, err)
		return
	}
	name := fmt.Sprintf("%s-%02d-%s.png", unsafeName.ReplaceAllString(e.t.Name(), "_"), e.shotN, unsafeName.ReplaceAllString(step, "_"))
	if err := os.WriteFile(filepath.Join(e.shotTo, name), png, 0o644); err != nil {
		e.t.Errorf("screenshot %q: %v", step, err)
	}
}

// login opens the dashboard and signs in through the form, then waits for the live
// feed with its stream connected.
func (e *env) login() {
	e.t.Helper()
	e.do("opening the dashboard", chromedp.Navigate(e.studio.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("form.login #login-name")))
	e.shot("login form")
	e.do("signing in",
		chromedp.SendKeys(chromedp.ID("login-name"), adminName),
		chromedp.SendKeys(chromedp.ID("login-password"), adminPassword),
		chromedp.Click(chromedp.CSS(`form.login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("nav")))
	if got := eval[string](e, `document.getElementById("whoami").textContent`); got != adminName+" (admin)" {
		e.t.Errorf("signed in as %q, want %q", got, adminName+" (admin)")
	}
	e.waitJS(10*time.Second, "the live stream connects after signing in",
		`document.getElementById("live-status").classList.contains("live")`)
	e.waitJS(10*time.Second, "the live feed opens after signing in",
		`document.querySelector("main h1")?.textContent === "Live feed"`)
}

// hit sends one request to the protected application from client ip (named in
// X-Forwarded-For by the trusted loopback proxy) with a browser's headers, and
// returns the status.
func (e *env) hit(ip, path string) int {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.app.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36")
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	res, err := e.app.Client().Do(req)
	if err != nil {
		e.t.Fatalf("GET %s from %s: %v", path, ip, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// api calls Studio's API with the project's admin key and returns the status and
// body.
func (e *env) api(method, path, contentType, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.studio.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.admin)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := e.studio.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res.StatusCode, b
}

// apiJSON calls the API and decodes a 2xx answer into out.
func (e *env) apiJSON(method, path string, out any) {
	e.t.Helper()
	code, body := e.api(method, path, "", "")
	if code/100 != 2 {
		e.t.Fatalf("%s %s: %d %s", method, path, code, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		e.t.Fatalf("%s %s: %v in %s", method, path, err, body)
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
