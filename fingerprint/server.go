package fingerprint

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/vigilhq/vigil/internal/h1tap"
	"github.com/vigilhq/vigil/internal/h2tap"
	"github.com/vigilhq/vigil/internal/tlsfp"
)

// Defaults of a Server.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxHandshakes    = 4096
)

// Server serves HTTP/1.1 and HTTP/2 over TLS and observes every connection completely
// (listener mode): the raw ClientHello (exact JA4 and JA3), and the header order of each
// HTTP/1 and HTTP/2 request. Requests reach the handler with the connection's Conn in
// their context (FromContext) and with r.TLS set.
//
// Server runs its own accept loop. Accept never handshakes or reads: each connection
// gets a goroutine that handshakes under a deadline, and at most MaxHandshakes run at
// once, so slow clients cannot stall new connections. After the handshake the
// connection goes, by ALPN, to one of two standard http.Servers built from the HTTP
// template: one serving only HTTP/1.1 and one serving only HTTP/2 (on net/http's
// unencrypted-HTTP/2 path, since Vigil has already terminated TLS). A client that
// negotiated http/1.1 therefore cannot switch to HTTP/2 by sending the preface.
//
// The zero Server is not usable: HTTP, with its TLSConfig holding certificates, is
// required. Set fields before Serve and do not change them afterwards.
type Server struct {
	// HTTP is the template of the two servers: its Handler, ReadTimeout,
	// ReadHeaderTimeout, WriteTimeout, IdleTimeout, MaxHeaderBytes, HTTP2, ConnState,
	// ConnContext, BaseContext and ErrorLog are used; Addr, Protocols and
	// TLSNextProto are not. Its TLSConfig must hold the certificates; Server adds
	// "h2" and "http/1.1" to NextProtos when it lists none, and raises MinVersion to
	// TLS 1.2. ReadHeaderTimeout should be set: the tap adds no slow-header exposure
	// of its own, but the server must bound header reads.
	HTTP *http.Server
	// HandshakeTimeout bounds each TLS handshake, including reading the ClientHello.
	// Zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds the handshakes in progress; when it is reached, the accept
	// loop waits for one to finish. Zero means DefaultMaxHandshakes.
	MaxHandshakes int
	// Logger receives failed handshakes at debug level, with the ClientHello's
	// fingerprint when one was read. Nil discards them.
	Logger *slog.Logger

	mu       sync.Mutex
	started  bool
	closed   bool
	ln       net.Listener
	h1, h2   *http.Server
	q1, q2   *queueListener
	handling sync.WaitGroup // handshake goroutines
	cancel   context.CancelFunc
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = http.ErrServerClosed

// Serve accepts connections on ln until Shutdown or Close, and returns
// ErrServerClosed then, or the error that stopped the accept loop. A Server serves
// one listener once.
func (s *Server) Serve(ln net.Listener) error {
	if s.HTTP == nil || s.HTTP.TLSConfig == nil {
		return errors.New("fingerprint: Server.HTTP and its TLSConfig are required")
	}
	cfg := s.HTTP.TLSConfig.Clone()
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)

	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		if s.closed {
			return ErrServerClosed
		}
		return errors.New("fingerprint: Server.Serve called twice")
	}
	s.started, s.ln = true, ln
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.q1, s.q2 = newQueueListener(ln.Addr()), newQueueListener(ln.Addr())
	s.h1, s.h2 = s.inner(false), s.inner(true)
	s.mu.Unlock()

	serveErr := make(chan error, 2)
	go func() { serveErr <- s.h1.Serve(s.q1) }()
	go func() { serveErr <- s.h2.Serve(s.q2) }()

	timeout := cmpOr(s.HandshakeTimeout, DefaultHandshakeTimeout)
	slots := make(chan struct{}, cmpOr(s.MaxHandshakes, DefaultMaxHandshakes))
	var tempDelay time.Duration
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ErrServerClosed
		}
		raw, err := ln.Accept()
		if err != nil {
			<-slots
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Temporary accept errors (EMFILE and the like) back off as
				// http.Server does.
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			cancel()
			return err
		}
		tempDelay = 0
		// Add under the lock that stop takes, so that no handshake starts after
		// Shutdown began waiting for them (a WaitGroup's Add from zero must happen
		// before its Wait); a connection accepted as the listener closed is dropped.
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			<-slots
			_ = raw.Close()
			return ErrServerClosed
		}
		s.handling.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.handling.Done()
			s.handshake(ctx, raw, cfg, timeout, slots)
		}()
	}
}

// handshake terminates TLS on raw, records the ClientHello, and hands the connection
// to the HTTP/1.1 or the HTTP/2 server.
func (s *Server) handshake(ctx context.Context, raw net.Conn, cfg *tls.Config, timeout time.Duration, slots chan struct{}) {
	released := false
	release := func() {
		if !released {
			released = true
			<-slots
		}
	}
	defer release()
	tee := tlsfp.NewTee(raw, tlsfp.MaxHello)
	tc := tls.Server(tee, cfg)
	hctx, cancel := context.WithTimeout(ctx, timeout)
	_ = raw.SetDeadline(time.Now().Add(timeout))
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		if s.Logger != nil {
			attrs := []any{"remote", raw.RemoteAddr().String(), "err", err}
			if h, herr := tee.Hello(); herr == nil {
				attrs = append(attrs, "ja4", h.Fingerprint().JA4)
			}
			s.Logger.Debug("tls handshake failed", attrs...)
		}
		_ = tc.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	release()

	c := &Conn{}
	if h, err := tee.Hello(); err == nil {
		c.tls = tlsFrom(h.Fingerprint(), true)
	}
	state := tc.ConnectionState()
	c.state = &state
	var q *queueListener
	var conn net.Conn
	if state.NegotiatedProtocol == "h2" {
		c.h2 = h2tap.New(s.tapConfig())
		conn, q = &observedH2{Conn: h2tap.Conn{Conn: tc, Tap: c.h2}, dna: c}, s.q2
	} else {
		hc := h1tap.NewConn(tc)
		c.h1 = hc.Tap()
		conn, q = &observedH1{Conn: hc, dna: c, state: state}, s.q1
	}
	if !q.put(conn) {
		_ = tc.Close()
	}
}

