package h2tap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// recConn records the bytes read from a connection, for the reference decoder.
type recConn struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.buf.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

// tapListener wraps every accepted connection in a Conn with its own Tap, over a
// recConn.
type tapListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*recConn
}

func (l *tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recConn{Conn: c}
	l.mu.Lock()
	l.conns = append(l.conns, rc)
	l.mu.Unlock()
	return &Conn{Conn: rc, Tap: New(Config{})}, nil
}

func (l *tapListener) recorded() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	for _, c := range l.conns {
		out = append(out, c.bytes())
	}
	return out
}

// seen is what a handler learned from the Tap of its connection.
type seen struct {
	stream    Stream
	taken     bool
	akamai    string
	headerSet []string // lowercase names of r.Header, one per value
}

// tapServer serves unencrypted HTTP/2 (option A of fingerprinting.md §3.2) on
// loopback with a Tap on every connection, and records what each handler saw, by
// request URI.
type tapServer struct {
	ln   *tapListener
	srv  *http.Server
	mu   sync.Mutex
	seen map[string]seen
}

func startTapServer(t *testing.T) *tapServer {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &tapServer{ln: &tapListener{Listener: inner}, seen: map[string]seen{}}
	ts.srv = &http.Server{
		Handler:           http.HandlerFunc(ts.handle),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*Conn); ok {
				return NewContext(ctx, tc.Tap)
			}
			return ctx
		},
	}
	ts.srv.Protocols = new(http.Protocols)
	ts.srv.Protocols.SetUnencryptedHTTP2(true)
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ts.ln) }()
	t.Cleanup(func() {
		ts.srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func (ts *tapServer) url() string { return "http://" + ts.ln.Addr().String() }

func (ts *tapServer) handle(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Read-Body") != "" {
		// Read the body first, so that the stream is still open when trailers arrive.
		io.Copy(io.Discard, r.Body)
	}
	var s seen
	if tap := FromContext(r.Context()); tap != nil {
		s.stream, s.taken = tap.Take(r.Method, r.Host, r.RequestURI)
		if fp, ok := tap.Fingerprint(); ok {
			s.akamai = fp.Akamai()
		}
	}
	for k, vv := range r.Header {
		for range vv {
			s.headerSet = append(s.headerSet, strings.ToLower(k))
		}
	}
	slices.Sort(s.headerSet)
	ts.mu.Lock()
	ts.seen[r.Host+" "+r.RequestURI] = s
	ts.mu.Unlock()
	io.WriteString(w, "ok")
}

func (ts *tapServer) get(host, uri string) (seen, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	s, ok := ts.seen[host+" "+uri]
	return s, ok
}

// refStream is a request stream as the x/net Framer decodes it.
type refStream struct {
	id     uint32
	pseudo []string
	names  []string
	path   string
}

// refConn is a connection as the x/net Framer decodes it.
type refConn struct {
	fp      Fingerprint
	streams []refStream
}

// reference decodes a recorded client→server byte stream with the x/net Framer and
// hpack, independently of the Tap. It stops at the end of the bytes.
func reference(b []byte) (refConn, error) {
	var rc refConn
	if !bytes.HasPrefix(b, []byte(http2.ClientPreface)) {
		return rc, errors.New("no preface")
	}
	fr := http2.NewFramer(io.Discard, bytes.NewReader(b[len(http2.ClientPreface):]))
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var haveSettings, haveWU bool
	for {
		f, err := fr.ReadFrame()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return rc, nil
		}
		if err != nil {
			return rc, err
		}
		first := len(rc.streams) == 0
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && !haveSettings && first {
				haveSettings = true
				f.ForeachSetting(func(s http2.Setting) error {
					rc.fp.Settings = append(rc.fp.Settings, Setting{ID: uint16(s.ID), Value: s.Val})
					return nil
				})
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 && !haveWU && first {
				haveWU = true
				rc.fp.WindowUpdate = f.Increment
			}
		case *http2.PriorityFrame:
			if first && len(rc.fp.Priorities) < maxPriorities {
				rc.fp.Priorities = append(rc.fp.Priorities, Priority{
					StreamID: f.StreamID, Exclusive: f.Exclusive, DependsOn: f.StreamDep, Weight: uint16(f.Weight) + 1,
				})
			}
		case *http2.MetaHeadersFrame:
			s := refStream{id: f.StreamID, path: f.PseudoValue("path")}
			for _, hf := range f.Fields {
				if hf.IsPseudo() {
					s.pseudo = append(s.pseudo, hf.Name)
				} else {
					s.names = append(s.names, hf.Name)
				}
			}
			if first {
				rc.fp.Pseudo = s.pseudo
			}
			rc.streams = append(rc.streams, s)
		}
	}
}

