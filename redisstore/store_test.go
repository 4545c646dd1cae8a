package redisstore

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/ratelimit"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// deadRedis returns a client of a loopback port nothing listens on.
func deadRedis(t testing.TB) *redis.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNewValidates(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown_mode", Config{Mode: "eventual"}, "mode"},
		{"brace_in_prefix", Config{KeyPrefix: "a{b}:"}, "brace"},
		{"negative_interval", Config{SyncInterval: -time.Second}, "sync interval"},
		{"negative_timeout", Config{OpTimeout: -1}, "op timeout"},
		{"negative_share", Config{LocalShare: -0.5}, "local share"},
		{"nan_share", Config{LocalShare: math.NaN()}, "local share"},
		{"negative_failures", Config{BreakerFailures: -1}, "breaker failures"},
		{"negative_keys", Config{MaxKeys: -1}, "max keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(c, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error about %s", err, tc.want)
			}
		})
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("New accepted a nil client")
	}
	s, err := New(c, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Mode: ModeLocalFirst, KeyPrefix: "vigil:", SyncInterval: 5 * time.Millisecond, LocalShare: 0.02,
		OpTimeout: 50 * time.Millisecond, BreakerFailures: 3, BreakerCooldown: time.Second, MaxKeys: 1 << 20}
	got := s.cfg
	got.Logger = nil
	if got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
}

// TestQuota checks the per-key local quota against the formula in the package
// documentation.
func TestQuota(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, tc := range []struct {
		name  string
		share float64
		l     vigil.Limit
		want  int64 // requests
	}{
		{"per_minute_default", 0, vigil.Limit{Rate: 100, Period: time.Minute}, 2},
		{"per_ip_default_policy", 0, vigil.Limit{Rate: 600, Period: time.Minute, Burst: 100}, 2},
		{"small_burst", 0, vigil.Limit{Rate: 10, Period: time.Minute}, 1},
		{"fast_rate", 0, vigil.Limit{Rate: 10_000, Period: time.Second, Burst: 10}, 10}, // 2 × 5 ms / 100 µs = 100, capped at the burst
		{"fast_rate_big_burst", 0, vigil.Limit{Rate: 10_000, Period: time.Second}, 200},
		{"share_half", 0.5, vigil.Limit{Rate: 100, Period: time.Minute}, 50},
		{"share_off", 1, vigil.Limit{Rate: 100, Period: time.Minute}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(c, Config{LocalShare: tc.share})
			if err != nil {
				t.Fatal(err)
			}
			tt, b, _ := params(ratelimit.Limit(tc.l))
			if got := s.quota(tt, b) / tt; got != tc.want {
				t.Errorf("quota of %d requests, want %d", got, tc.want)
			}
		})
	}
}

