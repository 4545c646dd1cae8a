package h1tap

import (
	"context"
	"errors"
	"net"
)

// A Conn is a net.Conn whose Read feeds every byte read to its Tap. Give it to
// http.Server (wrap the conns a Listener accepts) so the tap sees exactly what
// net/http reads.
//
// Conn deliberately implements no optional interface of the connection it wraps
// other than CloseWrite; in particular not ConnectionState. When it wraps a
// *tls.Conn, net/http therefore leaves Request.TLS nil and does not negotiate
// HTTP/2 on it; read the TLS state from the wrapped connection in
// http.Server.ConnContext instead. A server that serves unencrypted HTTP/2
// (http.Protocols) on the connection answers the h2 preface itself; the tap then
// passes through and reports its requests as StatusPassthrough. Reading the embedded
// Conn directly bypasses the tap, which then reports later requests as unknown.
//
// A Conn is safe for concurrent use as far as the wrapped connection is.
type Conn struct {
	net.Conn
	tap Tap
}

// NewConn wraps c.
func NewConn(c net.Conn) *Conn {
	return &Conn{Conn: c}
}

// Read reads from the wrapped connection and feeds what it read to the tap.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.tap.Feed(p[:n])
	}
	return n, err
}

// Tap returns the connection's tap.
func (c *Conn) Tap() *Tap { return &c.tap }

// CloseWrite shuts down the writing side of the wrapped connection if it supports
// that (as *net.TCPConn and *tls.Conn do), so that net/http can close a connection
// after an error response without resetting it.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

type tapKey struct{}

// ConnContext returns ctx carrying the tap of c when c is a *Conn, and ctx unchanged
// otherwise. Its signature fits http.Server.ConnContext.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, tapKey{}, &tc.tap)
	}
	return ctx
}

// FromContext returns the tap that ConnContext put in ctx, or nil. Pop on a nil Tap
// reports StatusNone, so FromContext(r.Context()).Pop(r.Method, r.RequestURI) is
// safe on any request.
func FromContext(ctx context.Context) *Tap {
	t, _ := ctx.Value(tapKey{}).(*Tap)
	return t
}
