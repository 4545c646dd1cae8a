package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/config"
	"github.com/vigilhq/vigil/policy"
	"github.com/vigilhq/vigil/redisstore"
)

// Server timeouts. There is no read or write timeout on whole requests: they would cut
// long uploads, long downloads and WebSocket connections.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

func newProxy(env func(string) (string, bool)) *cobra.Command {
	var cf configFlags
	var shutdownTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "proxy --upstream URL [flags]",
		Short: "Run the guard as a reverse proxy in front of an HTTP service",
		Long: `Proxy listens on --listen and sends every request through the guard to --upstream.
Blocked requests never reach the upstream; allowed ones carry X-Forwarded-For and
X-Real-IP set to the client IP as the guard established it (forwarding headers are
believed only from --trusted-proxies), X-Forwarded-Host, X-Forwarded-Proto and the
guard's X-Request-Id. GET /healthz is answered by the proxy itself.

Logs are JSON lines on stderr. In monitor mode nothing is enforced, and every request
that would have been blocked or rate-limited is logged at info level as
"monitor: request would be acted on", with the would-be action.

On SIGINT or SIGTERM the proxy stops accepting connections, lets requests in flight
finish for up to --shutdown-timeout, then closes what is left and exits 0.

` + envHelp(),
		Example: `  vigil proxy --upstream http://127.0.0.1:8000
  vigil proxy --config vigil.yaml --mode monitor
  VIGIL_UPSTREAM=http://app:8000 vigil proxy --listen :8080 --trusted-proxies 10.0.0.0/8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if shutdownTimeout <= 0 {
				return usageError{err: errors.New("--shutdown-timeout must be positive"), usage: cmd.UseLine()}
			}
			c, err := cf.load(cmd, env)
			if err != nil {
				return err
			}
			level, _ := c.Level() // validated by load
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			_, p, runStore, metrics, err := c.Build(log)
			if err != nil {
				return err // load built the same configuration without error
			}
			var cert *tls.Certificate
			if c.TLS.Enabled() {
				crt, err := c.TLS.Certificate()
				if err != nil {
					return fmt.Errorf("tls: %w", err)
				}
				cert = &crt
			}
			ln, err := net.Listen("tcp", c.Listen)
			if err != nil {
				return err
			}
			log.Info("vigil proxy listening", "addr", ln.Addr().String(), "tls", cert != nil, "upstream", c.Proxy.Upstream,
				"mode", c.Guard.Policy.Mode, "trusted_proxies", append([]string{}, c.Guard.TrustedProxies...))
			if c.TLS.SelfSigned {
				log.Warn("serving a self-signed certificate: for development only")
			}
			if c.Guard.Policy.Mode == policy.ModeMonitor {
				log.Info("monitor mode: decisions are logged, not enforced")
			}
			defer p.CloseIdleConnections()
			if c.RedisURL != "" {
				log.Info("state shared through Redis", "mode", redisMode(c))
			}
			if c.MetricsListen != "" {
				mln, err := net.Listen("tcp", c.MetricsListen)
				if err != nil {
					_ = ln.Close()
					return fmt.Errorf("metrics_listen: %w", err)
				}
				mux := http.NewServeMux()
				mux.Handle("GET /metrics", metrics)
				msrv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
				go func() { _ = msrv.Serve(mln) }()
				defer msrv.Close()
				log.Info("metrics listening", "addr", mln.Addr().String(), "path", "/metrics")
			}
			err = serve(cmd.Context(), ln, cert, p, log, shutdownTimeout, runStore)
			log.Info("vigil proxy stopped")
			return err
		},
	}
	cf.register(cmd)
	cmd.Flags().DurationVar(&shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish on shutdown")
	return cmd
}

// serve serves h on ln until ctx ends, then shuts down gracefully: it stops accepting,
// waits up to timeout for requests in flight, then cancels the contexts of those left
// (which ends proxied WebSocket connections) and closes their connections. It returns
// after every handler has returned, with nil, or with the error that stopped the
// server early. With a certificate it terminates TLS itself through a
// fingerprint.Server, which observes every connection (JA4, HTTP/2, header order).
//
// runStore is the store's background work (Redis sync); it runs until the server has
// shut down, so that requests finishing during shutdown still reach a live store.
func serve(ctx context.Context, ln net.Listener, cert *tls.Certificate, h http.Handler, log *slog.Logger, timeout time.Duration, runStore func(context.Context) error) error {
	// Requests get a context of their own that outlives ctx until shutdown is over, so
	// that a signal lets them finish; http.Server does not track hijacked connections,
	// so handlers are counted here.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	var handlers running
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handlers.add(1)
			defer handlers.add(-1)
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	var server interface {
		Serve(net.Listener) error
		Shutdown(context.Context) error
		Close() error
	} = srv
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		server = &fingerprint.Server{HTTP: srv, Logger: log}
	}
	storeCtx, stopStore := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStore()
	storeDone := make(chan error, 1)
	go func() { storeDone <- runStore(storeCtx) }()
	defer func() {
		stopStore()
		if err := <-storeDone; err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("store stopped with an error", "err", err)
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down", "timeout", timeout.String())
		sctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		err := server.Shutdown(sctx)
		if err == nil {
			// Shutdown does not track hijacked connections: a proxied WebSocket's
			// handler is still running. Give such handlers the rest of the timeout.
			drained := make(chan struct{})
			go func() { handlers.wait(); close(drained) }()
			select {
			case <-drained:
			case <-sctx.Done():
				err = sctx.Err()
			}
		}
		cancelBase()
		if err != nil {
			log.Warn("requests still in flight after the shutdown timeout were cut off", "timeout", timeout.String())
			_ = server.Close()
		}
		handlers.wait()
		return nil
	})
	return g.Wait()
}

// running counts the handlers that are running. Unlike a sync.WaitGroup, it may be
// incremented while wait is waiting, as a request may slip in while its connection is
// being closed. The zero value counts none.
type running struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed and reset when n drops to zero while wait waits
}

func (r *running) add(d int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n += d
	if r.n == 0 && r.zero != nil {
		close(r.zero)
		r.zero = nil
	}
}

// wait returns when no handler is running.
func (r *running) wait() {
	r.mu.Lock()
	if r.n == 0 {
		r.mu.Unlock()
		return
	}
	if r.zero == nil {
		r.zero = make(chan struct{})
	}
	zero := r.zero
	r.mu.Unlock()
	<-zero
}

// redisMode names the Redis store's mode for the start-up log line.
func redisMode(c config.Config) string {
	if c.Redis.Mode == "" {
		return string(redisstore.ModeLocalFirst)
	}
	return string(c.Redis.Mode)
}
