// Package demo is `vigil demo`: a pretend shop protected by a Vigil guard, and a traffic
// simulator that sends it browser visitors, scanners, injection attempts, a flood and
// attack tools over loopback while printing, once a second, what the guard did with each
// class of request.
//
// Every simulated request knows the outcome it should get: browsers are allowed, attacks
// are blocked, the flood is rate-limited once over its limit. The final summary names any
// request whose outcome was not the expected one, with the guard's verdict for it, so
// the demo doubles as an end-to-end check of the default detectors.
//
// The pieces are separate so later tools can reuse them: Simulator sends and counts
// traffic against any base URL; Demo wires it to the shop and the guard.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fraud"
	"github.com/vigilhq/vigil/policy"
)

// Config configures the demo. The zero value runs it on 127.0.0.1:8080 until the
// context ends.
type Config struct {
	// Listen is the address of the demo shop. Empty means 127.0.0.1:8080; a port of 0
	// ("127.0.0.1:0") picks a free one. The shop stays reachable there for manual
	// requests while the simulator runs.
	Listen string
	// Duration ends the demo after this long. Zero runs it until the context ends.
	Duration time.Duration
	// Interval is the time between two tables of counts. Zero means one second.
	Interval time.Duration
}

// Demo is a protected demo shop and its traffic simulator. Build one with New and run it
// once with Run; Counts may be called at any time, also concurrently with Run. The zero
// value is not usable.
type Demo struct {
	cfg      Config
	guard    *vigil.Guard
	sim      *Simulator
	verdicts *verdictLog
}

// Policy returns the demo's policy: the default policy in block mode with a per-IP rate
// limit of DemoRateLimit, which a browsing visitor never reaches and the simulated flood
// passes within a second.
func Policy() policy.Policy {
	p := policy.Default()
	l := DemoRateLimit()
	p.RateLimit.PerIP = policy.Limit{Rate: l.Rate, Period: policy.Duration(l.Period), Burst: l.Burst}
	return p
}

// New builds the guard, the shop and the simulator. It starts nothing.
func New(cfg Config) (*Demo, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.Duration < 0 || cfg.Interval < 0 {
		return nil, errors.New("demo: duration and interval must not be negative")
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	d := &Demo{cfg: cfg, verdicts: newVerdictLog(4096)}
	var err error
	d.guard, err = vigil.New(vigil.Config{
		Policy: Policy(),
		// The simulator sends from loopback and plays the load balancer in front of
		// the shop: the guard believes its X-Forwarded-For, so each simulated client
		// gets its own address (see Simulator). Requests from anywhere else are judged
		// by their connection's address.
		TrustedProxies: []string{"127.0.0.1/32", "::1/128"},
		Events:         d.verdicts,
		Phones:         fraud.PhoneAnalyzer{},
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if d.sim, err = NewSimulator(SimulatorConfig{RateLimit: DemoRateLimit()}); err != nil {
		return nil, err
	}
	return d, nil
}

// Counts returns the simulator's counts so far.
func (d *Demo) Counts() Counts { return d.sim.Counts() }

// Run serves the shop on the configured address, runs the simulator against it and
// prints a table of counts to stdout every interval, until ctx ends or the configured
// duration has passed. It then shuts the server down (waiting at most five seconds for
// requests in flight), prints a summary that names every unexpected outcome, and returns
// nil. It returns an error when the address cannot be listened on or the server fails.
func (d *Demo) Run(ctx context.Context, stdout io.Writer) error {
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	base := "http://" + dialAddr(ln.Addr())
	if d.cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.cfg.Duration)
		defer cancel()
	}
	fmt.Fprintf(stdout, "vigil demo: app on %s (try: curl -i %s/.env)\n", base, base)
	fmt.Fprintf(stdout, "vigil demo: simulating %d browser visitors and %d kinds of attack; every %v a table of what the guard did\n",
		d.sim.cfg.Visitors, len(Classes())-1, d.cfg.Interval)
	fmt.Fprintf(stdout, "vigil demo: requests from this machine count as the trusted load balancer; add -H 'X-Forwarded-For: 192.0.2.10' to be a client the guard can ban\n")

	srv := &http.Server{
		Handler:           d.guard.Handler(newShop()),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("demo: serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("demo: shutdown: %w", err)
		}
		return nil
	})
	g.Go(func() error { return d.sim.Run(ctx, base) })
	rep := &reporter{w: stdout, verdicts: d.verdicts}
	g.Go(func() error {
		t := time.NewTicker(d.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				rep.table(d.sim.Counts(), false)
			}
		}
	})
	err = g.Wait()
	rep.table(d.sim.Counts(), true)
	rep.summary(d.sim.Counts())
	return err
}

// Run runs the demo described by cfg until ctx ends or cfg.Duration has passed, writing
// its tables and summary to stdout. See Demo.Run.
func Run(ctx context.Context, cfg Config, stdout io.Writer) error {
	d, err := New(cfg)
	if err != nil {
		return err
	}
	return d.Run(ctx, stdout)
}

// dialAddr returns the address to reach a listener at: a wildcard host becomes
// loopback.
func dialAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			ip = net.IPv4(127, 0, 0, 1)
		} else {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// verdictLog is an EventSink that keeps the verdicts of the most recent requests by
// request ID, so the demo can say why a request got an unexpected outcome. It is safe for
// concurrent use; Record holds a lock only to store one entry.
type verdictLog struct {
	mu   sync.Mutex
	ring []string // request IDs, oldest overwritten first
	next int
	byID map[string]vigil.Verdict
}

func newVerdictLog(n int) *verdictLog {
	return &verdictLog{ring: make([]string, n), byID: make(map[string]vigil.Verdict, n)}
}

// Record implements vigil.EventSink.
func (l *verdictLog) Record(e vigil.Event) {
	if e.Kind != vigil.EventRequest || e.Verdict.RequestID == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.ring[l.next]; old != "" {
		delete(l.byID, old)
	}
	l.ring[l.next] = e.Verdict.RequestID
	l.next = (l.next + 1) % len(l.ring)
	l.byID[e.Verdict.RequestID] = e.Verdict
}

// lookup returns the verdict of the request with the given ID, if it is still kept.
func (l *verdictLog) lookup(id string) (vigil.Verdict, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.byID[id]
	return v, ok
}

// explain returns a one-line account of a verdict: the decided action, the score and
// every signal.
func explain(v vigil.Verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, score %d", v.WouldBe, v.Score)
	if v.Enrichment.Client != "" {
		fmt.Fprintf(&b, ", client %s/%s", v.Enrichment.ClientKind, v.Enrichment.Client)
	}
	if len(v.Signals) == 0 {
		b.WriteString(", no signals")
	}
	for _, s := range v.Signals {
		fmt.Fprintf(&b, "; %s/%s %d", s.Detector, s.Code, s.Score)
		if s.Detail != "" {
			fmt.Fprintf(&b, " (%s)", s.Detail)
		}
	}
	return b.String()
}
