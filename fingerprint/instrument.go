package fingerprint

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"

	"golang.org/x/net/http2"

	"github.com/vigilhq/vigil/internal/h1tap"
	"github.com/vigilhq/vigil/internal/h2tap"
	"github.com/vigilhq/vigil/internal/tlsfp"
)

// Instrument prepares srv, a server whose owner keeps its listener and its TLS
// (server-config mode), so that requests carry a Conn (FromContext):
//
//   - ConnContext gives every connection a Conn (the previous ConnContext, if any,
//     still runs after it);
//   - TLSConfig.GetConfigForClient records the ClientHello as crypto/tls reports it
//     (JA4 exact; JA3 assumes the legacy version, see TLS.Exact), then calls the
//     previous callback;
//   - HTTP/2 over TLS is served through a tap that records the Akamai fingerprint and
//     each request's header order, by golang.org/x/net/http2 behind net/http's
//     TLSNextProto hook;
//   - Handler is wrapped so that the header order of every plaintext HTTP/1 request
//     (WrapListener) is taken from its tap before the handler runs.
//
// HTTP/1 over TLS keeps its header order unknown in this mode: net/http reads the
// *tls.Conn itself. For plaintext HTTP/1 behind a TLS-terminating load balancer, serve
// on WrapListener(ln). Call Instrument once, before the server starts.
func Instrument(srv *http.Server) error {
	if srv == nil {
		return errors.New("fingerprint: Instrument(nil)")
	}
	if srv.TLSConfig == nil {
		srv.TLSConfig = &tls.Config{}
	}
	//lint:ignore SA1019 serving a tapped HTTP/2 connection needs http2.Server.ServeConn, which net/http has no replacement for (x/net deprecated it in v0.60)
	h2srv := &http2.Server{}
	if c := srv.HTTP2; c != nil && c.MaxConcurrentStreams > 0 {
		//lint:ignore SA1019 serving a tapped HTTP/2 connection needs http2.Server.ServeConn, which net/http has no replacement for (x/net deprecated it in v0.60)
		h2srv.MaxConcurrentStreams = uint32(c.MaxConcurrentStreams)
	}
	// ConfigureServer sets up "h2" in NextProtos and graceful shutdown; the hook it
	// installs is then replaced by one that taps the connection.
	//lint:ignore SA1019 serving a tapped HTTP/2 connection needs http2.Server.ServeConn, which net/http has no replacement for (x/net deprecated it in v0.60)
	if err := http2.ConfigureServer(srv, h2srv); err != nil {
		return err
	}
	tapCfg := h2tap.Config{MaxHeaderBlockBytes: uint32(max(srv.MaxHeaderBytes, 0))}
	if c := srv.HTTP2; c != nil {
		tapCfg.HeaderTableSize = uint32(max(c.MaxDecoderHeaderTableSize, 0))
		tapCfg.MaxPendingStreams = uint32(max(c.MaxConcurrentStreams, 0))
	}
	srv.TLSNextProto["h2"] = func(s *http.Server, c *tls.Conn, h http.Handler) {
		// net/http's handler for ALPN connections carries the connection's context
		// (the one ConnContext made) in an unexported type's BaseContext method;
		// golang.org/x/net/http2 relies on the same method.
		ctx := context.Background()
		if bc, ok := h.(interface{ BaseContext() context.Context }); ok {
			ctx = bc.BaseContext()
		}
		tap := h2tap.New(tapCfg)
		if d := FromContext(ctx); d != nil {
			d.h2 = tap
		}
		//lint:ignore SA1019 serving a tapped HTTP/2 connection needs http2.Server.ServeConn, which net/http has no replacement for (x/net deprecated it in v0.60)
		h2srv.ServeConn(&h2tap.Conn{Conn: c, Tap: tap}, &http2.ServeConnOpts{Context: ctx, BaseConfig: s, Handler: h})
	}

	srv.Handler = observeRequests(srv.Handler)

	prevConn := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		d := observedConn(c)
		if d == nil {
			d = &Conn{}
		}
		ctx = newContext(ctx, d)
		if prevConn != nil {
			ctx = prevConn(ctx, c)
		}
		return ctx
	}

	prevConfig := srv.TLSConfig.GetConfigForClient
	srv.TLSConfig.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		// Runs once, on the first ClientHello, before any request of the connection;
		// a HelloRetryRequest's second hello does not come here.
		if d := FromContext(chi.Context()); d != nil && d.tls == nil {
			d.tls = tlsFrom(tlsfp.FromClientHelloInfo(chi), false)
		}
		if prevConfig != nil {
			return prevConfig(chi)
		}
		return nil, nil
	}
	return nil
}

// WrapListener returns a listener whose connections record the header order of their
// plaintext HTTP/1 requests, for a server behind a load balancer that terminates TLS.
// Serve an Instrument-ed http.Server on it. The order is the load balancer's rendering
// of the client's request: a balancer may reorder or rewrite headers, so the
// fingerprint is best taken at the first hop that terminates the client's TLS.
func WrapListener(ln net.Listener) net.Listener { return &plainListener{ln} }

type plainListener struct{ net.Listener }

func (l *plainListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	hc := h1tap.NewConn(c)
	return &plainH1{Conn: hc, dna: &Conn{h1: hc.Tap()}}, nil
}

// plainH1 is a plaintext HTTP/1 connection whose reads feed the h1 tap.
type plainH1 struct {
	*h1tap.Conn
	dna *Conn
}
