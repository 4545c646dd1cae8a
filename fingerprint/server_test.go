package fingerprint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/vigilhq/vigil/internal/selfsigned"
	"github.com/vigilhq/vigil/internal/tlsfp"
)

// seen is what the test handler reports about each request.
type seen struct {
	Order    []string `json:"order"`
	Protocol string   `json:"protocol"`
	Pseudo   string   `json:"pseudo"`
	TLS      *TLS     `json:"tls"`
	H2       *H2      `json:"h2"`
	HasTLS   bool     `json:"has_tls"`
	Proto    string   `json:"proto"`
}

func reportHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		order, o := FromContext(r.Context()).Observe(r, nil)
		_ = json.NewEncoder(w).Encode(seen{Order: order, Protocol: o.Protocol, Pseudo: o.Pseudo, TLS: o.TLS, H2: o.H2,
			HasTLS: r.TLS != nil, Proto: r.Proto})
	})
}

// startServer runs a Server on loopback and returns its address and the pool that
// trusts its certificate. chi, when not nil, receives the JA4 crypto/tls reported.
func startServer(t *testing.T, s *Server, chi chan<- string) (string, *x509.CertPool) {
	t.Helper()
	cert, err := selfsigned.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if chi != nil {
		cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			chi <- tlsfp.FromClientHelloInfo(h).JA4
			return nil, nil
		}
	}
	if s.HTTP == nil {
		s.HTTP = &http.Server{Handler: reportHandler(), ReadHeaderTimeout: 5 * time.Second}
	}
	s.HTTP.TLSConfig = cfg
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		// net/http's Shutdown counts a connection that has not sent a request yet
		// (the Go client's spare HTTP/2 dial, say) as busy for its first 5 s, so a
		// shorter wait can fail on a loaded machine.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			// Which connection or handler held it up: every goroutine's stack.
			var b strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
			t.Errorf("Shutdown: %v\ngoroutines:\n%s", err, b.String())
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return ln.Addr().String(), pool
}

