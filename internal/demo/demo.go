// Package demo is `vigil demo`: a pretend shop protected by a Vigil guard, Studio with
// its dashboard, the agent that reports every decision of the guard to Studio and
// takes bans and policy back, and a traffic simulator that sends the shop browser
// visitors, good bots, scanners, injection attempts, credential stuffers, signup
// fraudsters, scrapers that lie about their browser over real TLS, a flood and attack
// tools, while printing, once a second, what the guard did with each class of request.
//
// Every simulated request knows the outcome it should get: browsers are allowed, attacks
// are blocked, the flood is rate-limited once over its limit, stuffers are stopped at
// the per-IP limit. The final summary names any request whose outcome was not the
// expected one, with the guard's verdict for it, so the demo doubles as an end-to-end
// check of the default detectors.
//
// The pieces are separate so later tools can reuse them: Simulator sends and counts
// traffic against any base URL; Demo wires it to the shop, the guard and Studio.
package demo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/fraud"
	"github.com/vigilhq/vigil/internal/selfsigned"
	"github.com/vigilhq/vigil/internal/studio"
	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/policy"
)

// Config configures the demo. The zero value runs the shop on 127.0.0.1:8080 and
// 127.0.0.1:8443 without Studio until the context ends.
type Config struct {
	// Listen is the address of the demo shop over plain HTTP, where the simulator
	// sends most of its traffic. Empty means 127.0.0.1:8080; a port of 0
	// ("127.0.0.1:0") picks a free one. The shop stays reachable there for manual
	// requests while the simulator runs.
	Listen string
	// TLSListen is the address of the same shop over HTTPS with a self-signed
	// certificate, served through a fingerprint.Server so that the guard sees each
	// connection's JA4 and HTTP/2 fingerprint. Empty means 127.0.0.1:8443.
	TLSListen string
	// Store is Studio's database. Nil runs the demo without Studio and agent: the
	// shop, the guard and the simulator only.
	Store *store.Store
	// Data is the directory of the demo's own files (PasswordFile, KeyFile, AgentDir),
	// normally the one that holds Store's SQLite file. Required with Store.
	Data string
	// StudioListen is Studio's address, with Store. Empty means 127.0.0.1:7070.
	StudioListen string
	// Rate caps the simulated requests per second (SimulatorConfig.MaxRate). Zero
	// means the simulator's default.
	Rate int
	// Duration ends the demo after this long. Zero runs it until the context ends.
	Duration time.Duration
	// Interval is the time between two tables of counts. Zero means one second.
	Interval time.Duration
	// Logger receives the logs of Studio, the agent and the guards. Nil discards them.
	Logger *slog.Logger
}

// Demo is a protected demo shop, Studio and the traffic simulator. Build one with New
// and run it once with Run; Counts may be called at any time, also concurrently with
// Run. The zero value is not usable.
type Demo struct {
	cfg      Config
	sim      *Simulator
	verdicts *verdictLog
	cert     tls.Certificate
}

// Policy returns the demo's policy: the default policy in block mode with a per-IP rate
// limit of DemoRateLimit, which a browsing visitor never reaches and the simulated flood
// passes within a second; the shop's login form protected against credential stuffing
// with a per-IP limit of DemoStuffingLimit usernames; its signup form checked for
// disposable addresses; and feed readers, link previews and monitors let through.
func Policy() policy.Policy {
	p := policy.Default()
	l := DemoRateLimit()
	p.RateLimit.PerIP = policy.Limit{Rate: l.Rate, Period: policy.Duration(l.Period), Burst: l.Burst}
	p.Logins = policy.Logins{Paths: []string{"/login"}, MaxUsernamesPerIP: DemoStuffingLimit}
	p.Signups = policy.Signups{Paths: []string{"/signup"}}
	p.Bots.Allow = []string{"feed", "social", "monitor"}
	return p
}

