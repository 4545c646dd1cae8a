// Package proxy runs a vigil.Guard in front of any HTTP service, whatever its language: a
// reverse proxy that lets through only what the guard allows.
//
//	g, err := vigil.New(vigil.Config{})
//	…
//	p, err := proxy.New(g, proxy.Config{Upstream: "http://127.0.0.1:8000"})
//	…
//	http.ListenAndServe("127.0.0.1:8080", p)
//
// # What the upstream sees
//
// Every request that reaches the upstream passed the guard. Its forwarding headers are
// set by the proxy, never copied from the client:
//
//   - X-Forwarded-For and X-Real-IP carry exactly one address, the client IP as the guard
//     established it (vigil.Verdict.ClientIP): the connection's peer, or an address from
//     forwarding headers only when they came through the guard's trusted proxies. An
//     inbound X-Forwarded-For chain and Forwarded header are dropped, so an upstream
//     that trusts the proxy can take X-Forwarded-For as the client IP.
//   - X-Forwarded-Host is the host the client asked for and X-Forwarded-Proto the scheme
//     of the client's connection to the proxy ("http" or "https").
//   - X-Request-Id is the guard's request ID, the same one the client gets back.
//
// Protocol upgrades (WebSocket) and streamed responses (server-sent events, responses of
// unknown length) pass through. When the upstream cannot be reached the client gets 502
// (504 on a timeout) as application/problem+json with the request ID and nothing of the
// internal error, which goes to the log.
//
// # Health
//
// GET and HEAD requests for Config.HealthPath are answered by the proxy itself with 200
// "ok", before the guard, so load balancers polling it are neither rate-limited nor
// banned, and the upstream's own health is not involved.
package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil"
)

// Config configures a Proxy. Only Upstream is required; every other field's zero value is
// a working default.
type Config struct {
	// Upstream is the URL of the protected service, for example
	// "http://127.0.0.1:8000". The scheme must be http or https and a host is
	// required. A path is a base path: with "http://app/base", a request for /x goes
	// to /base/x. User info, a query and a fragment are refused.
	Upstream string `json:"upstream" yaml:"upstream"`
	// PreserveHost sends the client's Host header to the upstream. False (the default):
	// the upstream gets its own host from Upstream, and the client's in
	// X-Forwarded-Host.
	PreserveHost bool `json:"preserve_host,omitempty" yaml:"preserve_host,omitempty"`
	// HealthPath is the path the proxy answers itself (GET and HEAD only) with 200
	// "ok". Empty means "/healthz".
	HealthPath string `json:"health_path,omitempty" yaml:"health_path,omitempty"`
	// FlushInterval is how often a response body being copied is flushed to the
	// client. Zero means no periodic flushing: data reaches the client as the server's
	// write buffer fills and when the response ends, except for event streams and
	// responses of unknown length, which are flushed after every write. It must not be
	// negative.
	FlushInterval time.Duration `json:"flush_interval,omitempty" yaml:"flush_interval,omitempty"`
	// DNAHeaders names the headers that carry the client's DNA to the upstream.
	// Whatever the client sent under those names is always removed first.
	DNAHeaders DNAHeaders `json:"dna_headers,omitzero" yaml:"dna_headers,omitempty"`

	// Transport sends requests to the upstream. Nil means a transport of the Proxy's
	// own, configured like http.DefaultTransport except that it keeps up to
	// UpstreamIdleConns idle connections to the upstream (http.DefaultTransport keeps
	// 2 per host, so a proxy under more concurrent clients than that opened a new
	// upstream connection for most requests) and that it passes the client's
	// Accept-Encoding as it is (DisableCompression); CloseIdleConnections closes its
	// idle connections. A Transport of the caller's with compression on makes the
	// upstream see "Accept-Encoding: gzip" for clients that asked for nothing.
	Transport http.RoundTripper `json:"-" yaml:"-"`
	// Logger receives upstream errors, with the request ID. Nil means they are
	// discarded.
	Logger *slog.Logger `json:"-" yaml:"-"`
	// Status, when set, describes the proxy's state (its store, for example) to a
	// health check that asks for JSON (Accept: application/json): the answer is then
	// {"status": "ok", "state": Status()}. Other health checks get "ok" as before.
	Status func() any `json:"-" yaml:"-"`
}

