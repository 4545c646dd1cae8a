package proxy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
	"github.com/vigilhq/vigil/proxy"
)

// seen is what the echo upstream reports about the request it received.
type seen struct {
	Path           string
	Host           string
	XForwardedFor  []string
	XRealIP        []string
	Forwarded      []string
	XForwardedHost string
	XForwardedProt string
	XRequestID     []string
}

// echoUpstream answers every request with a JSON description of what it received and
// echoes X-Request-Id back, as many frameworks do. It counts the requests it saw.
func echoUpstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		s := seen{
			Path: r.URL.Path, Host: r.Host,
			XForwardedFor: r.Header.Values("X-Forwarded-For"), XRealIP: r.Header.Values("X-Real-Ip"),
			Forwarded: r.Header.Values("Forwarded"), XForwardedHost: r.Header.Get("X-Forwarded-Host"),
			XForwardedProt: r.Header.Get("X-Forwarded-Proto"), XRequestID: r.Header.Values("X-Request-Id"),
		}
		w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// recorder is an EventSink that keeps nothing; with it set, the guard wraps the response
// writer to observe the response, which is the path that must still support Hijack and
// Flush.
type recorder struct{ n atomic.Int64 }

func (r *recorder) Record(vigil.Event) { r.n.Add(1) }

// front builds a guard from gcfg and a proxy from pcfg and serves it on a test server.
func front(t *testing.T, gcfg vigil.Config, pcfg proxy.Config) *httptest.Server {
	t.Helper()
	g, err := vigil.New(gcfg)
	if err != nil {
		t.Fatal(err)
	}
	return frontWith(t, g, pcfg)
}

// frontWith serves a proxy in front of g, built from pcfg, on a test server.
func frontWith(t *testing.T, g *vigil.Guard, pcfg proxy.Config) *httptest.Server {
	t.Helper()
	p, err := proxy.New(g, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		p.CloseIdleConnections()
	})
	return srv
}

// browser sets the headers of an ordinary browser navigation.
func browser(r *http.Request) {
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	r.Header.Set("Accept-Language", "en-US,en;q=0.9")
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	r.Header.Set("Sec-Fetch-Mode", "navigate")
	r.Header.Set("Sec-Fetch-Site", "none")
	r.Header.Set("Sec-Fetch-Dest", "document")
	r.Header.Set("Upgrade-Insecure-Requests", "1")
}

