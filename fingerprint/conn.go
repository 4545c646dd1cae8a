package fingerprint

import (
	"context"
	"crypto/tls"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/vigilhq/vigil/internal/h1tap"
	"github.com/vigilhq/vigil/internal/h2tap"
	"github.com/vigilhq/vigil/internal/tlsfp"
)

// Conn is what Vigil observed about one client connection: the ClientHello, and the
// tap that recorded the header order of each request. A Server, Instrument or
// WrapListener puts one in the context of every request on a connection it observes;
// FromContext finds it. A Conn is safe for concurrent use by the requests of its
// connection. The zero value observed nothing.
type Conn struct {
	tls   *TLS                 // immutable once the handshake is done; nil when not seen
	state *tls.ConnectionState // the negotiated state, for HTTP/2 requests whose r.TLS is nil
	h1    *h1tap.Tap
	h2    *h2tap.Tap

	h2once sync.Once
	h2fp   *H2 // computed from h2 once the first request's headers were decoded

	// cur is the head of the HTTP/1 request being served. An HTTP/1 connection
	// serves one request at a time, so the handler wrapper (observeRequests) pops
	// every request's head before its handler runs, whether or not anything asks for
	// it: a request the guard never sees (an excluded path, a route without the
	// guard) must not leave its head queued in front of the next one's.
	mu        sync.Mutex
	cur       h1tap.Head
	curOK     bool
	curMethod string // method and target of the request cur belongs to
	curTarget string
}

type connKey struct{}

// observing is set once any context carries a Conn. Until then FromContext answers
// without walking the context chain, which on a plain net/http request is five
// contexts deep and costs a guarded request about 100 ns for nothing.
var observing atomic.Bool

// FromContext returns the Conn of the request whose context is ctx, or nil when the
// connection was not observed (middleware mode).
func FromContext(ctx context.Context) *Conn {
	if !observing.Load() {
		return nil
	}
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}

// newContext returns ctx carrying c.
func newContext(ctx context.Context, c *Conn) context.Context {
	if !observing.Load() {
		observing.Store(true)
	}
	return context.WithValue(ctx, connKey{}, c)
}

// TLS returns the fingerprint of the connection's ClientHello, nil when Vigil did not
// see the handshake.
func (c *Conn) TLS() *TLS {
	if c == nil {
		return nil
	}
	return c.tls
}

// Observation is what a Conn shows about one request beyond its headers and their
// order. Empty fields are unknown.
type Observation struct {
	// Protocol is "h1" or "h2" when the order is known.
	Protocol string
	// Pseudo is the HTTP/2 pseudo-header order as first letters ("m,a,s,p").
	Pseudo string
	// TLS and H2 are the connection's fingerprints, nil when unknown.
	TLS *TLS
	H2  *H2
}

// Observe returns what the connection showed about r, the request being served: its
// header names in wire order (raw case for HTTP/1, regular headers only for HTTP/2),
// appended to buf[:0], or nil when the tap cannot vouch for them; and the rest of what
// was observed. It must be called while r is being served, before its handler returns.
// Over HTTP/2 each request's order goes to the first caller; over HTTP/1 every caller
// gets it.
func (c *Conn) Observe(r *http.Request, buf []string) (order []string, o Observation) {
	if c == nil {
		return nil, Observation{}
	}
	o.TLS = c.tls
	switch {
	case c.h1 != nil:
		c.mu.Lock()
		head, ok := c.cur, c.curOK && c.curMethod == r.Method && c.curTarget == r.RequestURI
		c.mu.Unlock()
		if ok {
			order, o.Protocol = head.AppendNames(buf[:0]), "h1"
		}
	case c.h2 != nil:
		if st, ok := r.Context().Value(streamKey{}).(*h2tap.Stream); ok {
			order, o.Protocol, o.Pseudo = append(buf[:0], st.Names...), "h2", pseudoLetters(st.Pseudo)
		}
		o.H2 = c.h2Fingerprint()
	}
	return order, o
}

