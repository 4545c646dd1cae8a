package agent_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/internal/vigiltest"
	"github.com/vigilhq/vigil/policy"
)

// nopWriter is a ResponseWriter that costs nothing, so benchmarks measure the guard.
type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

// allowGuard is the root package's benchmark guard (default policy, per-IP limit out of
// the way), reporting to sink when it is not nil.
func allowGuard(tb testing.TB, sink vigil.EventSink) http.Handler {
	p := policy.Default()
	p.RateLimit.PerIP = policy.Limit{Rate: 1_000_000_000, Period: policy.Duration(time.Second)}
	g, err := vigil.New(vigil.Config{Policy: p, Events: sink})
	if err != nil {
		tb.Fatal(err)
	}
	return g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
}

// runningAgent is an agent with a spool, sending to a server on loopback that reads
// and acknowledges each batch without decoding it, so that the benchmark charges the
// agent's work, not a Studio's.
func runningAgent(tb testing.TB) *agent.Agent {
	srv := newDiscard("k")
	tb.Cleanup(srv.Close)
	a, err := agent.New(agent.Config{Endpoint: srv.URL, Key: "k", Dir: tb.TempDir(), NoPolicy: true})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return a
}

// BenchmarkGuardAllowAgent is the budgeted allow path (DESIGN §8: ≤ 5 µs/op, ≤ 16
// allocs/op) without and with the agent attached and running, side by side: Chrome's
// navigation GET through the default guard, memory store. The agent's cost on the
// request is Record; batching, redaction and sending run on its own goroutines (on a
// 2-core machine they share the CPU with the benchmark loop).
func BenchmarkGuardAllowAgent(b *testing.B) {
	for _, c := range []struct {
		name string
		sink func(testing.TB) vigil.EventSink
	}{
		{"none", func(testing.TB) vigil.EventSink { return nil }},
		{"agent", func(tb testing.TB) vigil.EventSink { return runningAgent(tb) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := allowGuard(b, c.sink(b))
			r := vigiltest.NavigationRequest("/products?page=2&sort=price")
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			if w.code != 0 && w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
		})
	}
}

// TestGuardAllowAgentAllocs: attaching the agent adds no allocation to a request.
func TestGuardAllowAgentAllocs(t *testing.T) {
	r := vigiltest.NavigationRequest("/products?page=2&sort=price")
	allocs := func(h http.Handler) float64 {
		w := &nopWriter{h: http.Header{}}
		return vigiltest.AllocsPerRun(2000, func() { clear(w.h); h.ServeHTTP(w, r) })
	}
	without := allocs(allowGuard(t, nil))
	a := runningAgent(t)
	with := allocs(allowGuard(t, a))
	if with > without {
		t.Errorf("allow path: %.1f allocs/op with the agent, %.1f without", with, without)
	}
	if with > 16 {
		t.Errorf("allow path with the agent: %.1f allocs/op, budget 16", with)
	}
	if a.Stats().Recorded < 2000 {
		t.Errorf("the agent recorded %d events", a.Stats().Recorded)
	}
}