func do(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	browser(req)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestForwardingHeaders(t *testing.T) {
	up, _ := echoUpstream(t)
	forged := map[string]string{
		"X-Forwarded-For":   "6.6.6.6",
		"X-Real-Ip":         "6.6.6.6",
		"Forwarded":         "for=6.6.6.6;proto=https",
		"X-Forwarded-Host":  "evil.example",
		"X-Forwarded-Proto": "https",
		"X-Request-Id":      "forged-id",
	}
	tests := []struct {
		name    string
		trusted []string
		header  map[string]string
		pcfg    proxy.Config
		target  string
		wantIP  string
		want    func(s *seen, frontHost string, upHost string)
	}{
		{
			name: "untrusted_peer_forged_headers_dropped", header: forged, target: "/a", wantIP: "127.0.0.1",
		},
		{
			name: "trusted_peer_client_from_xff", trusted: []string{"127.0.0.0/8"},
			header: map[string]string{"X-Forwarded-For": "203.0.113.50"}, target: "/a", wantIP: "203.0.113.50",
		},
		{
			name: "trusted_peer_forged_left_of_chain_dropped", trusted: []string{"127.0.0.0/8"},
			header: map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.50"}, target: "/a", wantIP: "203.0.113.50",
		},
		{
			name: "trusted_peer_skips_trusted_hops", trusted: []string{"127.0.0.0/8", "10.0.0.0/8"},
			header: map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.50, 10.1.2.3"}, target: "/a", wantIP: "203.0.113.50",
		},
		{
			name: "base_path_joined", pcfg: proxy.Config{Upstream: up.URL + "/base"}, target: "/a", wantIP: "127.0.0.1",
			want: func(s *seen, _, _ string) {
				if s.Path != "/base/a" {
					t.Errorf("upstream path %q, want /base/a", s.Path)
				}
			},
		},
		{
			name: "upstream_host_by_default", target: "/", wantIP: "127.0.0.1",
			want: func(s *seen, _, upHost string) {
				if s.Host != upHost {
					t.Errorf("upstream Host %q, want %q", s.Host, upHost)
				}
			},
		},
		{
			name: "preserve_host", pcfg: proxy.Config{Upstream: up.URL, PreserveHost: true}, target: "/", wantIP: "127.0.0.1",
			want: func(s *seen, frontHost, _ string) {
				if s.Host != frontHost {
					t.Errorf("upstream Host %q, want %q", s.Host, frontHost)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pcfg := tt.pcfg
			if pcfg.Upstream == "" {
				pcfg.Upstream = up.URL
			}
			fr := front(t, vigil.Config{TrustedProxies: tt.trusted}, pcfg)
			res, body := do(t, "GET", fr.URL+tt.target, tt.header)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			var s seen
			if err := json.Unmarshal(body, &s); err != nil {
				t.Fatal(err)
			}
			id := res.Header.Values("X-Request-Id")
			if len(id) != 1 || id[0] == "forged-id" || id[0] == "" {
				t.Errorf("response X-Request-Id %q, want one guard-made ID", id)
			}
			frontHost := strings.TrimPrefix(fr.URL, "http://")
			got := seen{Path: s.Path, Host: s.Host, XForwardedFor: s.XForwardedFor, XRealIP: s.XRealIP, Forwarded: s.Forwarded,
				XForwardedHost: s.XForwardedHost, XForwardedProt: s.XForwardedProt, XRequestID: s.XRequestID}
			want := got // fields not under test
			want.XForwardedFor = []string{tt.wantIP}
			want.XRealIP = []string{tt.wantIP}
			want.Forwarded = nil
			want.XForwardedHost = frontHost
			want.XForwardedProt = "http"
			want.XRequestID = id
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("upstream saw (-want +got):\n%s", diff)
			}
			if tt.want != nil {
				tt.want(&s, frontHost, strings.TrimPrefix(up.URL, "http://"))
			}
		})
	}
}

func TestGuardRunsBeforeUpstream(t *testing.T) {
	up, hits := echoUpstream(t)
	fr := front(t, vigil.Config{}, proxy.Config{Upstream: up.URL})

	res, _ := do(t, "GET", fr.URL+"/", nil)
	if res.StatusCode != 200 || res.Header.Get("X-Vigil-Action") != "allow" || hits.Load() != 1 {
		t.Fatalf("ordinary request: status %d, action %q, upstream hits %d", res.StatusCode, res.Header.Get("X-Vigil-Action"), hits.Load())
	}
	res, _ = do(t, "GET", fr.URL+"/.env", nil)
	if res.StatusCode != 403 || res.Header.Get("X-Vigil-Action") != "block" {
		t.Errorf("honeypot: status %d, action %q", res.StatusCode, res.Header.Get("X-Vigil-Action"))
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("a blocked request reached the upstream (%d hits)", n)
	}
}

func TestHealth(t *testing.T) {
	up, hits := echoUpstream(t)
	tests := []struct {
		name       string
		healthPath string
		method     string
		target     string
		wantBody   string
		wantHits   int64 // upstream requests the call makes
	}{
		{name: "get_default_path", method: "GET", target: "/healthz", wantBody: "ok\n"},
		{name: "head_default_path", method: "HEAD", target: "/healthz", wantBody: ""},
		{name: "post_goes_upstream", method: "POST", target: "/healthz", wantHits: 1},
		{name: "other_path_goes_upstream", method: "GET", target: "/healthz/x", wantHits: 1},
		{name: "custom_path", healthPath: "/-/ready", method: "GET", target: "/-/ready", wantBody: "ok\n"},
		{name: "default_path_not_answered_when_customised", healthPath: "/-/ready", method: "GET", target: "/healthz", wantHits: 1},
	}
	g, err := vigil.New(vigil.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := frontWith(t, g, proxy.Config{Upstream: up.URL, HealthPath: tt.healthPath})
			before := hits.Load()
			res, body := do(t, tt.method, fr.URL+tt.target, map[string]string{"Content-Type": "text/plain"})
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if n := hits.Load() - before; n != tt.wantHits {
				t.Errorf("upstream hits %d, want %d", n, tt.wantHits)
			}
			if tt.wantHits == 0 {
				if string(body) != tt.wantBody {
					t.Errorf("body %q, want %q", body, tt.wantBody)
				}
				if res.Header.Get("X-Vigil-Action") != "" {
					t.Error("health answer went through the guard")
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUpstreamFailure(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name       string
		upstream   string
		transport  http.RoundTripper
		wantStatus int
		wantLog    string
	}{
		{name: "upstream_down", upstream: closedURL, wantStatus: 502, wantLog: "upstream error"},
		{name: "upstream_timeout", upstream: slow.URL, transport: &http.Transport{ResponseHeaderTimeout: 50 * time.Millisecond},
			wantStatus: 504, wantLog: "upstream timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			fr := front(t, vigil.Config{}, proxy.Config{Upstream: tt.upstream, Transport: tt.transport, Logger: log})
			if tr, ok := tt.transport.(*http.Transport); ok {
				t.Cleanup(tr.CloseIdleConnections)
			}
			res, body := do(t, "GET", fr.URL+"/", map[string]string{"Accept": "application/json"})
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			id := res.Header.Get("X-Request-Id")
			var pb struct {
				Status    int    `json:"status"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal(body, &pb); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if pb.Status != tt.wantStatus || pb.RequestID != id || id == "" {
				t.Errorf("problem %+v, header request ID %q", pb, id)
			}
			for _, leak := range []string{"dial", "refused", "127.0.0.1", "timeout awaiting", "net/http"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("body reveals %q: %s", leak, body)
				}
			}
			var line struct {
				Msg       string `json:"msg"`
				Err       string `json:"err"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			if line.Msg != tt.wantLog || line.RequestID != id || line.Err == "" {
				t.Errorf("log line %+v, want %q with request ID %q and the error", line, tt.wantLog, id)
			}
		})
	}
}

// TestWebSocketUpgrade runs a WebSocket-style upgrade through the guard and the proxy to
// an upstream that hijacks the connection and echoes bytes, with and without the guard's
// response recorder in the path (it is there when Events is set).
func TestWebSocketUpgrade(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-Websocket-Key") == "" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("upstream hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-Websocket-Accept: test\r\nX-Upstream-Id: %s\r\n\r\n",
			r.Header.Get("X-Request-Id"))
		if err := brw.Flush(); err != nil {
			return
		}
		_, _ = io.Copy(conn, brw) // echo until the client closes
	}))
	t.Cleanup(up.Close)

	for _, tt := range []struct {
		name   string
		events vigil.EventSink
	}{
		{name: "plain_writer"},
		{name: "recorded_writer", events: &recorder{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fr := front(t, vigil.Config{Events: tt.events}, proxy.Config{Upstream: up.URL})
			conn, err := net.Dial("tcp", strings.TrimPrefix(fr.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			req, _ := http.NewRequest("GET", fr.URL+"/ws", nil)
			browser(req)
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
				body, _ := io.ReadAll(res.Body)
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			id := res.Header.Get("X-Request-Id")
			if id == "" || res.Header.Get("X-Upstream-Id") != id || res.Header.Get("X-Vigil-Action") != "allow" {
				t.Errorf("101 headers: X-Request-Id %q, upstream saw %q, X-Vigil-Action %q",
					id, res.Header.Get("X-Upstream-Id"), res.Header.Get("X-Vigil-Action"))
			}
			for _, msg := range []string{"ping", "second frame"} {
				if _, err := io.WriteString(conn, msg); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(br, got); err != nil {
					t.Fatal(err)
				}
				if string(got) != msg {
					t.Errorf("echo %q, want %q", got, msg)
				}
			}
		})
	}
}

// TestStreaming checks that an event stream reaches the client while the upstream is
// still writing it, through the guard's recorder.
func TestStreaming(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		_ = http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		fmt.Fprint(w, "data: last\n\n")
	}))
	t.Cleanup(up.Close)
	defer close(release)
	fr := front(t, vigil.Config{Events: &recorder{}}, proxy.Config{Upstream: up.URL})

	req, _ := http.NewRequest("GET", fr.URL+"/events", nil)
	browser(req)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(res.Body).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if s != "data: first\n" {
			t.Errorf("first line %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first event did not arrive while the stream was open")
	}
}