// TestNoRedis checks a Store whose Redis is unreachable from the start: every method
// answers locally, promptly and without error; the fault is reported once; Run stops
// when asked.
func TestNoRedis(t *testing.T) {
	events := &eventLog{}
	s, err := New(deadRedis(t), Config{Events: events, BreakerCooldown: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	l := vigil.Limit{Rate: 3, Period: time.Minute, Burst: 3}
	start := time.Now()
	var slowest time.Duration
	admitted := 0
	for i := range 10 {
		t0 := time.Now()
		q, err := s.Allow(ctx, "rl:ip:192.0.2.1", l, 1)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		if q.Allowed {
			admitted++
		}
		if _, err := s.Add(ctx, "strikes:192.0.2.1", 1, time.Minute); err != nil {
			t.Fatalf("Add: %v", err)
		}
		if i == 5 {
			if err := s.Ban(ctx, vigil.Ban{Kind: vigil.BanIP, Value: "192.0.2.1", Until: time.Now().Add(time.Hour)}); err != nil {
				t.Fatalf("Ban: %v", err)
			}
		}
		slowest = max(slowest, time.Since(t0))
	}
	if admitted != 3 {
		t.Errorf("admitted %d of 10 under a burst of 3", admitted)
	}
	if slowest > 100*time.Millisecond {
		t.Errorf("slowest call %v with Redis unreachable", slowest)
	}
	if _, ok, err := s.Banned(ctx, netip.MustParseAddr("192.0.2.1"), ""); !ok || err != nil {
		t.Errorf("Banned = %v, %v; want the local ban", ok, err)
	}
	if n, _ := s.Add(ctx, "strikes:192.0.2.1", 0, time.Minute); n != 10 {
		t.Errorf("local count %d, want 10", n)
	}
	if _, ok := waitFor(2*time.Second, func() bool { return s.Stats().Degraded }); !ok {
		t.Errorf("not degraded after %v: %+v", time.Since(start), s.Stats())
	}
	time.Sleep(300 * time.Millisecond) // a few failed probes
	if st := s.Stats(); st.Outages != 1 || st.BanQueue != 1 {
		t.Errorf("stats %+v: want one outage, the ban queued", st)
	}
	if n := len(events.list()); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

// TestRunTwice checks that a second concurrent Run is refused.
func TestRunTwice(t *testing.T) {
	s, err := New(deadRedis(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(time.Second, func() bool { return s.running.Load() })
	if err := s.Run(ctx); err == nil {
		t.Error("second Run returned nil")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestNoGoroutineLeak checks that Run leaves no goroutine behind once it has returned
// and the client is closed.
func TestNoGoroutineLeak(t *testing.T) {
	shared := sharedRedis(t)
	before := runtime.NumGoroutine()
	c := redis.NewClient(shared.Options())
	s, err := New(c, Config{KeyPrefix: testPrefix(t, shared)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	subscribed(t, s)
	s.Allow(ctx, "k", vigil.Limit{Rate: 1, Period: time.Second}, 1)
	s.Ban(ctx, vigil.Ban{Kind: vigil.BanIP, Value: "192.0.2.9", Until: time.Now().Add(time.Minute)})
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
	c.Close()
	if _, ok := waitFor(3*time.Second, func() bool { return runtime.NumGoroutine() <= before }); !ok {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Run returned, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
	}
}

// TestAllocs holds the request path to the memory store's allocation figures: no
// allocation for a held key's local-first check or for a ban look-up.
func TestAllocs(t *testing.T) {
	s, err := New(deadRedis(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l := vigil.Limit{Rate: 1000, Period: time.Second, Burst: 1_000_000}
	s.Allow(ctx, "rl:ip:192.0.2.1", l, 1)
	s.Ban(ctx, vigil.Ban{Kind: vigil.BanIP, Value: "192.0.2.2"})
	ip := netip.MustParseAddr("192.0.2.3")
	for name, f := range map[string]func(){
		"allow":  func() { s.Allow(ctx, "rl:ip:192.0.2.1", l, 1) },
		"banned": func() { s.Banned(ctx, ip, "dna") },
		"add":    func() { s.Add(ctx, "strikes:192.0.2.1", 1, time.Hour) },
	} {
		s.local.collect(nil, 0) // empty the dirty lists, as a sync does
		if n := vigiltest.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

// TestGuardsShareBans runs two guards, as two instances of a service, on stores
// sharing one Redis: a honeypot hit on one bans the client on both.
func TestGuardsShareBans(t *testing.T) {
	c := sharedRedis(t)
	prefix := testPrefix(t, c)
	var handlers []http.Handler
	for _, client := range []redis.UniversalClient{c, newClient(t, c)} {
		s := runStore(t, client, Config{KeyPrefix: prefix})
		subscribed(t, s)
		g, err := vigil.New(vigil.Config{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		handlers = append(handlers, g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	}
	get := func(h http.Handler, path string) int {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = "203.0.113.66:40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if code := get(handlers[1], "/"); code != http.StatusOK {
		t.Fatalf("B before the ban: %d", code)
	}
	if code := get(handlers[0], "/.env"); code != http.StatusForbidden {
		t.Fatalf("A, honeypot: %d", code)
	}
	d, ok := waitFor(time.Second, func() bool { return get(handlers[1], "/") == http.StatusForbidden })
	if !ok {
		t.Fatal("B still serves the client banned through A after 1 s")
	}
	t.Logf("B blocks the client %v after A banned it", d)
}
