package studio

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/studio/ui"
	"github.com/vigilhq/vigil/internal/studio/webhook"
	"github.com/vigilhq/vigil/policy"
)

// Config configures a Server. Store is required; every other zero field has the
// default its doc names.
type Config struct {
	// Store is Studio's database. Required.
	Store *store.Store
	// Logger receives the server's logs. Nil discards them.
	Logger *slog.Logger
	// Secure marks the session cookie Secure. Set it when Studio is reached over
	// HTTPS, directly or through a TLS-terminating proxy; a browser does not send a
	// Secure cookie over plain HTTP, so leaving it off is what lets a loopback demo
	// log in.
	Secure bool
	// SessionTTL is how long a dashboard session lasts. Zero means 12 hours.
	SessionTTL time.Duration
	// Retention bounds the stored events; Run prunes every RetentionInterval. The
	// zero value keeps everything.
	Retention store.Retention
	// RetentionInterval is how often Run prunes. Zero means 10 minutes.
	RetentionInterval time.Duration
	// TrustedProxies lists the CIDR prefixes of proxies in front of Studio whose
	// X-Forwarded-For the login rate limit believes. Empty trusts none: the client is
	// the connection's address.
	TrustedProxies []string
	// LoginLimit is how many login attempts one client address may make per minute.
	// Zero means 10.
	LoginLimit int
	// Webhooks configures webhook delivery. Its Store is set by New.
	Webhooks webhook.Config
}

// Server is Studio's HTTP server. Make it with New; serve Handler; call Run for the
// background work (policy fan-out, live events, webhooks, retention). It is safe for
// concurrent use.
type Server struct {
	cfg     Config
	st      *store.Store
	log     *slog.Logger
	id      string // this replica's ID, to recognise its own notifications
	routes  []route
	handler http.Handler
	guard   *vigil.Guard // Studio's own protection (login rate limit, scanners)
	ui      *ui.Handler  // the dashboard
	hooks   *webhook.Sender
	push    *pusher
	live    *liveHub
	m       *counters

	after chan afterJob // ingested batches' follow-up work, for Run

	hookCache hookCache
	seenDNA   dnaSet

	mu     sync.Mutex
	agents map[int64]map[string]agentSeen // project → agent ID → last status
	rules  map[int64]*rulesState          // project → guard-agent rules last served
}

// New validates cfg and builds a Server. It starts nothing: call Run.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("studio: Config.Store is required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.RetentionInterval <= 0 {
		cfg.RetentionInterval = 10 * time.Minute
	}
	if cfg.LoginLimit <= 0 {
		cfg.LoginLimit = 10
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	s := &Server{
		cfg: cfg, st: cfg.Store, log: log, id: hex.EncodeToString(id[:]),
		m:      newCounters(),
		agents: map[int64]map[string]agentSeen{},
		rules:  map[int64]*rulesState{},
		after:  make(chan afterJob, 1024),
	}
	s.push = newPusher(s)
	s.live = newLiveHub()
	wc := cfg.Webhooks
	wc.Store = cfg.Store
	if wc.Logger == nil {
		wc.Logger = log
	}
	hooks, err := webhook.New(wc)
	if err != nil {
		return nil, fmt.Errorf("studio: %w", err)
	}
	s.hooks = hooks
	g, err := s.selfGuard()
	if err != nil {
		return nil, err
	}
	s.guard = g
	if s.ui, err = ui.New(); err != nil {
		return nil, fmt.Errorf("studio: %w", err)
	}
	s.routes = s.routeTable()
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	mux.Handle("/", s.guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "no such route")
	})))
	s.handler = limitBody(mux)
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// uiShell: GET / → the dashboard's page (package ui).
func (s *Server) uiShell(w http.ResponseWriter, r *http.Request, _ *caller) { s.ui.ServeShell(w, r) }

// uiAsset: GET /ui/<version>/<file> → the dashboard's scripts, styles and data.
func (s *Server) uiAsset(w http.ResponseWriter, r *http.Request, _ *caller) { s.ui.ServeAsset(w, r) }

// selfGuard builds the vigil.Guard that protects Studio itself: the routes marked
// guarded in the table (the login and the dashboard's pages) and every unknown path,
// where honeypot paths ban scanners. Machine routes (ingest, policy, the admin API,
// which keys authenticate) skip it: their clients are agents and scripts, which its
// bot detectors would rightly score as automation. The login gets a per-client limit
// and credential-stuffing detection.
func (s *Server) selfGuard() (*vigil.Guard, error) {
	p := policy.Policy{
		Routes: []policy.Route{{
			Name: "login", Methods: []string{"POST"}, Paths: []string{"/v1/login"},
			RateLimit: policy.Limit{Rate: s.cfg.LoginLimit, Period: policy.Duration(time.Minute)},
		}},
		Logins: policy.Logins{Paths: []string{"/v1/login"}, UsernameFields: []string{"name"}},
	}
	g, err := vigil.New(vigil.Config{Policy: p, TrustedProxies: s.cfg.TrustedProxies, Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("studio: self-protection: %w", err)
	}
	return g, nil
}

// Run does the background work until ctx ends: it follows the store's notifications
// (control changes and live events from other replicas), delivers webhooks, prunes
// old events and expired sessions. It returns nil when ctx ends, or an error when
// the notifications cannot be followed at all.
func (s *Server) Run(ctx context.Context) error {
	controls, err := s.st.Subscribe(ctx, channelControls)
	if err != nil {
		return fmt.Errorf("studio: subscribe: %w", err)
	}
	live, err := s.st.Subscribe(ctx, channelLive)
	if err != nil {
		return fmt.Errorf("studio: subscribe: %w", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.followControls(ctx, controls) })
	wg.Go(func() { s.followLive(ctx, live) })
	wg.Go(func() {
		if err := s.hooks.Run(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("studio: webhook sender stopped", "err", err)
		}
	})
	wg.Go(func() { s.housekeeping(ctx) })
	wg.Go(func() { s.afterLoop(ctx) })
	wg.Wait()
	return nil
}

// housekeeping prunes events past retention and expired sessions.
func (s *Server) housekeeping(ctx context.Context) {
	t := time.NewTicker(s.cfg.RetentionInterval)
	defer t.Stop()
	for {
		if s.cfg.Retention != (store.Retention{}) {
			n, err := s.st.Prune(ctx, time.Now(), s.cfg.Retention)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("studio: retention failed", "err", err)
			case n > 0:
				s.log.Info("studio: retention deleted events", "events", n)
				s.m.pruned.Add(n)
			}
		}
		if _, err := s.st.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("studio: deleting expired sessions failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// limitBody caps every request body at maxBody; the ingest handlers read with lower
// caps of their own.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// maxBody is the largest request body Studio reads: an ingest batch's cap, which is
// the largest of all.
const maxBody = 8 << 20