// TestServerGoClient serves concurrent requests from Go's HTTP/2 client through a
// real http.Server and checks that every handler gets the header order of its own
// stream, as the x/net Framer decodes the recorded connection.
func TestServerGoClient(t *testing.T) {
	ts := startTapServer(t)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequest("GET", fmt.Sprintf("%s/r/%d?q=%d", ts.url(), i, i), nil)
			if err != nil {
				errs <- err
				return
			}
			// Distinct header sets, in an order the Go client picks at random.
			req.Header.Set("X-Req", fmt.Sprint(i))
			for j := range i % 5 {
				req.Header.Set(fmt.Sprintf("X-Extra-%d", j), "v")
			}
			if i%3 == 0 {
				req.Header.Add("X-Multi", "a")
				req.Header.Add("X-Multi", "b")
			}
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	refs := map[string]refStream{}
	var refAkamai []string
	for _, b := range ts.ln.recorded() {
		if len(b) == 0 {
			continue // a spare connection the client dialed and never used
		}
		rc, err := reference(b)
		if err != nil {
			t.Fatalf("reference decode: %v", err)
		}
		refAkamai = append(refAkamai, rc.fp.Akamai())
		for _, s := range rc.streams {
			refs[s.path] = s
		}
	}
	t.Logf("%d connections; Go %s client Akamai (x/net Framer decode): %q", len(refAkamai), runtimeVersion(), refAkamai)

	for i := range n {
		uri := fmt.Sprintf("/r/%d?q=%d", i, i)
		got, ok := ts.get(ts.ln.Addr().String(), uri)
		if !ok {
			t.Errorf("%s: handler did not run", uri)
			continue
		}
		if !got.taken {
			t.Errorf("%s: Take found no stream", uri)
			continue
		}
		ref := refs[uri]
		if got.stream.ID != ref.id || got.stream.Path != uri {
			t.Errorf("%s: got stream %d with :path %q, want stream %d", uri, got.stream.ID, got.stream.Path, ref.id)
		}
		if diff := cmp.Diff(ref.pseudo, got.stream.Pseudo); diff != "" {
			t.Errorf("%s: pseudo-headers (-framer +tap):\n%s", uri, diff)
		}
		if diff := cmp.Diff(ref.names, got.stream.Names); diff != "" {
			t.Errorf("%s: header order (-framer +tap):\n%s", uri, diff)
		}
		sorted := slices.Sorted(slices.Values(got.stream.Names))
		if diff := cmp.Diff(got.headerSet, sorted); diff != "" {
			t.Errorf("%s: names differ from r.Header (-r.Header +tap):\n%s", uri, diff)
		}
		if !slices.Contains(refAkamai, got.akamai) {
			t.Errorf("%s: Akamai %q is not the Framer's %q", uri, got.akamai, refAkamai)
		}
		// fingerprinting.md §3.5, measured with Go 1.26.
		if got.akamai != goAkamai {
			t.Errorf("%s: Go client Akamai = %q, want %q", uri, got.akamai, goAkamai)
		}
	}
}