// New checks cfg and builds the simulator and the TLS certificate. It starts nothing
// and touches no file.
func New(cfg Config) (*Demo, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.TLSListen == "" {
		cfg.TLSListen = "127.0.0.1:8443"
	}
	if cfg.StudioListen == "" {
		cfg.StudioListen = "127.0.0.1:7070"
	}
	if cfg.Duration < 0 || cfg.Interval < 0 || cfg.Rate < 0 {
		return nil, errors.New("demo: duration, interval and rate must not be negative")
	}
	if cfg.Store != nil && cfg.Data == "" {
		return nil, errors.New("demo: a Studio store needs a data directory")
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Demo{cfg: cfg, verdicts: newVerdictLog(4096)}
	var err error
	if d.cert, err = selfsigned.Certificate(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	leaf, err := x509.ParseCertificate(d.cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	if d.sim, err = NewSimulator(SimulatorConfig{RateLimit: DemoRateLimit(), MaxRate: cfg.Rate, TLSRoots: roots}); err != nil {
		return nil, err
	}
	return d, nil
}

// Counts returns the simulator's counts so far.
func (d *Demo) Counts() Counts { return d.sim.Counts() }

// Run prepares Studio (with Config.Store), serves Studio, the shop over HTTP and HTTPS,
// runs the agent and the simulator, and prints a table of counts to stdout every
// interval, until ctx ends or the configured duration has passed. It then stops the
// simulator and the shop (waiting at most five seconds for requests in flight), lets
// the agent deliver what it holds (at most three seconds; the rest stays in its spool
// for the next start), stops Studio, prints a summary that names every unexpected
// outcome, and returns nil. It returns an error when an address cannot be listened on,
// Studio's database cannot be prepared, or a server fails.
func (d *Demo) Run(ctx context.Context, stdout io.Writer) error {
	if d.cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.cfg.Duration)
		defer cancel()
	}
	var lns []net.Listener
	closeAll := func() {
		for _, l := range lns {
			_ = l.Close()
		}
	}
	listen := func(addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("demo: %w", err)
		}
		lns = append(lns, ln)
		return ln, nil
	}
	ln, err := listen(d.cfg.Listen)
	if err != nil {
		return err
	}
	tln, err := listen(d.cfg.TLSListen)
	if err != nil {
		return err
	}
	base, tlsBase := "http://"+dialAddr(ln.Addr()), "https://"+dialAddr(tln.Addr())

	// Studio, when there is one: the database prepared, the server listening.
	var st *studioRun
	if d.cfg.Store != nil {
		sln, err := listen(d.cfg.StudioListen)
		if err != nil {
			return err
		}
		if st, err = d.startStudio(ctx, sln); err != nil {
			closeAll()
			return err
		}
		defer st.stop()
	}

	// Two guards share one store, so a ban placed by either (or by Studio through the
	// agent) holds on both. The plain one trusts loopback as the load balancer the
	// simulator plays; the TLS one trusts no proxy, so that the connection it
	// fingerprints is the client's own.
	var direct *vigil.Guard
	countryDB, removeCountryDB, err := writeCountryDB()
	if err != nil {
		closeAll()
		return err
	}
	defer removeCountryDB()
	shared := vigil.NewMemoryStore(vigil.MemoryStoreConfig{})
	sink := vigil.EventSink(d.verdicts)
	if st != nil {
		sink = tee{d.verdicts, st.agent}
	}
	gcfg := vigil.Config{
		Policy: Policy(),
		// The simulator sends from loopback and plays the load balancer in front of
		// the shop: the plain guard believes its X-Forwarded-For, so each simulated
		// client gets its own address (see Simulator). Requests from anywhere else
		// are judged by their connection's address.
		TrustedProxies: []string{"127.0.0.1/32", "::1/128"},
		Store:          shared,
		Events:         sink,
		Phones:         fraud.PhoneAnalyzer{},
		Logger:         d.cfg.Logger,
		// Made-up countries for the simulated clients' documentation ranges
		// (DemoCountries), so that the map has something to show.
		Geo: vigil.GeoConfig{CountryDB: countryDB},
	}
	plain, err := vigil.New(gcfg)
	if err == nil {
		gcfg.TrustedProxies = nil
		direct, err = vigil.New(gcfg)
	}
	if err != nil {
		closeAll()
		return fmt.Errorf("demo: %w", err)
	}
	if st != nil {
		st.agent.SetGuard(guards{plain, direct})
		st.startAgent()
	}

	d.banner(stdout, base, tlsBase, st)
	d.sim.cfg.TLSURL = tlsBase

	shop := newShop()
	srv := &http.Server{
		Handler:           plain.Handler(shop),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(d.cfg.Logger.Handler(), slog.LevelDebug),
	}
	tsrv := &fingerprint.Server{HTTP: &http.Server{
		Handler:           direct.Handler(shop),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{d.cert}},
		ErrorLog:          slog.NewLogLogger(d.cfg.Logger.Handler(), slog.LevelDebug),
	}, Logger: d.cfg.Logger}

	g, gctx := errgroup.WithContext(ctx)
	for _, s := range []struct {
		srv interface {
			Serve(net.Listener) error
			Shutdown(context.Context) error
		}
		ln net.Listener
	}{{srv, ln}, {tsrv, tln}} {
		g.Go(func() error {
			if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("demo: serve: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("demo: shutdown: %w", err)
			}
			return nil
		})
	}
	if st != nil {
		g.Go(func() error {
			select {
			case err := <-st.failed:
				return err
			case <-gctx.Done():
				return nil
			}
		})
	}
	g.Go(func() error { return d.sim.Run(gctx, base) })
	rep := &reporter{w: stdout, verdicts: d.verdicts}
	g.Go(func() error {
		t := time.NewTicker(d.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-t.C:
				rep.table(d.sim.Counts(), false)
			}
		}
	})
	err = g.Wait()
	rep.table(d.sim.Counts(), true)
	rep.summary(d.sim.Counts())
	if st != nil {
		st.drain(stdout)
	}
	return err
}

