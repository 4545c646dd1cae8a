package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// acceptanceConfig is the configuration of the first milestone's acceptance test: loopback
// plays a load balancer (so each step can be a different client, named by
// X-Forwarded-For) and logins are limited to 2 a minute per client.
const acceptanceConfig = `upstream: %s
guard:
  trusted_proxies: [127.0.0.1/32]
  policy:
    mode: block
    rules:
      - name: login-limit
        match: {methods: [POST], paths: [/login]}
        action: ratelimit
        rate_limit: 2/1m
`

// step is one request of the acceptance test, with what block mode and monitor mode must
// make of it.
type step struct {
	name   string
	method string // GET when empty
	target string
	client string // X-Forwarded-For from the trusted loopback, whose last entry is the client; empty: the connection's address
	body   string // sent as a form

	status int    // in block mode
	action string // X-Vigil-Action in block mode
	// wouldBe is the action monitor mode logs for the step as "monitor: request would
	// be acted on"; empty when it logs nothing (monitor mode places no bans, so a
	// banned client's next request is an ordinary one).
	wouldBe string
}

var acceptanceSteps = []step{
	{name: "browser_get", target: "/products?page=2", status: 200, action: "allow"},
	{name: "clean_form_post", method: "POST", target: "/cart", client: "203.0.113.4", body: "sku=A-1&qty=2&note=O%27Brien%27s+gift", status: 200, action: "allow"},
	{name: "forged_entries_left_of_client_dropped", target: "/products", client: "6.6.6.6, 203.0.113.11", status: 200, action: "allow"},
	{name: "honeypot_env", target: "/.env", client: "203.0.113.5", status: 403, action: "block", wouldBe: "block"},
	{name: "banned_after_honeypot", target: "/products", client: "203.0.113.5", status: 403, action: "block"},
	{name: "sqli_query", target: "/?id=1%27%20OR%201=1--", client: "203.0.113.6", status: 403, action: "block", wouldBe: "block"},
	{name: "xss_query", target: "/?q=" + url.QueryEscape("<script>alert(1)</script>"), client: "203.0.113.7", status: 403, action: "block", wouldBe: "block"},
	{name: "login_1", method: "POST", target: "/login", client: "203.0.113.8", body: "user=alice&password=hunter2", status: 200, action: "allow"},
	{name: "login_2", method: "POST", target: "/login", client: "203.0.113.8", body: "user=alice&password=hunter3", status: 200, action: "allow"},
	{name: "login_3_limited", method: "POST", target: "/login", client: "203.0.113.8", body: "user=alice&password=hunter4", status: 429, action: "ratelimit", wouldBe: "ratelimit"},
	{name: "other_client_not_limited", method: "POST", target: "/login", client: "203.0.113.9", body: "user=bob&password=x", status: 200, action: "allow"},
}

// TestProxyAcceptance is the acceptance test of the first milestone: `vigil proxy` in front
// of a service, in block mode and in monitor mode, over real HTTP.
func TestProxyAcceptance(t *testing.T) {
	for _, mode := range []string{"block", "monitor"} {
		t.Run(mode, func(t *testing.T) {
			up := newUpstream(t)
			args := []string{"--config", writeFile(t, "vigil.yaml", fmt.Sprintf(acceptanceConfig, up.URL))}
			if mode == "monitor" {
				args = append(args, "--mode", "monitor") // the flag overrides the file
			}
			p := startProxy(t, args...)
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()

			for _, st := range acceptanceSteps {
				t.Run(st.name, func(t *testing.T) {
					res, body := send(t, client, p.addr, st)
					id := res.Header.Get("X-Request-Id")
					if len(id) != 26 {
						t.Errorf("X-Request-Id %q, want a 26-character ID", id)
					}
					// The upstream must see the client as the guard established it:
					// the loopback peer, or the nearest entry it added to the chain.
					wantIP := "127.0.0.1"
					if st.client != "" {
						chain := strings.Split(st.client, ",")
						wantIP = strings.TrimSpace(chain[len(chain)-1])
					}
					if mode == "block" {
						checkBlockMode(t, st, res, body, id)
						xff, reached := up.saw(id)
						if reached != (st.status == 200) {
							t.Errorf("reached the upstream: %v, want %v", reached, st.status == 200)
						}
						if reached && xff != wantIP {
							t.Errorf("upstream saw X-Forwarded-For %q, want %q", xff, wantIP)
						}
						checkLogged(t, p, id, "request acted on", "action", map[bool]string{true: st.action}[st.status != 200])
						return
					}
					checkMonitorMode(t, res, body)
					if xff, reached := up.saw(id); !reached || xff != wantIP {
						t.Errorf("upstream: reached %v with X-Forwarded-For %q, want %q", reached, xff, wantIP)
					}
					checkLogged(t, p, id, "monitor: request would be acted on", "would_be", st.wouldBe)
				})
			}
		})
	}
}

