package h1tap

import (
	"context"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// fuzzSeeds adds the table's streams and a few more with each kind of split.
func fuzzSeeds(f *testing.F) {
	for _, tc := range tapCases {
		for seed := range uint64(4) {
			f.Add([]byte(tc.in), seed)
		}
	}
	for _, s := range []string{
		crlf("GET / HTTP/1.1", "Host: a", "Pragma: no-cache") + crlf("GET /2 HTTP/1.1", "Host: a", "Pragma: no-cache", "Cache-Control: max-age=0"),
		crlf("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Trailer: X-T, X-U") + "1;a=b\r\nx\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n" + after,
		crlf("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Trailer:") + "0\r\n\r\n" + after,
		crlf("POST / HTTP/1.1", "Host: a", "Expect: 100-continue", "Content-Length: 2") + "ab" + after,
		crlf("GET http://a/abs HTTP/1.1", "Host: b") + after,
		crlf("PRI * HTTP/2.0", "Host: a") + after,
		crlf("POST / HTTP/1.1", "Host: a", "Content-Length: 0") + "\n\n\r\n" + after,
		crlf("GET / HTTP/1.9", "Host: a", "Transfer-Encoding: chunked") + "0\r\n\r\n" + after,
	} {
		for seed := range uint64(4) {
			f.Add([]byte(s), seed)
		}
	}
	// Inputs for the generator (seed bit 3).
	for i := range 16 {
		in := make([]byte, 64)
		for j := range in {
			in[j] = byte(i*131 + j*17)
		}
		f.Add(in, uint64(8+i%4))
	}
}

// streamOf returns the stream a fuzz input stands for: the input itself, or, when
// seed has bit 3 set, the requests generate builds from it.
func streamOf(in []byte, seed uint64) []byte {
	if seed&8 != 0 {
		return []byte(generate(in))
	}
	return in
}

// split cuts b into the reads a connection delivers, chosen by seed: one read, one
// byte per read, or random sizes (small or up to a bufio.Reader's 4 KiB).
func split(b []byte, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed>>32))
	var size func() int
	switch seed % 4 {
	case 0:
		return [][]byte{b}
	case 1:
		size = func() int { return 1 }
	case 2:
		size = func() int { return 1 + r.IntN(16) }
	default:
		size = func() int { return 1 + r.IntN(4096) }
	}
	var out [][]byte
	for len(b) > 0 {
		n := min(size(), len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// snapshot is a tap's queue and state, to compare two taps fed the same bytes.
type snapshot struct {
	Heads []view
	State state
	End   Status
}

func snap(t *Tap) snapshot {
	s := snapshot{State: t.st, End: t.end}
	for _, h := range t.q {
		s.Heads = append(s.Heads, viewOf(h))
	}
	return s
}

// FuzzTap feeds arbitrary bytes in arbitrary reads. The tap must not panic, must
// end in the same state whatever the reads (a push parser has no business depending
// on them), must hold a bounded number of bytes at every point, and must queue only
// heads that keep the recording bounds and pop in order.
func FuzzTap(f *testing.F) {
	fuzzSeeds(f)
	bound := valsLimit + namesLimit + int(unsafe.Sizeof(Tap{})) + maxQueue*(valsLimit+namesLimit+int(unsafe.Sizeof(Head{})))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		in = streamOf(in, seed)
		var whole, parts Tap
		whole.Feed(in)
		for _, p := range split(in, seed) {
			parts.Feed(p)
			if n := parts.held(); n > bound {
				t.Fatalf("tap holds %d bytes, bound %d", n, bound)
			}
		}
		if diff := cmp.Diff(snap(&whole), snap(&parts)); diff != "" {
			t.Fatalf("fed whole vs in %d reads (-whole +reads):\n%s", len(split(in, seed)), diff)
		}
		for i, h := range append([]Head(nil), whole.q...) {
			checkHead(t, h)
			got, ok := whole.Pop(h.Method(), h.Target()+strings.Repeat("x", h.tLen-len(h.Target())))
			if !ok || got.data != h.data {
				t.Fatalf("pop %d: ok=%v status %v", i, ok, got.Status())
			}
		}
	})
}