// banner prints where everything is and how to sign in.
func (d *Demo) banner(w io.Writer, base, tlsBase string, st *studioRun) {
	var b strings.Builder
	b.WriteString("vigil demo: THIS IS A DEMO SETUP: simulated traffic, a self-signed certificate, a password kept in a plain file. Do not expose it.\n")
	if st != nil {
		if st.login.created {
			fmt.Fprintf(&b, "vigil demo: first start: created Studio's admin user and project %q in %s\n", ProjectName, d.cfg.Data)
		}
		fmt.Fprintf(&b, "vigil demo: Studio dashboard: %s/\n", st.url)
		switch lg := st.login; {
		case lg.password == "":
			fmt.Fprintf(&b, "vigil demo:   sign in as %q with the password `vigil studio` printed when it set up %s\n", lg.user, d.cfg.Data)
		default:
			fmt.Fprintf(&b, "vigil demo:   user: %s\n", lg.user)
			fmt.Fprintf(&b, "vigil demo:   password: %s   (demo credentials, kept in %s)\n", lg.password, lg.file)
			if lg.stale {
				fmt.Fprintf(&b, "vigil demo:   (that password was changed in Studio since; delete %s to start over)\n", d.cfg.Data)
			}
		}
		fmt.Fprintf(&b, "vigil demo: the agent reports every decision to Studio's project %q; bans placed there reach the shop within a second\n", ProjectName)
		fmt.Fprintf(&b, "vigil demo: try it: ban %s (a price scraper the detectors let through) and watch the suspect row turn to block\n", SuspectIPs()[0])
	}
	fmt.Fprintf(&b, "vigil demo: app on %s and %s (self-signed; try: curl -i %s/.env)\n", base, tlsBase, base)
	fmt.Fprintf(&b, "vigil demo: simulating %d browser visitors and %d other kinds of client; every %v a table of what the guard did\n",
		d.sim.cfg.Visitors, len(Classes())-1, d.cfg.Interval)
	b.WriteString("vigil demo: plain-HTTP requests from this machine count as the trusted load balancer; add -H 'X-Forwarded-For: 192.0.2.10' to be a client the guard can ban\n")
	b.WriteString("vigil demo: the simulated clients' countries are made up (their addresses are documentation ranges), so that the map has something to show\n")
	_, _ = io.WriteString(w, b.String())
}

// studioRun is Studio running for the demo: its server, its background work and the
// agent that reports to it.
type studioRun struct {
	url    string
	login  login
	agent  *agent.Agent
	failed chan error // the first error of Studio's server or background work

	srv          *http.Server
	cancelBase   context.CancelFunc // ends Studio's requests (live streams)
	stopRun      context.CancelFunc // ends Studio's background work
	stopAgent    context.CancelFunc
	agentCtx     context.Context
	wg           sync.WaitGroup // Studio's server and background work
	agentDone    chan struct{}  // closed when the agent's Run returned
	agentStarted bool
	stopOnce     sync.Once
}