// DNAHeaders names the request headers in which the proxy tells the upstream who the
// client is (fingerprint.DNA). An empty name means the default; a header whose value is
// unknown for a request is not sent.
type DNAHeaders struct {
	// ID carries the DNA ID. Default "X-Vigil-Dna".
	ID string `json:"id,omitempty" yaml:"id,omitempty"`
	// Client carries the client family and kind, "chrome; browser". Default
	// "X-Vigil-Client".
	Client string `json:"client,omitempty" yaml:"client,omitempty"`
	// JA4 carries the TLS JA4 fingerprint. Default "X-Vigil-Ja4".
	JA4 string `json:"ja4,omitempty" yaml:"ja4,omitempty"`
	// JA3 carries the JA3 hash. Default "X-Vigil-Ja3".
	JA3 string `json:"ja3,omitempty" yaml:"ja3,omitempty"`
	// H2 carries the Akamai HTTP/2 fingerprint. Default "X-Vigil-H2".
	H2 string `json:"h2,omitempty" yaml:"h2,omitempty"`
	// HDNA carries Vigil's header fingerprint ID. Default "X-Vigil-Hdna".
	HDNA string `json:"hdna,omitempty" yaml:"hdna,omitempty"`
	// Off sends none of them (inbound copies are still removed).
	Off bool `json:"off,omitempty" yaml:"off,omitempty"`
}

// names returns the header names in canonical form, defaults filled in.
func (d DNAHeaders) names() dnaNames {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return http.CanonicalHeaderKey(v)
	}
	return dnaNames{id: or(d.ID, "X-Vigil-Dna"), client: or(d.Client, "X-Vigil-Client"), ja4: or(d.JA4, "X-Vigil-Ja4"),
		ja3: or(d.JA3, "X-Vigil-Ja3"), h2: or(d.H2, "X-Vigil-H2"), hdna: or(d.HDNA, "X-Vigil-Hdna"), off: d.Off}
}

type dnaNames struct {
	id, client, ja4, ja3, h2, hdna string
	off                            bool
}

// set removes the client's copies of the DNA headers from h, then writes the DNA of
// the verdict v (nil when the request did not pass the guard).
func (n dnaNames) set(h http.Header, v *vigil.Verdict) {
	for _, name := range []string{n.id, n.client, n.ja4, n.ja3, n.h2, n.hdna} {
		delete(h, name)
	}
	if n.off || v == nil {
		return
	}
	d := v.DNA
	put := func(name, val string) {
		if val != "" {
			h[name] = []string{val}
		}
	}
	put(n.id, d.ID)
	if d.Family != "" {
		put(n.client, d.Family+"; "+d.Kind)
	}
	put(n.hdna, d.HDNAID)
	if d.TLS != nil {
		put(n.ja4, d.TLS.JA4)
		put(n.ja3, d.TLS.JA3)
	}
	if d.H2 != nil {
		put(n.h2, d.H2.Akamai)
	}
}

// Proxy is an http.Handler that answers health checks and sends every other request
// through the guard to the upstream. Build one with New; the zero value is not usable. A
// Proxy is safe for concurrent use. It starts no goroutines of its own; its transport
// keeps idle upstream connections open (with the transport's goroutines) until they time
// out or CloseIdleConnections closes them.
type Proxy struct {
	health  string
	guarded http.Handler
	own     *http.Transport // the transport New made, nil when Config.Transport was set
	log     *slog.Logger
	status  func() any
}