// send sends st to the proxy at addr as a browser would.
func send(t *testing.T, client *http.Client, addr string, st step) (*http.Response, string) {
	t.Helper()
	method := st.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if st.body != "" {
		body = strings.NewReader(st.body)
	}
	req, err := http.NewRequest(method, "http://"+addr+st.target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range browserHeaders {
		req.Header.Set(k, v)
	}
	req.Header.Del("Accept-Encoding") // read bodies as sent
	if st.body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if st.client != "" {
		req.Header.Set("X-Forwarded-For", st.client)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func checkBlockMode(t *testing.T, st step, res *http.Response, body, id string) {
	t.Helper()
	if res.StatusCode != st.status || res.Header.Get("X-Vigil-Action") != st.action {
		t.Fatalf("status %d, X-Vigil-Action %q; want %d, %q", res.StatusCode, res.Header.Get("X-Vigil-Action"), st.status, st.action)
	}
	if st.status == 200 {
		if !strings.Contains(body, `"app":"shop"`) {
			t.Errorf("body %q is not the upstream's", body)
		}
		return
	}
	// The client learns that it was stopped and the request ID to quote, not why.
	if !strings.Contains(body, id) {
		t.Errorf("body does not carry the request ID %s:\n%s", id, body)
	}
	for _, secret := range []string{"sqli", "xss", "honeypot", "score", "signal", "login-limit", ".env"} {
		if strings.Contains(body, secret) {
			t.Errorf("body reveals %q:\n%s", secret, body)
		}
	}
	if st.status == http.StatusTooManyRequests {
		if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Errorf("Retry-After %q, want a positive number of seconds", res.Header.Get("Retry-After"))
		}
		if res.Header.Get("RateLimit-Policy") == "" {
			t.Error("no RateLimit-Policy header")
		}
	}
}

func checkMonitorMode(t *testing.T, res *http.Response, body string) {
	t.Helper()
	if res.StatusCode != 200 || res.Header.Get("X-Vigil-Action") != "allow" {
		t.Fatalf("status %d, X-Vigil-Action %q; want 200, allow", res.StatusCode, res.Header.Get("X-Vigil-Action"))
	}
	if !strings.Contains(body, `"app":"shop"`) || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response is not the upstream's: %q %s", res.Header.Get("Content-Type"), body)
	}
	for name := range res.Header {
		switch name {
		case "X-Request-Id", "X-Vigil-Action", "Content-Type", "Content-Length", "Date":
		default:
			t.Errorf("monitor mode added header %s: %q", name, res.Header.Get(name))
		}
	}
}

// checkLogged checks that the proxy's log has a line msg for the request id whose field
// key is want, or, when want is empty, no such line.
func checkLogged(t *testing.T, p *proxyRun, id, msg, key, want string) {
	t.Helper()
	var got []string
	for _, l := range p.stderr.logLines(t) {
		if l["msg"] == msg && l["request_id"] == id {
			got = append(got, fmt.Sprint(l[key]))
		}
	}
	switch {
	case want == "" && len(got) > 0:
		t.Errorf("log has %q with %s=%q, want none", msg, key, got)
	case want != "" && (len(got) != 1 || got[0] != want):
		t.Errorf("log has %q with %s=%q, want one with %q", msg, key, got, want)
	}
}

func TestProxyHealthAndListenLine(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, "--upstream", up.URL, "--log-level", "debug")
	res, err := http.Get("http://" + p.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "ok\n" {
		t.Errorf("health: %d %q", res.StatusCode, b)
	}
	var found bool
	for _, l := range p.stderr.logLines(t) {
		if l["msg"] == "vigil proxy listening" {
			found = l["upstream"] == up.URL && l["mode"] == "block" && !strings.HasSuffix(p.addr, ":0")
		}
	}
	if !found {
		t.Errorf("no listening line with the actual address and upstream:\n%s", p.stderr)
	}
}

func TestProxyConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // lines of stderr
	}{
		{
			name: "no_upstream",
			args: []string{"proxy"},
			want: []string{"vigil: configuration: 1 problem:", "  upstream: missing: set upstream in the file, VIGIL_UPSTREAM or --upstream"},
		},
		{
			name: "bad_flags_all_reported",
			args: []string{"proxy", "--upstream", "http://127.0.0.1:1", "--mode", "enforce", "--listen", "nowhere", "--trusted-proxies", "10.0.0.0/8,x"},
			want: []string{
				"vigil: configuration: 3 problems:",
				`  --listen: listen: "nowhere" is not host:port (for example 127.0.0.1:8080 or :8080)`,
				`  --trusted-proxies: guard.trusted_proxies[1]: "x" is not an IP address or CIDR prefix`,
			},
		},
		{
			name: "env_names_the_variable",
			args: []string{"proxy"},
			env:  map[string]string{"VIGIL_UPSTREAM": "http://127.0.0.1:1", "VIGIL_LOG_LEVEL": "chatty"},
			want: []string{"vigil: configuration: 1 problem:", "  VIGIL_LOG_LEVEL: log_level: must be debug, info, warn or error"},
		},
		{
			name: "studio_incomplete",
			args: []string{"proxy", "--upstream", "http://127.0.0.1:1", "--studio", "http://studio", "--metrics-listen", "127.0.0.1:0"},
			want: []string{
				"vigil: configuration: 1 problem:",
				"  studio.key: missing: studio.endpoint is set; set studio.key in the file, VIGIL_STUDIO_KEY or --studio-key",
			},
		},
		{
			name: "studio_not_http",
			args: []string{"proxy", "--upstream", "http://127.0.0.1:1", "--studio", "ftp://studio"},
			env:  map[string]string{"VIGIL_STUDIO_KEY": "k"},
			want: []string{"vigil: configuration: 1 problem:", `  --studio: studio.endpoint: "ftp://studio" is not an http or https URL`},
		},
		{
			name: "metrics_without_studio",
			args: []string{"proxy", "--upstream", "http://127.0.0.1:1", "--metrics-listen", "127.0.0.1:0"},
			want: []string{"vigil: configuration: 1 problem:", "  --metrics-listen: metrics_listen: needs studio: the agent keeps the counters"},
		},
		{
			name: "unknown_flag",
			args: []string{"proxy", "--upstrem", "http://127.0.0.1:1"},
			want: []string{"vigil: unknown flag: --upstrem", "  usage: vigil proxy --upstream URL [flags]"},
		},
		{
			name: "listen_in_use",
			args: []string{"proxy", "--upstream", "http://127.0.0.1:1", "--listen", "USED"},
			want: []string{"vigil: listen tcp USED: bind: address already in use"},
		},
	}
	used, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer used.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			var stdout, stderr strings.Builder
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "USED", used.Addr().String())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := run(ctx, args, &stdout, &stderr, env); err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			for i, w := range tt.want {
				w = strings.ReplaceAll(w, "USED", used.Addr().String())
				if i >= len(got) || got[i] != w && !(strings.HasPrefix(w, "vigil: configuration: 3") && strings.HasPrefix(got[i], w)) {
					if i < len(got) {
						t.Errorf("stderr line %d: %q, want %q", i, got[i], w)
					} else {
						t.Errorf("stderr line %d missing, want %q", i, w)
					}
				}
			}
			if tt.name == "bad_flags_all_reported" && !strings.Contains(stderr.String(), "--mode: ") {
				t.Errorf("the bad --mode is not reported:\n%s", stderr.String())
			}
		})
	}
}

