package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test time limits. They are far above what the tests take on an idle machine (startup
// well under a second, shutdown a few hundred milliseconds) so that a loaded CI machine
// running with -race does not fail them, and far below the shutdown timeout the proxies
// under test get (shutdownTimeout), so that a proxy that waits for it instead of shutting
// down promptly still fails.
const (
	patience        = 20 * time.Second
	shutdownTimeout = "2m"
)

// noEnv is an empty environment, so that VIGIL_* variables of the machine running the
// tests do not change them.
func noEnv(string) (string, bool) { return "", false }

// syncBuffer is a bytes.Buffer safe for a logger writing while a test reads.
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

// logLines returns the JSON log lines written so far.
func (s *syncBuffer) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(s.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// proxyRun is a `vigil proxy` running in-process.
type proxyRun struct {
	addr   string // the address it listens on
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startProxy runs `vigil proxy` with args plus --listen 127.0.0.1:0 and waits until it
// listens. The test's cleanup stops it and checks that it returned nil.
func startProxy(t *testing.T, args ...string) *proxyRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &proxyRun{stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	args = append([]string{"proxy", "--listen", "127.0.0.1:0", "--shutdown-timeout", shutdownTimeout}, args...)
	go func() { p.done <- run(ctx, args, io.Discard, p.stderr, noEnv) }()
	deadline := time.Now().Add(patience)
	for p.addr == "" {
		select {
		case err := <-p.done:
			t.Fatalf("vigil proxy returned early: %v\n%s", err, p.stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil proxy did not log its address:\n%s", p.stderr)
		}
		for l := range strings.Lines(p.stderr.String()) {
			var m struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "vigil proxy listening" {
				p.addr = m.Addr
			}
		}
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("vigil proxy: %v", err)
		}
	})
	return p
}

// stop cancels the proxy's context and returns what Run returned; it fails after
// patience.
func (p *proxyRun) stop() error {
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // a second stop sees the same result
		return err
	case <-time.After(patience):
		return fmt.Errorf("did not return within %v of the context ending", patience)
	}
}

// upstream is the protected service of the tests: it answers 200 with a JSON record of the
// request and remembers the request IDs it saw.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]string // X-Request-Id → X-Forwarded-For
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{seen: map[string]string{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		u.mu.Lock()
		u.seen[r.Header.Get("X-Request-Id")] = r.Header.Get("X-Forwarded-For")
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"app\":\"shop\",\"path\":%q}\n", r.URL.Path)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) saw(id string) (xff string, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	xff, ok = u.seen[id]
	return xff, ok
}

// browserHeaders are those of an ordinary Chrome navigation.
var browserHeaders = map[string]string{
	"User-Agent":                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Accept":                    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
	"Accept-Language":           "en-GB,en;q=0.9",
	"Accept-Encoding":           "gzip, deflate, br, zstd",
	"Sec-Ch-Ua":                 `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`,
	"Sec-Ch-Ua-Mobile":          "?0",
	"Sec-Ch-Ua-Platform":        `"Windows"`,
	"Sec-Fetch-Dest":            "document",
	"Sec-Fetch-Mode":            "navigate",
	"Sec-Fetch-Site":            "none",
	"Sec-Fetch-User":            "?1",
	"Upgrade-Insecure-Requests": "1",
}

// goroutines returns the stacks of the running goroutines, one string each.
func goroutines() []string {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Split(string(buf[:n]), "\n\n")
}

// checkNoLeaks fails t if goroutines that were not in before are still running after
// patience. Goroutines are told apart by their IDs.
func checkNoLeaks(t *testing.T, before []string) {
	t.Helper()
	id := func(stack string) string {
		head, _, _ := strings.Cut(stack, " [")
		return head // "goroutine 42"
	}
	had := map[string]bool{}
	for _, g := range before {
		had[id(g)] = true
	}
	var extra []string
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		extra = extra[:0]
		for _, g := range goroutines() {
			if !had[id(g)] && !strings.Contains(g, "checkNoLeaks") {
				extra = append(extra, g)
			}
		}
		if len(extra) == 0 {
			return
		}
	}
	t.Errorf("%d goroutines leaked:\n%s", len(extra), strings.Join(extra, "\n\n"))
}