// popHead takes the head of r, the HTTP/1 request about to be served, from the tap.
func (c *Conn) popHead(r *http.Request) {
	head, ok := c.h1.Pop(r.Method, r.RequestURI)
	c.mu.Lock()
	c.cur, c.curOK, c.curMethod, c.curTarget = head, ok, r.Method, r.RequestURI
	c.mu.Unlock()
}

// observeRequests wraps the handler of a server whose connections Vigil observes. Before
// the handler runs it takes the request's record off its connection's tap — every
// request's, whether anything asks for it or not, so that the taps never hold records
// of requests nobody observed (an excluded path, a health check, a route without the
// guard): an HTTP/1 head goes to Conn.cur, an HTTP/2 stream into the request's context.
// It also gives HTTP/2 requests their r.TLS when net/http left it nil (the
// unencrypted-HTTP/2 path a Server uses after terminating TLS itself).
func observeRequests(h http.Handler) http.Handler {
	if h == nil {
		h = http.DefaultServeMux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := FromContext(r.Context())
		switch {
		case c == nil:
		case c.h1 != nil:
			c.popHead(r)
		case c.h2 != nil:
			// One allocation for the context and the stream, one for the request
			// copy, which also carries r.TLS when it has to be restored.
			sc := &streamCtx{Context: r.Context()}
			if st, ok := c.h2.Take(r.Method, r.Host, r.RequestURI); ok {
				sc.st, sc.ok = st, true
			}
			r = r.WithContext(sc)
		}
		if r.TLS == nil && c != nil && c.state != nil {
			if c.h2 == nil {
				r2 := *r
				r = &r2
			}
			r.TLS = c.state
		}
		h.ServeHTTP(w, r)
	})
}

type streamKey struct{}

// streamCtx carries an HTTP/2 request's stream record from observeRequests to Observe.
type streamCtx struct {
	context.Context
	st h2tap.Stream
	ok bool
}

// Value returns the stream for streamKey and asks the parent for every other key.
func (c *streamCtx) Value(key any) any {
	if key == (streamKey{}) {
		if !c.ok {
			return nil
		}
		return &c.st
	}
	return c.Context.Value(key)
}

// h2Fingerprint returns the connection's Akamai fingerprint once the tap has it.
func (c *Conn) h2Fingerprint() *H2 {
	if _, ok := c.h2.Fingerprint(); !ok {
		return nil
	}
	c.h2once.Do(func() {
		fp, _ := c.h2.Fingerprint()
		c.h2fp = &H2{Akamai: fp.Akamai(), Hash: fp.AkamaiHash()}
	})
	return c.h2fp
}

// pseudoLetters writes pseudo-header names as the Akamai string does: first letters
// after the colon, comma-separated. The common orders are constants, so they cost no
// allocation.
func pseudoLetters(names []string) string {
	if len(names) == 4 && len(names[0]) > 1 && len(names[1]) > 1 && len(names[2]) > 1 && len(names[3]) > 1 {
		switch string([]byte{names[0][1], names[1][1], names[2][1], names[3][1]}) {
		case "masp":
			return "m,a,s,p"
		case "mpas":
			return "m,p,a,s"
		case "mspa":
			return "m,s,p,a"
		case "msap":
			return "m,s,a,p"
		case "mpsa":
			return "m,p,s,a"
		case "amps":
			return "a,m,p,s"
		}
	}
	b := make([]byte, 0, 2*len(names))
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		if len(n) > 1 {
			b = append(b, n[1])
		}
	}
	return string(b)
}

// tlsFrom converts tlsfp's fingerprint.
func tlsFrom(f tlsfp.Fingerprint, exact bool) *TLS {
	return &TLS{JA4: f.JA4, JA4R: f.JA4R, JA3: f.JA3Hash, JA3N: f.JA3NHash, Exact: exact}
}