func get(t *testing.T, c *http.Client, url string, header map[string]string) seen {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s seen
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServerObservesHTTP1AndHTTP2(t *testing.T) {
	chi := make(chan string, 16)
	addr, pool := startServer(t, &Server{}, chi)
	port := addr[strings.LastIndexByte(addr, ':'):]
	url := "https://localhost" + port + "/p?q=1"

	t.Run("go_http1", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: new(http.Protocols)}
		tr.Protocols.SetHTTP1(true)
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		for i := range 3 { // keep-alive: every request on the connection gets its order
			s := get(t, c, url, map[string]string{"X-Zed": "1", "X-Abc": "2"})
			want := []string{"Host", "User-Agent", "X-Abc", "X-Zed", "Accept-Encoding"}
			if s.Protocol != "h1" || strings.Join(s.Order, ",") != strings.Join(want, ",") {
				t.Errorf("request %d: protocol %q order %q, want h1 %q", i, s.Protocol, s.Order, want)
			}
			if !s.HasTLS || s.TLS == nil || !s.TLS.Exact || s.H2 != nil {
				t.Errorf("request %d: %+v", i, s)
			}
			if i == 0 {
				if got := <-chi; s.TLS.JA4 != got {
					t.Errorf("raw JA4 %s, crypto/tls's ClientHelloInfo gives %s", s.TLS.JA4, got)
				}
			}
		}
	})
	t.Run("go_http2", func(t *testing.T) {
		// One connection: with several requests at once the transport may dial spare
		// connections, and one whose handshake ends after CloseIdleConnections stays
		// open, so the server's Shutdown waited on it (an HTTP/2 connection that the
		// server accepted after its GOAWAY broadcast is never told to go away).
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		var wg sync.WaitGroup
		results := make([]seen, 4)
		for i := range results { // concurrent streams on one connection
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = get(t, c, url+"&n="+string(rune('a'+i)), map[string]string{"X-Stream": "1"})
			}()
		}
		wg.Wait()
		for i, s := range results {
			if s.Protocol != "h2" || s.Proto != "HTTP/2.0" || s.Pseudo != "a,m,p,s" || !s.HasTLS {
				t.Errorf("stream %d: %+v", i, s)
				continue
			}
			if !contains(s.Order, "x-stream") || !contains(s.Order, "user-agent") || !contains(s.Order, "accept-encoding") {
				t.Errorf("stream %d: order %q", i, s.Order)
			}
			if s.H2 == nil || !strings.HasSuffix(s.H2.Akamai, "|a,m,p,s") || len(s.H2.Hash) != 32 {
				t.Errorf("stream %d: h2 %+v", i, s.H2)
			}
			if s.TLS == nil || !strings.HasPrefix(s.TLS.JA4, "t13d") || s.TLS.JA4[8:10] != "h2" {
				t.Errorf("stream %d: tls %+v", i, s.TLS)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A client that opens a connection and sends nothing holds a handshake slot until
// the handshake timeout, and never stalls other clients' connections.
func TestServerSlowHandshakeDoesNotBlockAccept(t *testing.T) {
	addr, pool := startServer(t, &Server{HandshakeTimeout: 300 * time.Millisecond, MaxHandshakes: 2}, nil)
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// Half a ClientHello record header, then silence.
	if _, err := idle.Write([]byte{0x16, 0x03}); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	defer tr.CloseIdleConnections()
	s := get(t, &http.Client{Transport: tr, Timeout: 5 * time.Second}, "https://"+addr+"/", nil)
	if s.TLS == nil {
		t.Errorf("second client not observed: %+v", s)
	}
	// The server gives up on the silent client at the deadline.
	_ = idle.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	if _, err := io.ReadAll(idle); err != nil && !errors.Is(err, io.EOF) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server kept a silent connection open for %v", time.Since(start))
		}
	}
}

// In server-config mode the owner keeps http.Server and its TLS: JA4 comes from
// ClientHelloInfo, HTTP/2 is tapped, and HTTP/1 over TLS has no order.
func TestInstrument(t *testing.T) {
	cert, err := selfsigned.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: reportHandler(), ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	if err := Instrument(srv); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	url := "https://localhost" + ln.Addr().String()[strings.LastIndexByte(ln.Addr().String(), ':'):] + "/"

	h2 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer h2.CloseIdleConnections()
	s := get(t, &http.Client{Transport: h2}, url, nil)
	if s.Protocol != "h2" || s.Pseudo != "a,m,p,s" || s.H2 == nil || s.TLS == nil || s.TLS.Exact || !s.HasTLS {
		t.Errorf("h2: %+v", s)
	}
	if s.TLS != nil && s.TLS.JA4[8:10] != "h2" {
		t.Errorf("h2: JA4 %s does not offer h2", s.TLS.JA4)
	}

	h1 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: new(http.Protocols)}
	h1.Protocols.SetHTTP1(true)
	defer h1.CloseIdleConnections()
	s = get(t, &http.Client{Transport: h1}, url, nil)
	if s.Order != nil || s.Protocol != "" || s.TLS == nil || s.TLS.JA4 == "" || s.H2 != nil {
		t.Errorf("h1 over TLS: %+v; want JA4 and no order", s)
	}
}

// Behind a TLS-terminating balancer, WrapListener records plaintext HTTP/1 order.
func TestWrapListener(t *testing.T) {
	srv := &http.Server{Handler: reportHandler(), ReadHeaderTimeout: 5 * time.Second}
	if err := Instrument(srv); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(WrapListener(ln)) }()
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /a HTTP/1.1\r\nhost: x\r\nuser-agent: t\r\nX-Mixed-Case: 1\r\n\r\n"+
		"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	body, _ := io.ReadAll(c)
	var got []seen
	for _, part := range strings.Split(string(body), "HTTP/1.1 200 OK")[1:] {
		i := strings.Index(part, "{")
		var s seen
		if err := json.NewDecoder(strings.NewReader(part[i:])).Decode(&s); err != nil {
			t.Fatalf("%v in %q", err, part)
		}
		got = append(got, s)
	}
	if len(got) != 2 || strings.Join(got[0].Order, ",") != "host,user-agent,X-Mixed-Case" ||
		strings.Join(got[1].Order, ",") != "Host,Connection" || got[0].TLS != nil {
		t.Errorf("pipelined plaintext requests: %+v", got)
	}
}