// New validates cfg and returns a Proxy that sends requests through g to cfg.Upstream. It
// starts nothing and makes no network calls.
func New(g *vigil.Guard, cfg Config) (*Proxy, error) {
	if g == nil {
		return nil, errors.New("proxy: guard is nil")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	target, _ := parseUpstream(cfg.Upstream) // checked by Validate
	dna := cfg.DNAHeaders.names()
	p := &Proxy{health: cfg.HealthPath, log: cfg.Logger, status: cfg.Status}
	if p.health == "" {
		p.health = "/healthz"
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	transport := cfg.Transport
	if transport == nil {
		p.own = http.DefaultTransport.(*http.Transport).Clone()
		p.own.MaxIdleConns, p.own.MaxIdleConnsPerHost = UpstreamIdleConns, UpstreamIdleConns
		// A proxy passes the client's Accept-Encoding as it is: net/http's transport
		// would otherwise ask for gzip when the client asked for nothing, then unpack
		// the answer itself (CPU spent twice, and not the upstream's bytes).
		p.own.DisableCompression = true
		transport = p.own
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			if cfg.PreserveHost {
				pr.Out.Host = pr.In.Host
			}
			setForwarded(pr)
			dna.set(pr.Out.Header, vigil.VerdictFrom(pr.In.Context()))
		},
		ModifyResponse: func(res *http.Response) error {
			// The guard already set these on the response; an upstream that echoes
			// them must not add a second value.
			res.Header.Del("X-Request-Id")
			res.Header.Del("X-Vigil-Action")
			return nil
		},
		Transport:     transport,
		BufferPool:    copyBuffers,
		FlushInterval: cfg.FlushInterval,
		ErrorLog:      slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
		ErrorHandler:  p.upstreamError,
	}
	p.guarded = g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(&finalHeaders{ResponseWriter: w, id: w.Header().Values("X-Request-Id"), action: w.Header().Values("X-Vigil-Action")}, r)
	}))
	return p, nil
}

// copyBuffers are the buffers ReverseProxy copies response bodies through. Without a
// pool it makes a 32 KiB buffer for every response, which under load made the
// garbage collector the proxy's largest cost.
var copyBuffers httputil.BufferPool = &bufferPool{p: sync.Pool{New: func() any { return new([32 << 10]byte) }}}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte { return b.p.Get().(*[32 << 10]byte)[:] }
func (b *bufferPool) Put(x []byte) {
	if cap(x) == 32<<10 {
		b.p.Put((*[32 << 10]byte)(x[:32<<10]))
	}
}

// finalHeaders puts the guard's X-Request-Id and X-Vigil-Action back on the final
// response: after relaying a 1xx (103 Early Hints), ReverseProxy clears the header map,
// and with it what the guard had set. It forwards everything else through Unwrap, which
// ReverseProxy uses (through http.ResponseController) to flush and to hijack upgrades.
type finalHeaders struct {
	http.ResponseWriter
	id, action []string
}

func (w *finalHeaders) WriteHeader(code int) {
	if code >= 200 {
		h := w.Header()
		if _, ok := h["X-Request-Id"]; !ok && len(w.id) > 0 {
			h["X-Request-Id"] = w.id
		}
		if _, ok := h["X-Vigil-Action"]; !ok && len(w.action) > 0 {
			h["X-Vigil-Action"] = w.action
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *finalHeaders) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Validate reports every problem with cfg that New would refuse it for, joined with
// errors.Join.
func (cfg Config) Validate() error {
	var errs []error
	if _, err := parseUpstream(cfg.Upstream); err != nil {
		errs = append(errs, fmt.Errorf("proxy: %w", err))
	}
	if cfg.FlushInterval < 0 {
		errs = append(errs, errors.New("proxy: flush_interval must not be negative"))
	}
	if cfg.HealthPath != "" && cfg.HealthPath[0] != '/' {
		errs = append(errs, fmt.Errorf("proxy: health_path %q does not start with /", cfg.HealthPath))
	}
	return errors.Join(errs...)
}

// parseUpstream parses and checks an upstream URL: scheme http or https, a host, no user
// info, query or fragment.
func parseUpstream(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("upstream is required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("upstream %q is not a URL such as http://127.0.0.1:8000", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("upstream %q: scheme must be http or https", s)
	case u.Opaque != "" || u.Hostname() == "":
		return nil, fmt.Errorf("upstream %q: host is missing", s)
	case u.User != nil:
		return nil, fmt.Errorf("upstream %q: user info is not supported", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("upstream %q: a query is not supported", s)
	case u.Fragment != "":
		return nil, fmt.Errorf("upstream %q: a fragment is not supported", s)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("upstream %q: invalid port %q", s, port)
		}
	}
	return u, nil
}

// ServeHTTP answers health checks and sends every other request through the guard to the
// upstream.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == p.health && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		h := w.Header()
		if p.status != nil && strings.Contains(r.Header.Get("Accept"), "application/json") {
			body, err := json.Marshal(struct {
				Status string `json:"status"`
				State  any    `json:"state"`
			}{"ok", p.status()})
			if err != nil {
				body = []byte(`{"status":"ok"}`)
			}
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				_, _ = w.Write(append(body, '\n'))
			}
			return
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", "3")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte("ok\n"))
		}
		return
	}
	p.guarded.ServeHTTP(w, r)
}

