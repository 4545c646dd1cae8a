package vigil_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
)

// loginGuard is a guard behind a trusted load balancer on loopback, protecting POST
// /login, in front of a login handler that fails every attempt except alice's with
// the right password.
func loginGuard(t *testing.T) http.Handler {
	t.Helper()
	p := policy.Default()
	p.Logins = policy.Logins{Paths: []string{"/login"}}
	g, err := vigil.New(vigil.Config{Policy: p, TrustedProxies: []string{"192.0.2.1/32"}})
	if err != nil {
		t.Fatal(err)
	}
	return g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("username") == "alice" && r.PostForm.Get("password") == "right" {
			return
		}
		http.Error(w, "wrong username or password", http.StatusUnauthorized)
	}))
}

// login posts a form login from client (named in X-Forwarded-For by the trusted
// balancer) with the User-Agent ua, and returns the status.
func login(h http.Handler, client, ua, user, password string) (int, string) {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username="+user+"&password="+password))
	r.RemoteAddr = "192.0.2.1:40000"
	r.Header.Set("X-Forwarded-For", client)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", ua)
	r.Header.Set("Accept", "*/*")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Header().Get("X-Vigil-Action")
}

const (
	scriptUA  = "python-requests/2.34.2"
	browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
)

func TestStuffingOneIPManyUsernames(t *testing.T) {
	h := loginGuard(t)
	blocked := 0
	for i := range 50 {
		code, action := login(h, "203.0.113.20", scriptUA, fmt.Sprintf("user%d", i), "guess")
		if code == http.StatusForbidden && action == "block" {
			blocked++
		}
	}
	// The first 10 usernames reach the application; from then on the IP is blocked
	// (and banned, so even its other requests are).
	if blocked < 35 {
		t.Errorf("%d of 50 attempts blocked", blocked)
	}
	if code, _ := login(h, "203.0.113.20", scriptUA, "alice", "right"); code != http.StatusForbidden {
		t.Errorf("the stuffing IP's next attempt got %d", code)
	}
	// Another client with other software logs in; the same script from another IP
	// does not (its DNA failed with too many usernames).
	if code, _ := login(h, "203.0.113.21", browserUA, "alice", "right"); code != http.StatusOK {
		t.Errorf("another client's good login got %d", code)
	}
	if code, _ := login(h, "203.0.113.22", scriptUA, "alice", "right"); code != http.StatusForbidden {
		t.Errorf("the same script from a new IP got %d", code)
	}
}

func TestStuffingRotatingIPsOneDNA(t *testing.T) {
	h := loginGuard(t)
	detected := 0
	for i := range 30 {
		code, _ := login(h, fmt.Sprintf("198.51.100.%d", i+1), scriptUA, fmt.Sprintf("victim%d", i), "leaked")
		if code == http.StatusForbidden {
			detected++
		}
	}
	// Every IP is new and every username fails once, but the client software is the
	// same: after 10 distinct usernames its attempts are refused.
	if detected < 15 {
		t.Errorf("%d of 30 rotating-IP attempts detected", detected)
	}
}

func TestStuffingPersonFailingThreeTimes(t *testing.T) {
	h := loginGuard(t)
	for range 3 {
		if code, _ := login(h, "203.0.113.30", browserUA, "alice", "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("a mistyped password got %d, want the application's 401", code)
		}
	}
	if code, _ := login(h, "203.0.113.30", browserUA, "alice", "right"); code != http.StatusOK {
		t.Errorf("the right password after three mistakes got %d", code)
	}
}

// A distributed attack: every attempt from a new address with a browser's User-Agent,
// each address far under its limits, but the site's failures jump. Within about a
// second (the site-wide counts are refreshed once a second) attempts carry
// login_failure_spike, and with a challenge threshold of 50 they are challenged.
func TestStuffingSiteWideSpike(t *testing.T) {
	p := policy.Default()
	p.Logins = policy.Logins{Paths: []string{"/login"}}
	p.ChallengeThreshold = 50
	g, err := vigil.New(vigil.Config{Policy: p, TrustedProxies: []string{"192.0.2.1/32"}, ChallengeSecret: strings.Repeat("s", 32)})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "wrong username or password", http.StatusUnauthorized)
	}))
	// A quiet start: 10 failures are no spike.
	for i := range 10 {
		if _, action := login(h, fmt.Sprintf("198.51.100.%d", i), browserUA, fmt.Sprintf("person%d", i), "typo"); action != "allow" {
			t.Fatalf("quiet failure %d: %s", i, action)
		}
	}
	// The attack: 60 failures from 60 addresses, each address far under its limits
	// and the DNA (a browser's, from the request alone) under its own (100).
	for n := range 60 {
		if _, action := login(h, fmt.Sprintf("10.0.%d.%d", n>>8, n&255), browserUA, fmt.Sprintf("victim%d", n), "Summer2026!"); action != "allow" {
			t.Fatalf("attempt %d before the spike was seen: %s", n, action)
		}
	}
	attempt := func(client string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username=x&password=y"))
		r.RemoteAddr = "192.0.2.1:40000"
		r.Header.Set("X-Forwarded-For", client)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("User-Agent", browserUA)
		return r
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		v := g.Check(attempt(fmt.Sprintf("10.1.0.%d", i)))
		if hasSignal(v, "login_failure_spike") {
			if v.Action != vigil.ActionChallenge {
				t.Errorf("attempt during the spike: %s (score %d), want challenge", v.Action, v.Score)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no spike after 60 failures from distinct addresses: signals %v", v.Signals)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A person's attempt through the handler meets the challenge too.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, attempt("10.2.0.1"))
	if got := w.Header().Get("X-Vigil-Action"); got != "challenge" {
		t.Errorf("through the handler during the spike: %d %s", w.Code, got)
	}
}
