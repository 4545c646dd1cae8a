package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/redisstore"
)

// testRedis returns the address of the Redis the integration tests use
// (VIGIL_TEST_REDIS, default 127.0.0.1:6379). Without one the test is skipped on a
// developer's machine and fails in CI.
func testRedis(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("VIGIL_TEST_REDIS")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Redis at %s (set VIGIL_TEST_REDIS): %v", addr, err)
		}
		t.Skipf("no Redis at %s: %v", addr, err)
	}
	c.Close()
	return addr
}

// sharedConfig is two proxies' configuration: one Redis, a key prefix of the test's
// own, loopback trusted (so each request names its client in X-Forwarded-For), and a
// limit of 100 an hour on /limited: over a minute the limit would earn back a request
// every 0.6 s, and a starved -race run of the load below once took long enough for
// five.
const sharedConfig = `upstream: %s
redis_url: %s
redis:
  key_prefix: %q
  mode: %s
guard:
  trusted_proxies: [127.0.0.1/32]
  policy:
    rules:
      - name: limited
        match: {paths: [/limited]}
        action: ratelimit
        rate_limit: 100/1h
`

func startPair(t *testing.T, mode string) (a, b *proxyRun) {
	t.Helper()
	redis := testRedis(t)
	up := newUpstream(t)
	var r [6]byte
	_, _ = rand.Read(r[:])
	prefix := "vigiltest:" + hex.EncodeToString(r[:]) + ":"
	// Registered before the proxies start, so it runs after they stopped: leave
	// nothing behind in the shared Redis.
	t.Cleanup(func() {
		client, err := redisstore.ParseURL(redis)
		if err != nil {
			t.Error(err)
			return
		}
		defer client.Close()
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("removing the test's keys: %v", err)
		}
	})
	cfg := writeFile(t, "vigil.yaml", fmt.Sprintf(sharedConfig, up.URL, redis, prefix, mode))
	return startProxyProcess(t, "--config", cfg), startProxyProcess(t, "--config", cfg)
}