// Pure middleware: a request that did not come through an observed connection has
// no Conn, and Observe on it reports the order unknown.
func TestMiddlewareModeOrderUnknown(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	c := FromContext(r.Context())
	if c != nil {
		t.Fatalf("Conn %v in a plain request", c)
	}
	if order, o := c.Observe(r, nil); order != nil || o != (Observation{}) {
		t.Errorf("Observe on a nil Conn = %q, %+v", order, o)
	}
}

// A request nobody observes (an excluded path, a route without the guard) does not
// cost the next request on its connection its header order.
func TestUnobservedRequestKeepsTheNextOrder(t *testing.T) {
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/skip" {
			_, _ = io.WriteString(w, "{}\n")
			return
		}
		reportHandler().ServeHTTP(w, r)
	})}
	if err := Instrument(srv); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(WrapListener(ln)) }()
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	base := "http://" + ln.Addr().String()
	for i := range 3 {
		res, err := c.Get(base + "/skip")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if s := get(t, c, base+"/seen", nil); s.Protocol != "h1" || len(s.Order) == 0 {
			t.Errorf("round %d: order lost after an unobserved request: %+v", i, s)
		}
	}
}

// A Server that has shut down leaves no goroutine behind: not its accept loop, not its
// inner servers, not a handshake in progress.
func TestServerShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	// Cleanups run last-registered first: this one runs after startServer's Shutdown.
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines after shutdown, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	})
	addr, pool := startServer(t, &Server{HandshakeTimeout: time.Second}, nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	get(t, &http.Client{Transport: tr}, "https://"+addr+"/", nil)
	// A connection stuck in its handshake when the server stops.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
}

// Over HTTP/2 too, the record of a request nobody observes is taken off the tap as the
// request starts: nothing piles up on a long-lived connection.
func TestUnobservedHTTP2StreamsDoNotPileUp(t *testing.T) {
	leftover := make(chan bool, 1)
	s := &Server{HTTP: &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/skip" {
			return
		}
		c := FromContext(r.Context())
		_, ok := c.h2.Take(http.MethodGet, r.Host, "/skip")
		leftover <- ok
		reportHandler().ServeHTTP(w, r)
	})}}
	addr, pool := startServer(t, s, nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for range 20 {
		res, err := c.Get("https://" + addr + "/skip")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if rep := get(t, c, "https://"+addr+"/seen", nil); rep.Protocol != "h2" || rep.Order == nil {
		t.Errorf("observed request: %+v", rep)
	}
	if <-leftover {
		t.Error("a stream of an unobserved request was still waiting on the tap")
	}
}

// An HTTP/2 client that finishes its handshake but sends its preface only after
// Shutdown began is still told to go away: net/http's HTTP/2 server sends GOAWAY to
// the connections registered when its shutdown hook runs, and this one registers later.
// Without the Server re-running the hook, Shutdown waits for the client until its
// context ends.
func TestShutdownTellsLateHTTP2ConnectionToGoAway(t *testing.T) {
	cert, err := selfsigned.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{HTTP: &http.Server{Handler: reportHandler(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	// Let the inner server accept the connection; it now waits for the preface.
	time.Sleep(100 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	start := time.Now()
	go func() { shut <- s.Shutdown(ctx) }()
	time.Sleep(100 * time.Millisecond) // the shutdown hook has run

	fr := http2.NewFramer(c, c)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(4 * time.Second))
	goAway := false
	for !goAway {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("no GOAWAY before the connection ended: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.GoAwayFrame:
			goAway = true
		}
	}
	c.Close()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
}
