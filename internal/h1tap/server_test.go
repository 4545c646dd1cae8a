package h1tap

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// listener wraps every accepted connection in a Conn, as a server that taps HTTP/1
// does, and hands the Conns to the test.
type listener struct {
	net.Listener
	conns chan *Conn
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := NewConn(c)
	select {
	case l.conns <- tc:
	default:
	}
	return tc, nil
}

// record is what a handler saw: the request as net/http parsed it and what Pop
// returned for it.
type record struct {
	method, uri string
	head        Head
	ok          bool
	header      http.Header
	host        string
	te          []string
	trailer     http.Header
	ua          string
}

// tapServer is a real http.Server on loopback whose handler pops the tap of each
// request's connection and records the result.
type tapServer struct {
	srv   *http.Server
	ln    *listener
	done  chan struct{}
	mu    sync.Mutex
	recs  []record
	serve func(w http.ResponseWriter, r *http.Request) // extra handler work, after the record
}

// startServer starts the server on loopback; configure runs before it serves.
func startServer(t *testing.T, configure ...func(*http.Server)) *tapServer {
	t.Helper()
	checkGoroutines(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tapServer{ln: &listener{Listener: ln, conns: make(chan *Conn, 16)}, done: make(chan struct{})}
	s.srv = &http.Server{
		Handler:     http.HandlerFunc(s.handle),
		ConnContext: ConnContext,
		// The tap adds no Slowloris exposure of its own, but bounding how long
		// a head may take is the server's job: always set ReadHeaderTimeout.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	for _, f := range configure {
		f(s.srv)
	}
	go func() {
		defer close(s.done)
		s.srv.Serve(s.ln)
	}()
	t.Cleanup(func() {
		s.srv.Close()
		<-s.done
	})
	return s
}

func (s *tapServer) handle(w http.ResponseWriter, r *http.Request) {
	h, ok := FromContext(r.Context()).Pop(r.Method, r.RequestURI)
	// Read the body before recording: trailers arrive after it.
	io.Copy(io.Discard, r.Body)
	rec := record{
		method: r.Method, uri: r.RequestURI, head: h, ok: ok,
		header: r.Header.Clone(), host: r.Host, te: r.TransferEncoding,
		trailer: r.Trailer.Clone(), ua: r.UserAgent(),
	}
	s.mu.Lock()
	s.recs = append(s.recs, rec)
	s.mu.Unlock()
	if s.serve != nil {
		s.serve(w, r)
	}
}

func (s *tapServer) records() []record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record(nil), s.recs...)
}

// dial connects to the server and returns the client side with the server side's
// Conn.
func (s *tapServer) dial(t *testing.T) (*net.TCPConn, *Conn) {
	t.Helper()
	c, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c.(*net.TCPConn), <-s.ln.conns
}

// exchange writes chunks to a new connection, half-closes it and reads until the
// server closes it. It returns everything the server wrote.
func (s *tapServer) exchange(t *testing.T, chunks []string) string {
	t.Helper()
	c, _ := s.dial(t)
	for _, ch := range chunks {
		if _, err := c.Write([]byte(ch)); err != nil {
			// The server may close early (a 400); the rest is not read.
			break
		}
	}
	c.CloseWrite()
	out, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("reading responses: %v", err)
	}
	return string(out)
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset by peer") }

// checkGoroutines fails the test if goroutines of net/http or of this package
// outlive it: the server's connection goroutines must all end once the server is
// closed. (Goroutines of the testing machinery, such as the fuzzing engine's signal
// handler, are not counted.)
func checkGoroutines(t testing.TB) {
	t.Cleanup(func() {
		// Closed connections end their goroutines asynchronously; give them
		// a bounded while.
		deadline := time.Now().Add(5 * time.Second)
		leaked := ourGoroutines()
		for leaked != "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			leaked = ourGoroutines()
		}
		if leaked != "" {
			t.Errorf("goroutines leaked:\n%s", leaked)
		}
	})
}