func status(t *testing.T, c *http.Client, addr, path, client string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Header.Set("X-Forwarded-For", client)
	req.Header.Set("User-Agent", "vigil-test/1.0")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// The tests below run each proxy as a process of its own, as two instances of a
// service would be: they share nothing but Redis.

// A honeypot hit through one proxy bans the client on the other within a second.
func TestTwoProxiesShareBans(t *testing.T) {
	a, b := startPair(t, "local-first")
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	const client = "203.0.113.50"
	if got := status(t, c, b.addr, "/", client); got != http.StatusOK {
		t.Fatalf("before the ban, B answered %d", got)
	}
	if got := status(t, c, a.addr, "/.env", client); got != http.StatusForbidden {
		t.Fatalf("honeypot through A answered %d", got)
	}
	start := time.Now()
	for status(t, c, b.addr, "/", client) != http.StatusForbidden {
		if time.Since(start) > time.Second {
			t.Fatalf("B did not block the client banned through A within 1 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("ban seen by B after %v", time.Since(start))
	if got := status(t, c, b.addr, "/", "203.0.113.51"); got != http.StatusOK {
		t.Errorf("another client got %d from B", got)
	}
}

// A limit of 100 an hour split across two proxies under concurrent load admits at
// most 105 requests in local-first mode and at most 100 in exact mode (one more when
// the test outlasts the 36 s the limit takes to earn one back).
func TestTwoProxiesShareALimit(t *testing.T) {
	for _, tc := range []struct {
		mode string
		max  int
	}{{"local-first", 105}, {"exact", 100}} {
		t.Run(tc.mode, func(t *testing.T) {
			a, b := startPair(t, tc.mode)
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			defer c.CloseIdleConnections()
			var admitted, limited atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for w := range 16 {
				addr := a.addr
				if w%2 == 1 {
					addr = b.addr
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 25 {
						switch status(t, c, addr, "/limited", "203.0.113.60") {
						case http.StatusOK:
							admitted.Add(1)
						case http.StatusTooManyRequests:
							limited.Add(1)
						default:
							t.Error("a request was neither admitted nor rate-limited")
						}
					}
				}()
			}
			wg.Wait()
			t.Logf("%s: %d admitted, %d limited of 400", tc.mode, admitted.Load(), limited.Load())
			// A Redis call that times out (a starved CI machine) is decided locally,
			// by design, and counted as a fallback: each may admit one more.
			fallbacks := int(storeState(t, c, a.addr).Redis.Fallbacks + storeState(t, c, b.addr).Redis.Fallbacks)
			// What the limit earned back while the load ran (36 s a request).
			earned := int(time.Since(start) / (36 * time.Second))
			if n, most := int(admitted.Load()), tc.max+fallbacks+earned; n > most || n < 90 {
				t.Errorf("%d admitted (%d fallbacks, %d earned back), want 90–%d", n, fallbacks, earned, most)
			}
		})
	}
}

// redisServer is a redis-server this test started on a loopback port of its own.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

// startRedisServer starts redis-server on port (0: a free one). Without the binary the
// test is skipped on a developer's machine and fails in CI.
func startRedisServer(t *testing.T, port int) *redisServer {
	t.Helper()
	bin := needTool(t, "redis-server")
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	s := &redisServer{t: t, port: port, dir: t.TempDir()}
	s.cmd = exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", s.addr()); err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s", s.addr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// kill stops the server at once, as a crash would.
func (s *redisServer) kill() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Redis dies under load: the proxies keep answering from local state (no 5xx), say so
// in their logs, and share state again within 5 s of Redis coming back.
func TestTwoProxiesSurviveRedisOutage(t *testing.T) {
	rs := startRedisServer(t, 0)
	up := newUpstream(t)
	cfg := writeFile(t, "vigil.yaml", fmt.Sprintf(sharedConfig, up.URL, rs.addr(), "vigiltest:", "local-first"))
	a, b := startProxyProcess(t, "--config", cfg), startProxyProcess(t, "--config", cfg)
	c := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()

	var bad atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range []*proxyRun{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+"/", nil)
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i%200+1))
				res, err := c.Do(req)
				if err != nil || res.StatusCode >= 500 {
					bad.Add(1)
				}
				if err == nil {
					res.Body.Close()
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	rs.kill()
	time.Sleep(time.Second)
	// The outage shows in the proxies' state, which a health check asking for JSON
	// reads.
	for _, p := range []*proxyRun{a, b} {
		// Fallbacks are not required: on a starved machine no request may have
		// reached the store in the second since Redis died.
		if st := storeState(t, c, p.addr); !st.Redis.Degraded || st.Redis.Outages == 0 {
			t.Errorf("during the outage the state says %+v", st)
		}
	}
	startRedisServer(t, rs.port)
	back := time.Now()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Errorf("%d requests failed or got a 5xx while Redis was down", n)
	}

	// Shared state again: a ban through A reaches B.
	const client = "203.0.113.70"
	for {
		if status(t, c, a.addr, "/.env", client) != http.StatusForbidden {
			t.Fatal("honeypot not blocked")
		}
		if status(t, c, b.addr, "/", client) == http.StatusForbidden {
			break
		}
		if time.Since(back) > 5*time.Second {
			t.Fatalf("B did not see a ban through A within 5 s of Redis returning")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("shared bans again %v after Redis returned", time.Since(back))
	for _, p := range []*proxyRun{a, b} {
		if st := storeState(t, c, p.addr); st.Redis.Degraded || st.Redis.Recoveries == 0 {
			t.Errorf("after the outage the state says %+v", st)
		}
	}
	// Each proxy logged the outage and the recovery.
	for _, p := range []*proxyRun{a, b} {
		log := p.stderr.String()
		if !strings.Contains(log, "redis unreachable") || !strings.Contains(log, "reachable again") {
			t.Errorf("the outage and the recovery are not in the log:\n%s", log)
		}
	}
}

// binDir is where vigilBinary built the vigil command, "" until it has.
var binDir atomic.Value

// vigilBinary is the vigil command built once for the tests that run it as a process.
var vigilBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "vigil-bin-")
	if err != nil {
		return "", err
	}
	binDir.Store(dir)
	bin := filepath.Join(dir, "vigil")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/vigilhq/vigil/cmd/vigil").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// startProxyProcess runs `vigil proxy` with args plus --listen 127.0.0.1:0 as a process
// of its own and waits until it listens. The test's cleanup sends it SIGTERM and
// checks that it exits 0.
func startProxyProcess(t *testing.T, args ...string) *proxyRun {
	t.Helper()
	bin, err := vigilBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &proxyRun{stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd := exec.Command(bin, append([]string{"proxy", "--listen", "127.0.0.1:0", "--shutdown-timeout", "5s"}, args...)...)
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	p.cancel = func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	deadline := time.Now().Add(patience)
	for p.addr == "" {
		select {
		case err := <-p.done:
			t.Fatalf("vigil proxy exited early: %v\n%s", err, p.stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
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
			t.Errorf("vigil proxy: %v\n%s", err, p.stderr)
		}
	})
	return p
}

// TestMain removes the vigil binary the process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if dir, ok := binDir.Load().(string); ok {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// storeState is the store part of a proxy's JSON health answer.
type storeStateJSON struct {
	Store string
	Redis struct {
		Degraded                       bool
		Outages, Recoveries, Fallbacks uint64
	}
}

func storeState(t *testing.T, c *http.Client, addr string) storeStateJSON {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	req.Header.Set("Accept", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Status string
		State  storeStateJSON
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Status != "ok" || body.State.Store != "redis" {
		t.Fatalf("health answer %+v, %v", body, err)
	}
	return body.State
}