// tapConfig sizes an h2 tap to the template's HTTP/2 limits.
func (s *Server) tapConfig() h2tap.Config {
	c := h2tap.Config{MaxHeaderBlockBytes: uint32(max(s.HTTP.MaxHeaderBytes, 0))}
	if h := s.HTTP.HTTP2; h != nil {
		c.HeaderTableSize = uint32(max(h.MaxDecoderHeaderTableSize, 0))
		c.MaxPendingStreams = uint32(max(h.MaxConcurrentStreams, 0))
	}
	return c
}

// inner builds one of the two servers from the template.
func (s *Server) inner(h2 bool) *http.Server {
	t := s.HTTP
	srv := &http.Server{
		Handler:           observeRequests(t.Handler),
		ReadTimeout:       t.ReadTimeout,
		ReadHeaderTimeout: t.ReadHeaderTimeout,
		WriteTimeout:      t.WriteTimeout,
		IdleTimeout:       t.IdleTimeout,
		MaxHeaderBytes:    t.MaxHeaderBytes,
		HTTP2:             t.HTTP2,
		ConnState:         t.ConnState,
		BaseContext:       t.BaseContext,
		ErrorLog:          t.ErrorLog,
		Protocols:         new(http.Protocols),
	}
	if h2 {
		srv.Protocols.SetUnencryptedHTTP2(true)
	} else {
		srv.Protocols.SetHTTP1(true)
	}
	user := t.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if d := observedConn(c); d != nil {
			ctx = newContext(ctx, d)
		}
		if user != nil {
			ctx = user(ctx, c)
		}
		return ctx
	}
	return srv
}

// Shutdown stops accepting, closes idle connections and waits, until ctx ends, for
// active ones to finish, as http.Server.Shutdown does. Handshakes in progress are
// abandoned.
func (s *Server) Shutdown(ctx context.Context) error {
	h1, h2 := s.stop()
	var errs []error
	if h1 != nil {
		errs = append(errs, h1.Shutdown(ctx), shutdownH2(ctx, h2))
	}
	done := make(chan struct{})
	go func() { s.handling.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

// goAwayEvery is how often shutdownH2 tells late HTTP/2 connections to go away.
const goAwayEvery = 100 * time.Millisecond

// shutdownH2 is srv.Shutdown for the inner HTTP/2 server. net/http sends GOAWAY to
// the HTTP/2 connections registered when its shutdown hook runs, once; a connection
// accepted before the listener closed whose client preface arrives after that
// registers later, is never told, and holds Shutdown until ctx ends. Each call to
// Shutdown runs the hook again, so while the first call waits, shutdownH2 repeats it
// with an ended context (which returns at once) for the stragglers.
func shutdownH2(ctx context.Context, srv *http.Server) error {
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	t := time.NewTicker(goAwayEvery)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-t.C:
			_ = srv.Shutdown(ended)
		}
	}
}

// Close stops accepting and closes every connection at once.
func (s *Server) Close() error {
	h1, h2 := s.stop()
	if h1 == nil {
		return nil
	}
	return errors.Join(h1.Close(), h2.Close())
}

// stop marks the server closed, closes the listener and cancels handshakes, and
// returns the inner servers (nil before Serve).
func (s *Server) stop() (h1, h2 *http.Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.h1, s.h2
	}
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	if s.ln != nil {
		_ = s.ln.Close()
	}
	return s.h1, s.h2
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// observedH1 is an HTTP/1 connection: reads feed the h1 tap, and ConnectionState
// makes net/http fill r.TLS.
type observedH1 struct {
	*h1tap.Conn
	dna   *Conn
	state tls.ConnectionState
}

// ConnectionState returns the negotiated TLS state.
func (c *observedH1) ConnectionState() tls.ConnectionState { return c.state }

// observedH2 is an HTTP/2 connection: reads feed the h2 tap. It has no
// ConnectionState method, so that net/http serves it as unencrypted HTTP/2.
type observedH2 struct {
	h2tap.Conn
	dna *Conn
}

// observedConn returns the Conn of a connection a Server, Instrument or WrapListener
// handed to net/http, or nil.
func observedConn(c net.Conn) *Conn {
	switch c := c.(type) {
	case *observedH1:
		return c.dna
	case *observedH2:
		return c.dna
	case *plainH1:
		return c.dna
	}
	return nil
}

// queueListener is a net.Listener fed by the Server's accept loop.
type queueListener struct {
	addr   net.Addr
	conns  chan net.Conn
	done   chan struct{}
	closer sync.Once
}

func newQueueListener(addr net.Addr) *queueListener {
	return &queueListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// put hands c to the server's Accept, and reports false when the listener was
// closed first.
func (l *queueListener) put(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *queueListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *queueListener) Close() error {
	l.closer.Do(func() { close(l.done) })
	return nil
}

func (l *queueListener) Addr() net.Addr { return l.addr }

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