// ourGoroutines returns the stacks of the goroutines that run net/http code or that
// this package's tests started, test runners excepted.
func ourGoroutines() string {
	buf := make([]byte, 1<<20)
	stacks := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
	var out []string
	for _, s := range stacks {
		ours := strings.Contains(s, "net/http.") || strings.Contains(s, "created by github.com/vigilhq/vigil/internal/h1tap")
		if ours && !strings.Contains(s, "testing.tRunner") {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n\n")
}

// TestServer runs the table through a real http.Server on loopback, the stream
// written at once and one byte per write. Every handler must get exactly its own
// head, or unknown where the table says so.
func TestServer(t *testing.T) {
	for _, tc := range tapCases {
		for _, mode := range []string{"one_write", "byte_per_write"} {
			if mode == "byte_per_write" && len(tc.in) > 4096 {
				continue // 64 KiB heads one byte per write: slow, and TestTap covers it
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				s := startServer(t)
				chunks := []string{tc.in}
				if mode == "byte_per_write" {
					chunks = feedings[1].split(tc.in)
				}
				s.exchange(t, chunks)
				recs := s.records()
				if len(recs) != tc.served {
					t.Fatalf("net/http served %d requests, the table says %d", len(recs), tc.served)
				}
				for i, rec := range recs {
					p := tc.pops[i]
					if rec.method != p.method || rec.uri != p.target {
						t.Errorf("request %d: net/http served %s %.40s, the table says %s %.40s", i, rec.method, rec.uri, p.method, p.target)
					}
					if p.want.Status == StatusOverflow && rec.ok {
						// How many heads the tap parses before a
						// handler pops depends on how far net/http
						// reads ahead: all of one write, little of a
						// byte-per-write stream. A head that did not
						// overflow must be the request's own.
						checkAgainstRequest(t, rec)
						continue
					}
					if diff := cmp.Diff(p.want, viewOf(rec.head)); diff != "" {
						t.Errorf("request %d (%s %.40s) (-want +got):\n%.2000s", i, rec.method, rec.uri, diff)
					}
					if rec.ok {
						checkAgainstRequest(t, rec)
					}
				}
			})
		}
	}
}

// checkAgainstRequest compares a popped head with the request net/http parsed for the
// same handler: same method and target, same header names as a multiset (ignoring
// case), same User-Agent. It is the differential check of the fuzz target too.
func checkAgainstRequest(t *testing.T, rec record) {
	t.Helper()
	h := rec.head
	if h.Method() != rec.method || !h.matchTarget(rec.uri) {
		t.Errorf("head is %s %.40s, the request %s %.40s", h.Method(), h.Target(), rec.method, rec.uri)
	}
	if !h.Truncated() && h.Len() != h.Lines() {
		t.Errorf("head not truncated but records %d names of %d lines", h.Len(), h.Lines())
	}
	if diff := cmp.Diff(wantNames(rec, h), tapNames(h)); diff != "" {
		// A truncated head records a prefix of the names: only check it is a
		// sub-multiset.
		if !h.Truncated() || !subMultiset(tapNames(h), wantNames(rec, h)) {
			t.Errorf("names of %s %.40s (-net/http +tap):\n%s", rec.method, rec.uri, diff)
		}
	}
	if ua := h.UserAgent(); !h.Truncated() && ua != rec.ua {
		t.Errorf("User-Agent: tap %q, net/http %q", ua, rec.ua)
	}
}

// tapNames counts the head's names, lowercased.
func tapNames(h Head) map[string]int {
	m := map[string]int{}
	for n := range h.Names() {
		m[strings.ToLower(n)]++
	}
	return m
}

// wantNames rebuilds, from what net/http parsed, the multiset of names on the wire,
// undoing what net/http moves out of or adds to Request.Header: Host (to
// Request.Host), Transfer-Encoding (to TransferEncoding, or dropped on HTTP/1.0),
// Content-Length (deduplicated, dropped when chunked), Trailer (to Request.Trailer
// when chunked), and the Cache-Control it synthesizes from "Pragma: no-cache". Where
// the tap alone knows the count (those moved fields), the tap's count is taken if it
// is consistent with what net/http kept.
func wantNames(rec record, h Head) map[string]int {
	m := map[string]int{}
	for k, vv := range rec.header {
		m[strings.ToLower(k)] += len(vv)
	}
	tap := tapNames(h)
	chunked := len(rec.te) > 0
	// Host: exactly one line, or none (HTTP/1.0, CONNECT, PRI).
	if tap["host"] <= 1 {
		setCount(m, "host", tap["host"])
	}
	// Transfer-Encoding is always deleted; when chunked there was exactly one.
	if chunked {
		setCount(m, "transfer-encoding", 1)
	} else if n := tap["transfer-encoding"]; n > 0 && rec.head.Status() == StatusOK {
		setCount(m, "transfer-encoding", n) // HTTP/1.0: ignored
	}
	// Content-Length: one kept for any number of equal lines; none when chunked.
	if n := tap["content-length"]; n > 0 && (chunked || m["content-length"] == 1) {
		setCount(m, "content-length", n)
	}
	// Trailer: deleted when chunked (its names go to Request.Trailer).
	if chunked {
		setCount(m, "trailer", tap["trailer"])
	}
	if cc := rec.header["Cache-Control"]; len(cc) == 1 && cc[0] == "no-cache" && tap["cache-control"] == 0 {
		if p := rec.header["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
			delete(m, "cache-control")
		}
	}
	return m
}

func setCount(m map[string]int, k string, n int) {
	if n == 0 {
		delete(m, k)
		return
	}
	m[k] = n
}

func subMultiset(sub, of map[string]int) bool {
	for k, n := range sub {
		if of[k] < n {
			return false
		}
	}
	return true
}

// TestServerKeepAlive sends requests on one connection one after another, each after
// the previous response, as a browser does.
func TestServerKeepAlive(t *testing.T) {
	s := startServer(t)
	c, _ := s.dial(t)
	br := bufio.NewReader(c)
	reqs := []struct{ in, target string }{
		{chromeHead, "/products/42?ref=home"},
		{crlf("POST /form HTTP/1.1", "Host: shop.example", "Content-Type: application/x-www-form-urlencoded", "Content-Length: 7") + "a=1&b=2", "/form"},
		{crlf("GET /again HTTP/1.1", "host: shop.example", "accept: */*"), "/again"},
	}
	for i, r := range reqs {
		if _, err := c.Write([]byte(r.in)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	recs := s.records()
	if len(recs) != len(reqs) {
		t.Fatalf("served %d requests, want %d", len(recs), len(reqs))
	}
	if diff := cmp.Diff(chromeView, viewOf(recs[0].head)); diff != "" {
		t.Errorf("first request (-want +got):\n%s", diff)
	}
	for i, rec := range recs {
		if !rec.ok || rec.uri != reqs[i].target {
			t.Errorf("request %d: %s ok=%v status %v", i, rec.uri, rec.ok, rec.head.Status())
		}
		checkAgainstRequest(t, rec)
	}
	if got := []string{"Host", "Content-Type", "Content-Length"}; !cmp.Equal(got, recs[1].head.AppendNames(nil)) {
		t.Errorf("second request names = %q, want %q", recs[1].head.AppendNames(nil), got)
	}
}

// TestServerHijackedUpgrade upgrades a connection the way a WebSocket server does:
// the handler pops its head, hijacks and stops the tap. Bytes on the upgraded stream
// that look like a request are never parsed as one.
func TestServerHijackedUpgrade(t *testing.T) {
	s := startServer(t)
	type result struct {
		fake string
		pop  Status
	}
	results := make(chan result, 1)
	s.serve = func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		FromContext(r.Context()).Stop()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: example\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		// The stream carries a request-like line; had the tap parsed it, a
		// Pop for it would find it.
		h, _ := FromContext(r.Context()).Pop("GET", "/fake")
		results <- result{line, h.Status()}
	}
	c, _ := s.dial(t)
	c.Write([]byte(crlf("GET /up HTTP/1.1", "Host: a", "Connection: Upgrade", "Upgrade: example")))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	c.Write([]byte(crlf("GET /fake HTTP/1.1", "Host: a")))
	r := <-results
	if r.fake != "GET /fake HTTP/1.1\r\n" || r.pop != StatusPassthrough {
		t.Errorf("upgraded stream read %q, Pop status %v; want the fake request line and passthrough", r.fake, r.pop)
	}
	recs := s.records()
	if len(recs) != 1 || !recs[0].ok || recs[0].head.Upgrade() != "example" {
		t.Fatalf("records = %+v, want the upgrade request's own head", recs)
	}
}

// TestServerRejected sends a request net/http rejects with 400. The tap of that
// connection gives up; a request on another connection is unaffected.
func TestServerRejected(t *testing.T) {
	s := startServer(t)
	out := s.exchange(t, []string{crlf("GET /bad HTTP/1.1", "Host : a") + crlf("GET /smuggled HTTP/1.1", "Host: a")})
	if !strings.HasPrefix(out, "HTTP/1.1 400 ") {
		t.Errorf("response to the bad request: %.60q, want a 400", out)
	}
	if recs := s.records(); len(recs) != 0 {
		t.Errorf("net/http served %d requests after a 400, want none", len(recs))
	}

	c, tc := s.dial(t)
	c.Write([]byte(chromeHead))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	recs := s.records()
	if len(recs) != 1 {
		t.Fatalf("served %d requests, want 1", len(recs))
	}
	if diff := cmp.Diff(chromeView, viewOf(recs[0].head)); diff != "" {
		t.Errorf("request on the second connection (-want +got):\n%s", diff)
	}
	if h, _ := tc.Tap().Pop("GET", "/"); h.Status() != StatusMismatch {
		t.Errorf("second connection's tap after its one request: %v, want mismatch (nothing queued)", h.Status())
	}
}

// TestServerSlowloris trickles a 100 KB head one byte per write, as a Slowloris
// client does, and samples the bytes the server-side tap holds. It stays within the
// recording bounds however long the head gets; the server's ReadHeaderTimeout (set
// in startServer) is what bounds the time.
func TestServerSlowloris(t *testing.T) {
	s := startServer(t)
	c, tc := s.dial(t)
	head := "GET /slow HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-Slow-Header: value\r\n", 5000)
	bound := valsLimit + namesLimit + int(unsafe.Sizeof(Tap{}))
	most := 0
	for i := range len(head) {
		if _, err := c.Write([]byte{head[i]}); err != nil {
			t.Fatal(err)
		}
		if i%4096 == 0 {
			most = max(most, tc.Tap().held())
		}
	}
	c.Write([]byte("\r\n"))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	most = max(most, tc.Tap().held())
	t.Logf("a %d-byte head trickled byte by byte: the tap held at most %d bytes", len(head), most)
	if most > bound {
		t.Errorf("tap held %d bytes, want at most %d", most, bound)
	}
	recs := s.records()
	if len(recs) != 1 || !recs[0].ok || !recs[0].head.Truncated() || recs[0].head.Lines() != 5001 {
		t.Errorf("slow request: %+v; want popped, truncated, 5001 lines", recs)
	}
}

// TestConnContext checks the context helpers on a connection that is not a Conn.
func TestConnContext(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx := ConnContext(context.Background(), a)
	if FromContext(ctx) != nil {
		t.Error("FromContext found a tap on a plain net.Conn")
	}
	tc := NewConn(b)
	if got := FromContext(ConnContext(ctx, tc)); got != tc.Tap() {
		t.Errorf("FromContext = %p, want the Conn's tap %p", got, tc.Tap())
	}
	if err := tc.CloseWrite(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CloseWrite on a pipe = %v, want ErrUnsupported", err)
	}
}

// TestServerUnencryptedHTTP2 serves prior-knowledge HTTP/2 on a tapped connection, as
// a server with Protocols.SetUnencryptedHTTP2 does. The tap sees the preface, passes
// through, and an h2 handler's Pop reports passthrough, never an HTTP/1 head.
func TestServerUnencryptedHTTP2(t *testing.T) {
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	s := startServer(t, func(srv *http.Server) { srv.Protocols = &protos })

	var client http.Protocols
	client.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &client}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://" + s.ln.Addr().String() + "/h2")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	recs := s.records()
	if len(recs) != 1 || resp.ProtoMajor != 2 {
		t.Fatalf("served %d requests over HTTP/%d, want 1 over HTTP/2", len(recs), resp.ProtoMajor)
	}
	if recs[0].ok || recs[0].head.Status() != StatusPassthrough {
		t.Errorf("h2 request: ok=%v status %v, want passthrough", recs[0].ok, recs[0].head.Status())
	}
}