// TestProxyShutdown checks that cancelling the context stops `vigil proxy` promptly and
// cleanly, with nothing left running, whatever the clients are doing.
func TestProxyShutdown(t *testing.T) {
	slowRelease := make(chan struct{})
	up := newUpstream(t)
	ws := newWebSocketUpstream(t)
	slow := newSlowUpstream(t, slowRelease)

	tests := []struct {
		name     string
		upstream string
		args     []string
		// during runs while the proxy serves; it returns a function that runs after
		// Run has returned.
		during func(t *testing.T, addr string) (after func(t *testing.T))
		// minWait is how long Run must take to return once the context ends.
		minWait time.Duration
	}{
		{
			name: "idle_keep_alive_connection", upstream: up.URL,
			during: func(t *testing.T, addr string) func(*testing.T) {
				tr := &http.Transport{}
				res, err := (&http.Client{Transport: tr}).Get("http://" + addr + "/")
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				return func(*testing.T) { tr.CloseIdleConnections() }
			},
		},
		{
			name: "request_in_flight_finishes", upstream: slow.URL,
			during: func(t *testing.T, addr string) func(*testing.T) {
				got := make(chan string, 1)
				go func() {
					res, err := http.Get("http://" + addr + "/slow")
					if err != nil {
						got <- err.Error()
						return
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					got <- fmt.Sprint(res.StatusCode, " ", string(b))
				}()
				waitFor(t, func() bool { return slow.inFlight() == 1 })
				go func() { time.Sleep(100 * time.Millisecond); slowRelease <- struct{}{} }()
				return func(t *testing.T) {
					if g := <-got; g != "200 done" {
						t.Errorf("request in flight during shutdown: %s", g)
					}
					http.DefaultTransport.(*http.Transport).CloseIdleConnections()
				}
			},
		},
		{
			name: "request_past_the_timeout_cut_off", upstream: slow.URL, args: []string{"--shutdown-timeout", "200ms"},
			during: func(t *testing.T, addr string) func(*testing.T) {
				got := make(chan string, 1)
				go func() {
					res, err := http.Get("http://" + addr + "/never")
					if err != nil {
						got <- err.Error()
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					got <- strconv.Itoa(res.StatusCode)
				}()
				waitFor(t, func() bool { return slow.inFlight() == 1 })
				return func(t *testing.T) {
					// The upstream never answers: the client gets 502 once the
					// shutdown timeout cancels the request, or a broken connection.
					if g := <-got; g == "200" {
						t.Error("a request past the shutdown timeout completed")
					}
					http.DefaultTransport.(*http.Transport).CloseIdleConnections()
				}
			},
		},
		{
			// Shutdown does not see hijacked connections; Run waits for them until
			// the shutdown timeout, then cuts them off.
			name: "open_websocket_gets_the_timeout", upstream: ws.URL, args: []string{"--shutdown-timeout", "400ms"}, minWait: 350 * time.Millisecond,
			during: func(t *testing.T, addr string) func(*testing.T) {
				conn, br := dialWebSocket(t, addr)
				echo(t, conn, br, "hello")
				return func(t *testing.T) {
					_ = conn.SetReadDeadline(time.Now().Add(patience))
					if _, err := br.ReadByte(); err == nil {
						t.Error("the WebSocket connection is still open after shutdown")
					}
					conn.Close()
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := goroutines()
			ctx, cancel := context.WithCancel(context.Background())
			stderr := &syncBuffer{}
			done := make(chan error, 1)
			args := append([]string{"proxy", "--listen", "127.0.0.1:0", "--upstream", tt.upstream, "--shutdown-timeout", shutdownTimeout}, tt.args...)
			go func() { done <- run(ctx, args, io.Discard, stderr, noEnv) }()
			var addr string
			waitFor(t, func() bool {
				for _, l := range stderr.logLines(t) {
					if l["msg"] == "vigil proxy listening" {
						addr = l["addr"].(string)
					}
				}
				return addr != ""
			})
			after := tt.during(t, addr)
			start := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(patience):
				t.Fatalf("Run did not return within %v of the context ending:\n%s", patience, stderr)
			}
			t.Logf("Run returned %v after the context ended", time.Since(start).Round(time.Millisecond))
			if waited := time.Since(start); waited < tt.minWait {
				t.Errorf("Run returned %v after the context ended, want at least %v", waited, tt.minWait)
			}
			after(t)
			checkNoLeaks(t, before)
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(patience); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached within %v", patience)
		}
	}
}

// slowUpstream answers /slow when released and /never not at all (until its request
// ends).
type slowUpstream struct {
	URL string
	n   chan int
}

func newSlowUpstream(t *testing.T, release <-chan struct{}) *slowUpstream {
	t.Helper()
	s := &slowUpstream{n: make(chan int, 1)}
	s.n <- 0
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.n <- <-s.n + 1
		defer func() { s.n <- <-s.n - 1 }()
		if r.URL.Path == "/slow" {
			select {
			case <-release:
				fmt.Fprint(w, "done")
			case <-r.Context().Done():
			}
			return
		}
		<-r.Context().Done()
	}))
	s.URL = srv.URL
	return s
}

func (s *slowUpstream) inFlight() int {
	n := <-s.n
	s.n <- n
	return n
}

// newWebSocketUpstream is an upstream that accepts a WebSocket-style upgrade by hijacking
// the connection, then echoes bytes until the connection closes.
func newWebSocketUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		if brw.Flush() != nil {
			return
		}
		_, _ = io.Copy(conn, brw)
	}))
}

// dialWebSocket opens a WebSocket-style upgrade through the proxy at addr.
func dialWebSocket(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/ws", nil)
	for k, v := range browserHeaders {
		req.Header.Set(k, v)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "13")
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: status %d", res.StatusCode)
	}
	return conn, br
}

func echo(t *testing.T, conn net.Conn, br *bufio.Reader, msg string) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(patience))
	defer conn.SetDeadline(time.Time{})
	if _, err := io.WriteString(conn, msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
		t.Fatalf("echo %q, %v; want %q", got, err, msg)
	}
}

// newServer starts a test server that the test's cleanup closes.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
