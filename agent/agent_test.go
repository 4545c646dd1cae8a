package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/internal/vigiltest"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/internal/wire/wiretest"
	"github.com/vigilhq/vigil/policy"
)

// fast is a configuration for tests: short intervals, everything else default.
func fast(srv *wiretest.Server, dir string) agent.Config {
	return agent.Config{Endpoint: srv.URL(), Key: srv.Key(), Dir: dir, FlushInterval: 20 * time.Millisecond,
		MetricsInterval: 100 * time.Millisecond, StatusInterval: 200 * time.Millisecond}
}

// running starts a's Run and stops it when the test ends.
func running(t *testing.T, a *agent.Agent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// guardWith returns a guard reporting to a, with the per-IP limit out of the way.
func guardWith(t testing.TB, a *agent.Agent) (*vigil.Guard, http.Handler) {
	p := policy.Default()
	p.RateLimit.PerIP = policy.Limit{Rate: 1_000_000, Period: policy.Duration(time.Second)}
	// The tests' own traffic is a bot: one client walking sequential IDs at a steady
	// pace without assets. The behaviour detector rightly blocks it once a CPU-starved
	// run makes the pace regular enough; these tests are about delivery, not that.
	p.Weights = map[string]float64{"automated_behaviour": 0}
	g, err := vigil.New(vigil.Config{Policy: p, Events: a})
	if err != nil {
		t.Fatal(err)
	}
	a.SetGuard(g)
	return g, g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
}

func get(h http.Handler, path string) int {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36")
	r.Header.Set("Accept", "text/html")
	r.Header.Set("Accept-Language", "en")
	r.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// paths counts the events the server accepted, by path.
func paths(srv *wiretest.Server) map[string]int {
	m := map[string]int{}
	for _, e := range srv.Events() {
		if e.Kind == "request" {
			m[e.Path]++
		}
	}
	return m
}

func TestDelivery(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{})
	a, err := agent.New(fast(srv, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	_, h := guardWith(t, a)
	running(t, a)
	for i := range 200 {
		get(h, fmt.Sprintf("/items/%d", i))
	}
	get(h, "/.env") // a honeypot: a block and a ban
	eventually(t, 5*time.Second, "200 request events delivered", func() bool { return len(paths(srv)) == 201 })
	for p, n := range paths(srv) {
		if n != 1 {
			t.Errorf("%s delivered %d times", p, n)
		}
	}
	// Requests are counted when recorded, reasons when the batcher takes the event: a
	// block and its reason can fall in neighbouring intervals, so they are summed.
	var got string
	deadline := time.Now().Add(10 * time.Second)
	for {
		var allow, block, bans, honeypot int64
		other := map[string]int64{}
		for _, b := range srv.MetricBatches() {
			for _, iv := range b.Intervals {
				for k, n := range iv.Requests {
					other[k] += n
				}
				allow += iv.Requests["allow"]
				block += iv.Requests["block"]
				bans += iv.Bans
				honeypot += iv.BlockedByCode["honeypot"]
			}
		}
		if allow == 200 && block == 1 && bans == 1 && honeypot == 1 {
			break
		}
		got = fmt.Sprintf("requests %v, bans %d, honeypot reasons %d", other, bans, honeypot)
		if time.Now().After(deadline) {
			for _, e := range srv.Events() {
				if e.Action != "allow" {
					t.Logf("%s %s %s %+v", e.Path, e.Action, e.Kind, e.Signals)
				}
			}
			t.Fatalf("metrics delivered: %s; want 200 allowed, 1 blocked, 1 ban, 1 honeypot reason", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	eventually(t, 5*time.Second, "a status heartbeat", func() bool {
		st := srv.Statuses()
		return len(st) > 0 && st[len(st)-1].EventsRecorded >= 202
	})
	// The server stores a batch before its answer reaches the agent.
	eventually(t, 5*time.Second, "202 events counted as sent", func() bool { return a.Stats().Sent == 202 })
	if st := a.Stats(); st.DroppedQueueFull != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Studio answering 500, then 429 with Retry-After, then 413 for batches over 8
// events: every event still arrives exactly once, in batches of at most 8.
func TestRetriesAndHalving(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{})
	srv.FailNext(3, wiretest.Fault{Status: 500, Path: wire.PathEvents})
	srv.FailNext(1, wiretest.Fault{Status: 429, RetryAfter: time.Second, Path: wire.PathEvents})
	srv.SetMaxEvents(8)
	cfg := fast(srv, "")
	cfg.BatchSize = 50
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, h := guardWith(t, a)
	for i := range 100 {
		get(h, fmt.Sprintf("/r/%d", i))
	}
	start := time.Now()
	running(t, a)
	eventually(t, 20*time.Second, "100 events after the faults", func() bool { return len(paths(srv)) == 100 })
	if el := time.Since(start); el < time.Second {
		t.Errorf("delivered after %v: Retry-After (1 s) not honoured", el)
	}
	for p, n := range paths(srv) {
		if n != 1 {
			t.Errorf("%s delivered %d times", p, n)
		}
	}
	for _, b := range srv.Batches() {
		if len(b.Events) > 8 {
			t.Errorf("batch %s has %d events; the server takes 8", b.BatchID, len(b.Events))
		}
	}
	var codes []int
	for _, r := range srv.Requests() {
		if r.Path == wire.PathEvents {
			codes = append(codes, r.Status)
		}
	}
	if len(codes) < 6 || codes[0] != 500 || codes[3] != 429 {
		t.Errorf("answers to event batches: %v", codes)
	}
	if st := a.Stats(); st.Retried < 4 {
		t.Errorf("retried %d, want ≥ 4", st.Retried)
	}
}

// A policy published on the server reaches the guard within a second; after the
// server restarts the agent reconnects and gets the next one.
func TestPolicySync(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{PingInterval: 100 * time.Millisecond})
	dir := t.TempDir()
	a, err := agent.New(fast(srv, dir))
	if err != nil {
		t.Fatal(err)
	}
	g, h := guardWith(t, a)
	running(t, a)
	p := policy.Default()
	p.Deny = []string{"192.0.2.0/24"} // httptest's RemoteAddr
	start := time.Now()
	v := srv.Publish(p)
	eventually(t, 2*time.Second, "policy applied", func() bool { return g.Policy().Version == v })
	if el := time.Since(start); el > time.Second {
		t.Errorf("policy applied after %v", el)
	}
	if code := get(h, "/"); code != http.StatusForbidden {
		t.Errorf("denied client got %d", code)
	}
	srv.Down()
	time.Sleep(300 * time.Millisecond)
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	p.Deny = nil // an empty list clears the old one
	v2 := srv.Publish(p)
	eventually(t, 10*time.Second, "policy applied after the server restarted", func() bool { return g.Policy().Version == v2 })
	if code := get(h, "/"); code != http.StatusOK {
		t.Errorf("after the deny list was cleared: %d", code)
	}
}

// The last good policy survives an agent restart while the server is down.
func TestPolicyKeptAcrossRestart(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{})
	dir := t.TempDir()
	p := policy.Default()
	p.Deny = []string{"192.0.2.0/24"}
	{
		a, err := agent.New(fast(srv, dir))
		if err != nil {
			t.Fatal(err)
		}
		g, _ := guardWith(t, a)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { _ = a.Run(ctx) })
		v := srv.Publish(p)
		eventually(t, 2*time.Second, "policy applied", func() bool { return g.Policy().Version == v })
		cancel()
		wg.Wait()
	}
	srv.Down()
	a, err := agent.New(fast(srv, dir))
	if err != nil {
		t.Fatal(err)
	}
	g, h := guardWith(t, a)
	running(t, a)
	eventually(t, 2*time.Second, "kept policy restored", func() bool { return g.Policy().Version == 1 })
	if code := get(h, "/"); code != http.StatusForbidden {
		t.Errorf("the restored policy's deny list: %d", code)
	}
}

func BenchmarkRecord(b *testing.B) {
	a, err := agent.New(agent.Config{Endpoint: "http://127.0.0.1:1", Key: "k", BufferSize: 4096})
	if err != nil {
		b.Fatal(err)
	}
	e := vigil.Event{Kind: vigil.EventRequest, Time: time.Now(), Method: "GET", Path: "/products", Status: 200,
		Verdict: vigil.Verdict{RequestID: "01M7YXWXYN5SZPCBDVDW4EVKDZ", Action: vigil.ActionAllow, WouldBe: vigil.ActionAllow}}
	b.ReportAllocs()
	for b.Loop() {
		a.Record(e)
	}
}

// A batch whose answer is lost after Studio stored it is sent again; Studio stores it
// once and says it is a duplicate, and the agent counts its events once.
func TestLostAnswer(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{})
	srv.LoseNextAnswers(1, wire.PathEvents)
	a, err := agent.New(fast(srv, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	_, h := guardWith(t, a)
	for i := range 30 {
		get(h, fmt.Sprintf("/l/%d", i))
	}
	running(t, a)
	eventually(t, 10*time.Second, "every event counted as sent", func() bool { return a.Stats().Sent == 30 })
	if d := srv.Duplicates(); d < 1 {
		t.Errorf("%d duplicate deliveries, want ≥ 1 (an answer was lost)", d)
	}
	for p, n := range paths(srv) {
		if n != 1 {
			t.Errorf("%s stored %d times", p, n)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if st := a.Stats(); st.Sent != 30 {
		t.Errorf("sent %d, want 30 (each event once)", st.Sent)
	}
}

func TestRecordAllocs(t *testing.T) {
	a, err := agent.New(agent.Config{Endpoint: "http://127.0.0.1:1", Key: "k", BufferSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	e := vigil.Event{Kind: vigil.EventRequest, Verdict: vigil.Verdict{Action: vigil.ActionBlock, WouldBe: vigil.ActionBlock}}
	if n := vigiltest.AllocsPerRun(1000, func() { a.Record(e) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}

// An emergency lockdown published in Studio applies to the guard, and the next
// version without it lifts it: the mode is reversible, unlike the one-way emergency
// mode of guard-agent clients.
func TestEmergencyFromStudio(t *testing.T) {
	srv := wiretest.New(t, wiretest.Config{PingInterval: 100 * time.Millisecond})
	a, err := agent.New(fast(srv, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	g, h := guardWith(t, a)
	running(t, a)
	p := g.Policy()
	p.Emergency = policy.Emergency{Enabled: true}
	v := srv.Publish(p)
	eventually(t, 2*time.Second, "lockdown applied", func() bool { return g.Policy().Version == v })
	if code := get(h, "/"); code != http.StatusServiceUnavailable {
		t.Errorf("during the lockdown: %d, want 503", code)
	}
	p.Emergency = policy.Emergency{}
	v = srv.Publish(p)
	eventually(t, 2*time.Second, "lockdown lifted", func() bool { return g.Policy().Version == v })
	if code := get(h, "/"); code != http.StatusOK {
		t.Errorf("after the lockdown: %d, want 200", code)
	}
}