// UpstreamIdleConns is how many idle connections to the upstream a Proxy's own
// transport keeps for reuse: as many as it is likely to have busy at once under load,
// so that every request after the first few reuses one.
const UpstreamIdleConns = 512

// CloseIdleConnections closes the idle upstream connections of the transport New made.
// It does nothing when Config.Transport was set: that transport belongs to the caller.
func (p *Proxy) CloseIdleConnections() {
	if p.own != nil {
		p.own.CloseIdleConnections()
	}
}

// clientRouting lists request headers through which a client could tell the upstream a
// different address, URL or prefix than the proxy saw. ReverseProxy removes Forwarded,
// X-Forwarded-For, -Host and -Proto itself; these it leaves.
var clientRouting = []string{
	"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Ssl",
	"X-Original-Url", "X-Rewrite-Url", "X-Original-Host",
	"X-Client-Ip", "True-Client-Ip", "Cf-Connecting-Ip", "Fastly-Client-Ip", "X-Cluster-Client-Ip",
}

// setForwarded sets the forwarding headers of the outbound request from the guard's
// verdict. ReverseProxy has already removed the client's Forwarded and X-Forwarded-For,
// -Host and -Proto headers from pr.Out before Rewrite runs; setForwarded removes the
// other headers a client could use to mislead the upstream (clientRouting). The scheme
// and host a trusted proxy in front reported are passed on, so an application behind a
// TLS-terminating load balancer still sees https.
func setForwarded(pr *httputil.ProxyRequest) {
	h := pr.Out.Header
	for _, name := range clientRouting {
		delete(h, name)
	}
	var ip netip.Addr
	v := vigil.VerdictFrom(pr.In.Context())
	if v != nil {
		ip = v.ClientIP
		h.Set("X-Request-Id", v.RequestID)
	} else if ap, err := netip.ParseAddrPort(pr.In.RemoteAddr); err == nil {
		// Not reached through New, which always puts the guard first; the peer is the
		// only address that is known.
		ip = ap.Addr()
	}
	if ip.IsValid() {
		s := ip.Unmap().WithZone("").String()
		h.Set("X-Forwarded-For", s)
		h.Set("X-Real-Ip", s)
	} else {
		h.Del("X-Forwarded-For")
		h.Del("X-Real-Ip")
	}
	host, proto := pr.In.Host, "http"
	if pr.In.TLS != nil {
		proto = "https"
	}
	if v != nil && v.ViaTrustedProxy {
		if p := pr.In.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
			proto = p
		}
		if fh := pr.In.Header.Get("X-Forwarded-Host"); validHost(fh) {
			host = fh
		}
	}
	h.Set("X-Forwarded-Host", host)
	h.Set("X-Forwarded-Proto", proto)
}

// validHost reports whether s looks like a host[:port] and nothing else.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// problem is an RFC 9457 problem document, as the guard writes them.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id,omitempty"`
}

// upstreamError answers a request the upstream did not: 504 when it timed out, else 502.
// The client learns nothing of err, which is logged with the request ID.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	var id string
	if v := vigil.VerdictFrom(r.Context()); v != nil {
		id = v.RequestID
	}
	pb := problem{Type: "about:blank", Status: http.StatusBadGateway, Title: "Bad gateway", RequestID: id,
		Detail: "The service behind this gateway did not answer. Try again later; quote the request ID if the problem persists."}
	var ne net.Error
	switch {
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		p.log.Debug("client gone before the upstream answered", "err", err, "request_id", id, "method", r.Method, "path", r.URL.Path)
	case errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded):
		pb.Status, pb.Title = http.StatusGatewayTimeout, "Gateway timeout"
		pb.Detail = "The service behind this gateway did not answer in time. Try again later; quote the request ID if the problem persists."
		p.log.Error("upstream timed out", "err", err, "request_id", id, "method", r.Method, "path", r.URL.Path)
	default:
		p.log.Error("upstream error", "err", err, "request_id", id, "method", r.Method, "path", r.URL.Path)
	}
	body, _ := json.Marshal(pb) // cannot fail: plain strings and ints
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(pb.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(body, '\n'))
	}
}