// TestServerCurl does the same with curl and nghttp2 when curl is installed.
func TestServerCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed; the hand-written curl byte stream in TestTap still runs")
	}
	ts := startTapServer(t)
	out, err := exec.Command(curl, "--http2-prior-knowledge", "-sS", "-m", "10",
		"-H", "X-Curl: 1", "-H", "Accept-Language: de", ts.url()+"/curl?x=1").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	got, ok := ts.get(ts.ln.Addr().String(), "/curl?x=1")
	if !ok || !got.taken {
		t.Fatalf("handler ran %v, took stream %v", ok, got.taken)
	}
	rec := ts.ln.recorded()
	if len(rec) != 1 {
		t.Fatalf("%d connections, want 1", len(rec))
	}
	ref, err := reference(rec[0])
	if err != nil {
		t.Fatal(err)
	}
	if got.akamai != ref.fp.Akamai() {
		t.Errorf("Akamai = %q, Framer decode %q", got.akamai, ref.fp.Akamai())
	}
	if diff := cmp.Diff(ref.streams[0].names, got.stream.Names); diff != "" {
		t.Errorf("header order (-framer +tap):\n%s", diff)
	}
	version, _ := exec.Command(curl, "--version").Output()
	t.Logf("%s: Akamai %q, names %q", bytes.SplitN(version, []byte("\n"), 2)[0], got.akamai, got.stream.Names)
	// fingerprinting.md §3.5 measured curl 7.88.1 with nghttp2 1.52 over TLS.
	if bytes.HasPrefix(version, []byte("curl 7.88.1 ")) && got.akamai != "3:100;4:33554432;2:0|33488897|0|m,p,s,a" {
		t.Errorf("curl 7.88.1 Akamai = %q, want the §3.5 string", got.akamai)
	}
}

func runtimeVersion() string { return runtime.Version() }

// TestServerHandCrafted writes the hand-crafted byte streams of TestTap (PRIORITY
// frames, padding, CONTINUATION, HEADERS priority, Rapid Reset, trailers) to the real
// server and checks that each handler takes the stream TestTap expects.
func TestServerHandCrafted(t *testing.T) {
	for _, name := range []string{
		"go_client", "curl", "chromium", "priority_frames", "safari_vector", "unknown_and_grease_settings",
		"padded_continuation_with_priority", "dynamic_table_across_requests", "trailers_are_not_requests",
		"rapid_reset", "host_header_and_connect", "more_than_128_fields",
	} {
		i := slices.IndexFunc(tapCases, func(tc tapCase) bool { return tc.name == name })
		if i < 0 {
			t.Fatalf("no case %q", name)
		}
		tc := tapCases[i]
		t.Run(name, func(t *testing.T) {
			ts := startTapServer(t)
			c, err := net.Dial("tcp", ts.ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(tc.bytes(t)); err != nil {
				t.Fatal(err)
			}
			// Wait until every expected stream has been answered.
			open := map[uint32]bool{}
			for _, w := range tc.streams {
				open[w.ID] = true
			}
			fr := http2.NewFramer(io.Discard, c)
			for len(open) > 0 {
				f, err := fr.ReadFrame()
				if err != nil {
					t.Fatalf("reading responses, %d streams unanswered: %v", len(open), err)
				}
				switch f := f.(type) {
				case *http2.HeadersFrame:
					if f.StreamEnded() {
						delete(open, f.StreamID)
					}
				case *http2.DataFrame:
					if f.StreamEnded() {
						delete(open, f.StreamID)
					}
				case *http2.RSTStreamFrame:
					if open[f.StreamID] {
						t.Fatalf("server reset stream %d: %v", f.StreamID, f.ErrCode)
					}
				case *http2.GoAwayFrame:
					t.Fatalf("server sent GOAWAY: %v %s", f.ErrCode, f.DebugData())
				}
			}
			for _, w := range tc.streams {
				_, host, uri := w.key()
				got, ok := ts.get(host, uri)
				if !ok || !got.taken {
					t.Errorf("%s: handler ran %v, took its stream %v", uri, ok, got.taken)
					continue
				}
				if got.stream.ID != w.ID || !slices.Equal(got.stream.Pseudo, w.Pseudo) || !slices.Equal(got.stream.Names, w.Names) {
					t.Errorf("%s: took stream %d %q %q, want %d %q %q", uri,
						got.stream.ID, got.stream.Pseudo, got.stream.Names, w.ID, w.Pseudo, w.Names)
				}
				if got.akamai != tc.akamai {
					t.Errorf("%s: Akamai = %q, want %q", uri, got.akamai, tc.akamai)
				}
			}
		})
	}
}