// checkHead checks what holds for every head the tap queues.
func checkHead(t *testing.T, h Head) {
	t.Helper()
	if h.Status() != StatusOK || h.Method() == "" || !isToken(h.Method()) || h.tLen == 0 || h.tLen < len(h.Target()) {
		t.Fatalf("bad head: status %v, method %q, target %.40q of %d", h.Status(), h.Method(), h.Target(), h.tLen)
	}
	if h.Len() > maxNames || h.Len() > h.Lines() || !h.Truncated() && h.Len() != h.Lines() {
		t.Fatalf("head records %d names of %d lines, truncated %v", h.Len(), h.Lines(), h.Truncated())
	}
	if len(h.UserAgent()) > maxUA || len(h.TransferEncoding()) > maxValue || len(h.Upgrade()) > maxValue {
		t.Fatalf("value past its bound: %d, %d, %d bytes", len(h.UserAgent()), len(h.TransferEncoding()), len(h.Upgrade()))
	}
	for n := range h.Names() {
		if !isToken(n) {
			t.Fatalf("name %q is not a token", n)
		}
	}
}

// FuzzServer is the differential fuzz target: it serves arbitrary pipelined request
// streams, delivered in arbitrary reads, through a real http.Server whose handler
// records each request and pops the tap. For every head the tap returns, method,
// target, header-name multiset and User-Agent must agree with what net/http parsed
// for that same request. The tap may answer unknown (it is conservative) but never
// StatusMismatch: that would mean it accepted a framing net/http does not share.
//
// The connections are in memory: reads return the chosen splits and never block, so
// a failure replays exactly, and writes are discarded.
func FuzzServer(f *testing.F) {
	fuzzSeeds(f)
	ln := startMemServer(f)
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		in = streamOf(in, seed)
		if len(in) > 1<<18 {
			t.Skip("stream longer than 256 KiB")
		}
		c := newMemConn(split(in, seed))
		c.skipBody = seed&4 != 0
		select {
		case ln.conns <- c:
		case <-time.After(10 * time.Second):
			t.Fatal("server does not accept")
		}
		select {
		case <-c.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("server did not close the connection within 10 s")
		}
		for i, rec := range c.records() {
			switch {
			case rec.ok:
				checkAgainstRequest(t, rec)
			case rec.head.Status() == StatusMismatch || rec.head.Status() == StatusNone:
				t.Errorf("request %d (%s %.40q): tap status %v", i, rec.method, rec.uri, rec.head.Status())
			}
		}
	})
}

// memListener hands the server the conns a fuzz iteration creates.
type memListener struct {
	conns chan *memConn
	done  chan struct{}
	once  sync.Once
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return NewConn(c), nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// memConn delivers fixed reads, then EOF; it discards writes and records what the
// handler saw.
type memConn struct {
	mu       sync.Mutex
	reads    [][]byte
	recs     []record
	skipBody bool // the handler leaves the body for net/http to discard
	closed   chan struct{}
	once     sync.Once
}

func newMemConn(reads [][]byte) *memConn {
	return &memConn{reads: reads, closed: make(chan struct{})}
}

func (c *memConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reads) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.reads[0])
	if c.reads[0] = c.reads[0][n:]; len(c.reads[0]) == 0 {
		c.reads = c.reads[1:]
	}
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) { return len(p), nil }

func (c *memConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *memConn) records() []record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]record(nil), c.recs...)
}

func (c *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

type memConnKey struct{}

// startMemServer serves a memListener with a handler that records every request
// on its memConn.
func startMemServer(tb testing.TB) *memListener {
	checkGoroutines(tb)
	ln := &memListener{conns: make(chan *memConn), done: make(chan struct{})}
	srv := &http.Server{
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			ctx = ConnContext(ctx, c)
			return context.WithValue(ctx, memConnKey{}, c.(*Conn).Conn.(*memConn))
		},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := r.Context().Value(memConnKey{}).(*memConn)
			h, ok := FromContext(r.Context()).Pop(r.Method, r.RequestURI)
			if !c.skipBody {
				io.Copy(io.Discard, r.Body)
			}
			rec := record{
				method: r.Method, uri: r.RequestURI, head: h, ok: ok,
				header: r.Header.Clone(), host: r.Host, te: r.TransferEncoding,
				trailer: r.Trailer.Clone(), ua: r.UserAgent(),
			}
			c.mu.Lock()
			c.recs = append(c.recs, rec)
			c.mu.Unlock()
		}),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln
}