func TestNewRejects(t *testing.T) {
	g, err := vigil.New(vigil.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		guard *vigil.Guard
		cfg   proxy.Config
		want  string
	}{
		{name: "nil_guard", cfg: proxy.Config{Upstream: "http://127.0.0.1:8000"}, want: "guard is nil"},
		{name: "no_upstream", guard: g, want: "upstream is required"},
		{name: "no_scheme", guard: g, cfg: proxy.Config{Upstream: "127.0.0.1:8000"}, want: "is not a URL such as http://127.0.0.1:8000"},
		{name: "host_as_scheme", guard: g, cfg: proxy.Config{Upstream: "localhost:8000"}, want: "scheme must be http or https"},
		{name: "ftp_scheme", guard: g, cfg: proxy.Config{Upstream: "ftp://127.0.0.1"}, want: "scheme must be http or https"},
		{name: "no_host", guard: g, cfg: proxy.Config{Upstream: "http:///path"}, want: "host is missing"},
		{name: "port_only", guard: g, cfg: proxy.Config{Upstream: "http://:8000"}, want: "host is missing"},
		{name: "bad_port", guard: g, cfg: proxy.Config{Upstream: "http://127.0.0.1:99999"}, want: "invalid port"},
		{name: "user_info", guard: g, cfg: proxy.Config{Upstream: "http://u:secret@127.0.0.1"}, want: "user info is not supported"},
		{name: "query", guard: g, cfg: proxy.Config{Upstream: "http://127.0.0.1/?a=b"}, want: "query is not supported"},
		{name: "fragment", guard: g, cfg: proxy.Config{Upstream: "http://127.0.0.1/#x"}, want: "fragment is not supported"},
		{name: "negative_flush", guard: g, cfg: proxy.Config{Upstream: "http://127.0.0.1", FlushInterval: -1}, want: "flush_interval"},
		{name: "relative_health_path", guard: g, cfg: proxy.Config{Upstream: "http://127.0.0.1", HealthPath: "healthz"}, want: "health_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := proxy.New(tt.guard, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestConfigValidateReportsEverything(t *testing.T) {
	err := proxy.Config{Upstream: "ftp://x", FlushInterval: -time.Second, HealthPath: "ready"}.Validate()
	want := []string{
		`proxy: upstream "ftp://x": scheme must be http or https`,
		"proxy: flush_interval must not be negative",
		`proxy: health_path "ready" does not start with /`,
	}
	if err == nil {
		t.Fatal("no error")
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if err := (proxy.Config{Upstream: "https://app.internal:8443/base"}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// TestClientRoutingHeaders: headers through which a client could tell the upstream
// another address, URL or prefix never reach it; the scheme and host written by a trusted
// proxy in front do, and only from it.
func TestClientRoutingHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	t.Cleanup(up.Close)
	sent := map[string]string{
		"X-Forwarded-Port": "8443", "X-Forwarded-Prefix": "/evil", "X-Original-Url": "/admin",
		"X-Rewrite-Url": "/admin", "True-Client-Ip": "6.6.6.6", "Cf-Connecting-Ip": "6.6.6.6",
		"X-Client-Ip": "6.6.6.6", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example",
	}
	for _, tc := range []struct {
		name      string
		trusted   []string
		wantProto string
		wantHost  func(front string) string
	}{
		{name: "untrusted_peer", wantProto: "http", wantHost: func(front string) string { return front }},
		{name: "trusted_peer", trusted: []string{"127.0.0.0/8"}, wantProto: "https", wantHost: func(string) string { return "shop.example" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := front(t, vigil.Config{TrustedProxies: tc.trusted}, proxy.Config{Upstream: up.URL})
			if res, body := do(t, "GET", fr.URL+"/", sent); res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			h := <-got
			for _, name := range []string{"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Original-Url", "X-Rewrite-Url", "True-Client-Ip", "Cf-Connecting-Ip", "X-Client-Ip"} {
				if v := h.Values(name); len(v) != 0 {
					t.Errorf("upstream got %s: %q", name, v)
				}
			}
			if p := h.Get("X-Forwarded-Proto"); p != tc.wantProto {
				t.Errorf("X-Forwarded-Proto %q, want %q", p, tc.wantProto)
			}
			if hh, want := h.Get("X-Forwarded-Host"), tc.wantHost(strings.TrimPrefix(fr.URL, "http://")); hh != want {
				t.Errorf("X-Forwarded-Host %q, want %q", hh, want)
			}
		})
	}
}

// TestEarlyHintsKeepGuardHeaders: ReverseProxy clears the response header map after
// relaying a 1xx; the final response must still carry the guard's headers.
func TestEarlyHintsKeepGuardHeaders(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Write([]byte("page"))
	}))
	t.Cleanup(up.Close)
	fr := front(t, vigil.Config{}, proxy.Config{Upstream: up.URL})
	res, body := do(t, "GET", fr.URL+"/", nil)
	if res.StatusCode != 200 || string(body) != "page" {
		t.Fatalf("status %d body %q", res.StatusCode, body)
	}
	if len(res.Header.Values("X-Request-Id")) != 1 || res.Header.Get("X-Vigil-Action") != "allow" {
		t.Errorf("final response headers %v, want one X-Request-Id and X-Vigil-Action: allow", res.Header)
	}
}

// The proxy tells the upstream the client's DNA, and a client cannot forge it.
func TestDNAHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer up.Close()
	forged := map[string]string{"X-Vigil-Dna": "d1-forged", "X-Vigil-Ja4": "t13d1516h2_8daaf6152771_02713d6af862",
		"X-Vigil-Client": "forged; library", "X-Vigil-H2": "forged", "X-My-Dna": "forged"}

	for _, tc := range []struct {
		name string
		cfg  proxy.DNAHeaders
		id   string // the header that must carry the DNA ID
	}{
		{"defaults", proxy.DNAHeaders{}, "X-Vigil-Dna"},
		{"renamed", proxy.DNAHeaders{ID: "x-my-dna"}, "X-My-Dna"},
		{"off", proxy.DNAHeaders{Off: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := front(t, vigil.Config{}, proxy.Config{Upstream: up.URL, DNAHeaders: tc.cfg})
			res, _ := do(t, http.MethodGet, srv.URL+"/", forged)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			h := <-got
			// Plain HTTP through httptest: no TLS or HTTP/2 fingerprint, so those
			// headers are absent rather than forged.
			for _, name := range []string{"X-Vigil-Ja4", "X-Vigil-H2", "X-Vigil-Ja3"} {
				if v := h.Get(name); v != "" {
					t.Errorf("%s = %q reached the upstream", name, v)
				}
			}
			if tc.id == "" {
				if v := h.Get("X-Vigil-Dna"); v != "" {
					t.Errorf("X-Vigil-Dna = %q with DNA headers off", v)
				}
				return
			}
			if id := h.Get(tc.id); !strings.HasPrefix(id, "d1-") || len(h.Values(tc.id)) != 1 {
				t.Errorf("%s = %q, want the guard's DNA ID", tc.id, h.Values(tc.id))
			}
			if c := h.Get("X-Vigil-Client"); c != "chrome; browser" {
				t.Errorf("X-Vigil-Client = %q", c)
			}
		})
	}
}

