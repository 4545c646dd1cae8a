package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/studio/store"
)

// openStore opens (or reopens) the SQLite database in dir with a fixed pepper, as
// `vigil demo --data dir` does.
func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dir, "studio.db"), store.Options{Pepper: []byte(strings.Repeat("p", 32))})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// dashboard is a signed-in session of Studio's API, as the dashboard holds one.
type dashboard struct {
	t       *testing.T
	url     string
	hc      *http.Client
	csrf    string
	project int64
}

// signIn logs in to Studio at url and picks the default project.
func signIn(t *testing.T, url, user, password string) *dashboard {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	d := &dashboard{t: t, url: url, hc: &http.Client{Jar: jar, Timeout: 5 * time.Second}}
	var sess struct {
		CSRF string `json:"csrf"`
	}
	if code := d.call("POST", "/v1/login", map[string]string{"name": user, "password": password}, &sess); code != http.StatusOK {
		t.Fatalf("login as %s: %d", user, code)
	}
	var me struct {
		Projects []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"projects"`
	}
	if code := d.call("GET", "/v1/session", nil, &me); code != http.StatusOK {
		t.Fatalf("session: %d", code)
	}
	for _, p := range me.Projects {
		if p.Name == ProjectName {
			d.project = p.ID
		}
	}
	if d.project == 0 || sess.CSRF == "" {
		t.Fatalf("no project %q (%+v) or no CSRF token", ProjectName, me)
	}
	d.csrf = sess.CSRF
	t.Cleanup(d.hc.CloseIdleConnections)
	return d
}

// call sends a JSON request and decodes a JSON answer into out, returning the status.
func (d *dashboard) call(method, path string, in, out any) int {
	d.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.url+path, body)
	req.Header.Set("Content-Type", "application/json")
	if d.project != 0 {
		req.Header.Set("X-Vigil-Project", fmt.Sprint(d.project))
	}
	if d.csrf != "" {
		req.Header.Set("X-CSRF-Token", d.csrf)
	}
	res, err := d.hc.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			d.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return res.StatusCode
}

// events returns the number of events Studio holds for the project.
func (d *dashboard) events() int64 {
	var s struct {
		Events int64 `json:"events_total"`
	}
	if code := d.call("GET", "/v1/stats", nil, &s); code != http.StatusOK {
		d.t.Fatalf("stats: %d", code)
	}
	return s.Events
}

// asClient sends GET path to the plain-HTTP shop at base as client ip (the demo trusts
// loopback's X-Forwarded-For) and returns the guard's action.
func asClient(t *testing.T, hc *http.Client, base, ip, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("X-Forwarded-For", ip)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.Header.Get("X-Vigil-Action")
}

// startDemo runs the demo with Studio on dir, on free loopback ports, until the test
// calls the returned stop function, which checks that Run returned nil.
func startDemo(t *testing.T, dir string) (*Demo, *syncBuffer, func()) {
	t.Helper()
	st := openStore(t, dir)
	d, err := New(Config{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", StudioListen: "127.0.0.1:0", Store: st, Data: dir, Interval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, out) }()
	stopped := false
	stop := func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v\n%s", err, out.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("Run did not return after cancel:\n%s", out.String())
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return d, out, stop
}

var (
	dashboardRE = regexp.MustCompile(`Studio dashboard: (http://127\.0\.0\.1:\d+)/\n`)
	passwordRE  = regexp.MustCompile(`(?m)^vigil demo:   password: (\S+) `)
	appRE       = regexp.MustCompile(`app on (http://127\.0\.0\.1:\d+) and https://127\.0\.0\.1:\d+ `)
)

// TestRunWithStudio runs the whole demo with Studio: the banner names the dashboard and
// working credentials kept in a private file, Studio receives the agent's events
// within five seconds, every attack class is blocked there too (the scrapers with their
// JA4), a ban placed through Studio's API blocks the suspect's next requests within
// about a second, and a second start on the same directory prints the same, still
// valid, password and goes on reporting.
func TestRunWithStudio(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo with Studio for about ten seconds")
	}
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	start := time.Now()
	d, out, stop := startDemo(t, dir)

	studioURL := waitFor(t, out, dashboardRE, 10*time.Second)
	password := waitFor(t, out, passwordRE, time.Second)
	base := waitFor(t, out, appRE, time.Second)
	if !strings.Contains(out.String(), "THIS IS A DEMO SETUP") {
		t.Errorf("the banner does not say it is a demo setup:\n%s", out.String())
	}
	fi, err := os.Stat(filepath.Join(dir, PasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", PasswordFile, fi.Mode().Perm())
	}
	if kept, _ := readSecret(filepath.Join(dir, PasswordFile)); kept != password {
		t.Errorf("printed password %q, file holds %q", password, kept)
	}

	// The dashboard's page is served, and the printed credentials sign in.
	res, err := http.Get(studioURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	dash := signIn(t, studioURL, AdminUser, password)
	for dash.events() == 0 {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no event in Studio %v after start:\n%s", time.Since(start), out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("first events in Studio %v after start", time.Since(start).Round(time.Millisecond))

	// A ban through Studio's API reaches the guard through the agent's policy
	// stream. The suspect is let through by the detectors until then.
	hc := &http.Client{Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
	suspect := SuspectIPs()[0]
	if got := asClient(t, hc, base, suspect, "/products/2"); got != "allow" {
		t.Fatalf("the suspect before the ban: %q, want allow", got)
	}
	suspectBlocked := d.Counts().Class(ClassSuspect).Block
	banned := time.Now()
	if code := dash.call("POST", "/v1/bans", map[string]string{"kind": "ip", "value": suspect, "ttl": "1h", "reason": "test"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /v1/bans: %d", code)
	}
	for asClient(t, hc, base, suspect, "/products/2") != "block" {
		if time.Since(banned) > 3*time.Second {
			t.Fatalf("the ban placed in Studio does not block %s after %v", suspect, time.Since(banned))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("ban effective %v after POST /v1/bans", time.Since(banned).Round(time.Millisecond))
	if got := asClient(t, hc, base, SuspectIPs()[1], "/products/2"); got != "allow" {
		t.Errorf("another suspect address after the ban: %q, want allow", got)
	}
	// The simulated suspect itself is blocked from then on (it sends every 0.6–2.5 s).
	for d.Counts().Class(ClassSuspect).Block == suspectBlocked {
		if time.Since(banned) > 6*time.Second {
			t.Fatalf("the simulated suspect was not blocked after the ban: %+v", d.Counts().Class(ClassSuspect))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Every attack class is blocked at the shop and shows in Studio with its reason.
	want := map[string]Class{
		"honeypot": ClassScanner, "sqli": ClassSQLi, "xss": ClassXSS, "path_traversal": ClassTraversal,
		"cmdi": ClassCmdi, "ssrf": ClassSSRF, "scanner_ua": ClassBot, "spoofed_client": ClassScraper,
		"credential_stuffing": ClassStuffer, "email_disposable": ClassSignup,
	}
	deadline := time.Now().Add(10 * time.Second)
	var seen map[string]bool
	for {
		seen = blockedReasons(dash)
		done := true
		for code := range want {
			done = done && seen[code]
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for code, class := range want {
		if !seen[code] {
			t.Errorf("no blocked event with reason %s (class %s) in Studio; reasons seen: %v", code, class, seen)
		}
	}
	// The attackers' made-up countries (DemoCountries) reach Studio, for the map.
	if !seen["country:CN"] && !seen["country:RU"] && !seen["country:BR"] && !seen["country:IN"] && !seen["country:VN"] {
		t.Errorf("no blocked event from an attacker's country (DemoCountries) in Studio; seen: %v", seen)
	}
	var scraped struct {
		Events []struct {
			Reasons []string        `json:"reasons"`
			Raw     json.RawMessage `json:"raw"`
		} `json:"events"`
	}
	dash.call("GET", "/v1/events?action=block&limit=500", nil, &scraped)
	// JA4 of TLS 1.3 to an IP address (no SNI name: "i"), with or without ALPN.
	ja4 := regexp.MustCompile(`"ja4":"t13i\d{4}(h2|h1|00)_[0-9a-f]{12}_[0-9a-f]{12}"`)
	found := false
	for _, e := range scraped.Events {
		for _, r := range e.Reasons {
			found = found || (r == "spoofed_client" && ja4.Match(e.Raw))
		}
	}
	if !found {
		for _, e := range scraped.Events {
			if strings.Contains(string(e.Raw), "spoofed_client") {
				t.Logf("%s", e.Raw)
				break
			}
		}
		t.Error("no spoofed_client event with a JA4 in Studio")
	}

	stop()
	output := out.String()
	counts := d.Counts()
	checkCounts(t, counts, output)
	if !strings.Contains(output, "the agent delivered") {
		t.Errorf("no delivery line at the end:\n%s", output)
	}
	held := eventsIn(t, dir)

	// A second start on the same directory: the same password, still valid; the
	// agent reports with the kept key.
	restart := time.Now()
	_, out2, stop2 := startDemo(t, dir)
	studioURL = waitFor(t, out2, dashboardRE, 10*time.Second)
	if again := waitFor(t, out2, passwordRE, time.Second); again != password {
		t.Errorf("second start printed password %q, want %q", again, password)
	}
	dash = signIn(t, studioURL, AdminUser, password)
	for n := dash.events(); n <= held; n = dash.events() {
		if time.Since(restart) > 5*time.Second {
			t.Fatalf("no new events after the second start: %d, had %d", n, held)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop2()
	checkNoLeaks(t, before)
}

// blockedReasons returns the reasons of the blocked events Studio holds, and their
// countries as "country:CC".
func blockedReasons(dash *dashboard) map[string]bool {
	var resp struct {
		Events []struct {
			Reasons []string `json:"reasons"`
			Country string   `json:"country"`
		} `json:"events"`
		Next *string `json:"next"`
	}
	seen := map[string]bool{}
	cursor := ""
	for range 20 {
		path := "/v1/events?action=block&limit=1000"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		resp.Next = nil
		resp.Events = resp.Events[:0]
		if code := dash.call("GET", path, nil, &resp); code != http.StatusOK {
			dash.t.Fatalf("events: %d", code)
		}
		for _, e := range resp.Events {
			for _, r := range e.Reasons {
				seen[r] = true
			}
			if e.Country != "" {
				seen["country:"+e.Country] = true
			}
		}
		if resp.Next == nil {
			break
		}
		cursor = *resp.Next
	}
	return seen
}

// eventsIn returns how many events the stopped demo's database in dir holds.
func eventsIn(t *testing.T, dir string) int64 {
	t.Helper()
	st := openStore(t, dir)
	defer st.Close()
	p, err := st.ProjectByName(context.Background(), ProjectName)
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Stats(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.EventsTotal == 0 {
		t.Fatal("no events stored")
	}
	return s.EventsTotal
}