// startStudio prepares the database, starts Studio's server on ln and its background
// work, and builds the agent (started by startAgent once the guards exist).
func (d *Demo) startStudio(ctx context.Context, ln net.Listener) (*studioRun, error) {
	lg, _, key, err := setupStudio(ctx, d.cfg.Store, d.cfg.Data, Policy())
	if err != nil {
		return nil, err
	}
	ssrv, err := studio.New(studio.Config{Store: d.cfg.Store, Logger: d.cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("demo: studio: %w", err)
	}
	r := &studioRun{url: "http://" + dialAddr(ln.Addr()), login: lg, failed: make(chan error, 2), agentDone: make(chan struct{})}
	r.agent, err = agent.New(agent.Config{
		Endpoint:      r.url,
		Key:           key,
		Dir:           filepath.Join(d.cfg.Data, AgentDir),
		FlushInterval: 500 * time.Millisecond,
		Instance:      "vigil-demo",
		Logger:        d.cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: agent: %w", err)
	}
	// Studio outlives ctx: it must still take the agent's last batches after the
	// shop has stopped.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	r.cancelBase, r.stopRun = cancelBase, stopRun
	r.agentCtx, r.stopAgent = context.WithCancel(context.WithoutCancel(ctx))
	r.srv = &http.Server{
		Handler:           ssrv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(d.cfg.Logger.Handler(), slog.LevelDebug),
	}
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		if err := r.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			r.failed <- fmt.Errorf("demo: studio: %w", err)
		}
	}()
	go func() {
		defer r.wg.Done()
		if err := ssrv.Run(runCtx); err != nil {
			r.failed <- fmt.Errorf("demo: studio: %w", err)
		}
	}()
	return r, nil
}

// startAgent runs the agent until stop.
func (r *studioRun) startAgent() {
	r.agentStarted = true
	go func() {
		defer close(r.agentDone)
		if err := r.agent.Run(r.agentCtx); err != nil {
			select {
			case r.failed <- fmt.Errorf("demo: agent: %w", err):
			default:
			}
		}
	}()
}

// drain gives the agent up to three seconds to deliver what it holds, then stops
// everything and says how much reached Studio.
func (r *studioRun) drain(stdout io.Writer) {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		s := r.agent.Stats()
		if s.Sent+s.Rejected+s.DroppedQueueFull+s.DroppedQueueErrors >= s.Recorded && s.SpoolBatches == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.stop()
	s := r.agent.Stats()
	fmt.Fprintf(stdout, "vigil demo: the agent delivered %d of %d events to Studio", s.Sent, s.Recorded)
	if s.SpoolBatches > 0 {
		fmt.Fprintf(stdout, "; %d batches wait in its spool for the next start", s.SpoolBatches)
	}
	fmt.Fprintln(stdout, ".")
}

// stop stops the agent (which spools what it still holds), then Studio. It may be
// called more than once.
func (r *studioRun) stop() {
	r.stopOnce.Do(func() {
		r.stopAgent()
		if r.agentStarted {
			<-r.agentDone
		}
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.cancelBase()
		if err := r.srv.Shutdown(sctx); err != nil {
			_ = r.srv.Close()
		}
		r.stopRun()
		r.wg.Wait()
	})
}

// tee is an EventSink that hands every event to several sinks.
type tee []vigil.EventSink

// Record implements vigil.EventSink.
func (t tee) Record(e vigil.Event) {
	for _, s := range t {
		s.Record(e)
	}
}

// guards is the agent's view of the demo's two guards: a policy goes to both; a ban
// goes through the first into the store they share.
type guards []*vigil.Guard

func (gs guards) SetPolicy(p policy.Policy) error {
	for _, g := range gs {
		if err := g.SetPolicy(p); err != nil {
			return err
		}
	}
	return nil
}

func (gs guards) Policy() policy.Policy { return gs[0].Policy() }

func (gs guards) Ban(ctx context.Context, b vigil.Ban) error { return gs[0].Ban(ctx, b) }

func (gs guards) Unban(ctx context.Context, kind vigil.BanKind, value string) (bool, error) {
	return gs[0].Unban(ctx, kind, value)
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