// A health check that asks for JSON gets the proxy's state; any other gets "ok".
func TestHealthStatus(t *testing.T) {
	up, _ := echoUpstream(t)
	srv := front(t, vigil.Config{}, proxy.Config{Upstream: up.URL, Status: func() any { return map[string]int{"outages": 2} }})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/healthz", nil)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || string(body) != `{"status":"ok","state":{"outages":2}}`+"\n" {
		t.Errorf("JSON health: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	res, body = do(t, http.MethodGet, srv.URL+"/healthz", nil)
	if res.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("plain health: %d %q", res.StatusCode, body)
	}
}

// Under more concurrent clients than http.DefaultTransport keeps idle connections per
// host (2), the proxy's own transport reuses its upstream connections: 32 clients
// sending 20 requests each open about 32 upstream connections, not hundreds.
func TestUpstreamConnectionsReused(t *testing.T) {
	var opened atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	up.Start()
	t.Cleanup(up.Close)
	p := policy.Default()
	p.RateLimit.PerIP = policy.Limit{Rate: 1_000_000, Period: policy.Duration(time.Second)}
	front := front(t, vigil.Config{Policy: p}, proxy.Config{Upstream: up.URL})

	const clients, each = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			for range each {
				req, _ := http.NewRequest("GET", front.URL+"/products", nil)
				browser(req)
				res, err := c.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Each client holds one connection to the proxy and has one request in flight,
	// so the proxy needs at most one upstream connection per client.
	if n := opened.Load(); n > 2*clients {
		t.Errorf("%d upstream connections for %d requests from %d clients; want at most %d", n, clients*each, clients, 2*clients)
	}
	t.Logf("%d upstream connections for %d requests", opened.Load(), clients*each)
}

// The upstream sees the client's Accept-Encoding, or none: the proxy's own transport
// neither asks for gzip on a client's behalf nor unpacks what the upstream sends, so
// the bytes and Content-Encoding the client gets are the upstream's.
func TestAcceptEncodingPassedAsIs(t *testing.T) {
	var got atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Values("Accept-Encoding"))
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "hello")
	}))
	defer up.Close()
	fr := front(t, vigil.Config{}, proxy.Config{Upstream: up.URL})
	client := &http.Transport{DisableCompression: true}
	defer client.CloseIdleConnections()
	for _, tc := range []struct {
		name string
		ae   string // the client's Accept-Encoding, "" for none
	}{
		{"none", ""},
		{"identity", "identity"},
		{"browser", "gzip, deflate, br"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", fr.URL+"/", nil)
			browser(req)
			req.Header.Del("Accept-Encoding")
			if tc.ae != "" {
				req.Header.Set("Accept-Encoding", tc.ae)
			}
			res, err := client.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(body) != "hello" {
				t.Fatalf("status %d, body %q", res.StatusCode, body)
			}
			var want []string
			if tc.ae != "" {
				want = []string{tc.ae}
			}
			if diff := cmp.Diff(want, got.Load().([]string)); diff != "" {
				t.Errorf("upstream's Accept-Encoding (-want +got):\n%s", diff)
			}
		})
	}
}
