package demo

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
)

// syncBuffer is an io.Writer that a test may read while the demo writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls out until re matches, and returns the first submatch (or the match).
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[len(m)-1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q in the demo's output within %v:\n%s", re, within, out.String())
	return ""
}

// checkNoLeaks fails t if goroutines started after before are still running a moment
// later.
func checkNoLeaks(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var b strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines before the demo, %d after:\n%s", before, runtime.NumGoroutine(), b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkCounts fails t for every class whose requests did not all get the expected
// outcome.
func checkCounts(t *testing.T, c Counts, output string) {
	t.Helper()
	for _, cc := range c.Classes {
		if cc.Sent == 0 {
			t.Errorf("%s: no requests sent", cc.Class)
			continue
		}
		switch cc.Expect {
		case ExpectAllow:
			if cc.Allow != cc.Sent {
				t.Errorf("%s: %d of %d allowed, want all: %+v", cc.Class, cc.Allow, cc.Sent, cc)
			}
		case ExpectBlock:
			if cc.Block != cc.Sent {
				t.Errorf("%s: %d of %d blocked, want all: %+v", cc.Class, cc.Block, cc.Sent, cc)
			}
		case ExpectLimited:
			if cc.RateLimit == 0 || cc.Allow+cc.RateLimit != cc.Sent {
				t.Errorf("%s: want allowed requests and then 429s only: %+v", cc.Class, cc)
			}
		case ExpectStopped:
			if cc.Block == 0 || cc.Allow+cc.Block != cc.Sent {
				t.Errorf("%s: want attempts refused by the app and then blocks only: %+v", cc.Class, cc)
			}
		case ExpectWatch:
			if cc.Allow == 0 || cc.Allow+cc.Block != cc.Sent {
				t.Errorf("%s: want allowed requests (blocked once banned) only: %+v", cc.Class, cc)
			}
		}
		if cc.Unexpected != 0 {
			t.Errorf("%s: %d unexpected outcomes", cc.Class, cc.Unexpected)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", output)
	}
}

// TestRun runs the whole demo for six seconds: every benign request must be allowed,
// every attack blocked and the flood rate-limited, the shop must answer manual requests
// meanwhile, and nothing may be left running afterwards. Six, because a credential
// stuffer needs DemoStuffingLimit+1 attempts, a few hundred milliseconds apart, before
// one is blocked, and a starved -race run once got only five into three seconds.
func TestRun(t *testing.T) {
	before := runtime.NumGoroutine()
	d, err := New(Config{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", Duration: 6 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- d.Run(context.Background(), out) }()

	base := waitFor(t, out, regexp.MustCompile(`app on (http://127\.0\.0\.1:\d+) `), 5*time.Second)
	// A manual request while the simulator runs, as the banner suggests.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for _, tc := range []struct {
		path   string
		status int
		action string
	}{
		{"/products/4", http.StatusOK, "allow"},
		{"/.env", http.StatusForbidden, "block"},
	} {
		resp, err := hc.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("X-Vigil-Action") != tc.action {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("X-Vigil-Action"), tc.status, tc.action)
		}
	}
	waitFor(t, out, regexp.MustCompile(`(?m)^t=\d+s +class`), 5*time.Second)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("first table after %v, want about a second", d)
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its duration")
	}
	tr.CloseIdleConnections()
	output := out.String()
	checkCounts(t, d.Counts(), output)
	for _, want := range []string{"\nend ", "every outcome as expected"} {
		if !strings.Contains(output, want) {
			t.Errorf("output lacks %q:\n%s", want, output)
		}
	}
	checkNoLeaks(t, before)
}

// TestRunCancel stops the demo through its context and checks that Run returns nil
// promptly and leaves nothing running.
func TestRunCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", Interval: 200 * time.Millisecond}, out)
	}()
	waitFor(t, out, regexp.MustCompile(`(?m)^t=\d+s +class`), 5*time.Second)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !strings.Contains(out.String(), "vigil demo: ") || !strings.Contains(out.String(), "requests in") {
		t.Errorf("no summary after cancel:\n%s", out.String())
	}
	checkNoLeaks(t, before)
}

func TestRunListenError(t *testing.T) {
	err := Run(context.Background(), Config{Listen: "256.0.0.1:0"}, &syncBuffer{})
	if err == nil {
		t.Fatal("Run on a bad address: no error")
	}
}

func TestNewRejectsNegative(t *testing.T) {
	for _, cfg := range []Config{{Duration: -time.Second}, {Interval: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
}

func TestVerdictLogForgetsOldest(t *testing.T) {
	l := newVerdictLog(2)
	for _, id := range []string{"a", "b", "c"} {
		l.Record(eventWithID(id))
	}
	for id, want := range map[string]bool{"a": false, "b": true, "c": true} {
		if _, ok := l.lookup(id); ok != want {
			t.Errorf("lookup(%q) = %v, want %v", id, ok, want)
		}
	}
}

func eventWithID(id string) vigil.Event {
	return vigil.Event{Kind: vigil.EventRequest, Verdict: vigil.Verdict{RequestID: id, Action: vigil.ActionAllow}}
}
