package demo

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/vigilhq/vigil"
)

// Class names a kind of simulated client. Every request of a class expects the same
// outcome (Class.Expect).
type Class string

// The classes, in the order Counts lists them.
const (
	// ClassBrowser is browser-like visitors (Chrome, Edge, Firefox, Safari; desktop and
	// mobile) browsing pages, searching, logging in and filling a cart. Expect allow.
	ClassBrowser Class = "browser"
	// ClassScanner walks honeypot paths (/.env, /.git/config, /wp-login.php, …) and then
	// tries ordinary pages, which the ban from the first bait path must block. Expect
	// block.
	ClassScanner Class = "scanner"
	// ClassSQLi is SQL injection in the query, the path, a form body and a JSON body, in
	// several encodings. Expect block.
	ClassSQLi Class = "sqli"
	// ClassXSS is cross-site scripting in the query and a JSON body. Expect block.
	ClassXSS Class = "xss"
	// ClassTraversal is path traversal in the path and the query. Expect block.
	ClassTraversal Class = "traversal"
	// ClassCmdi is OS command injection. Expect block.
	ClassCmdi Class = "cmdi"
	// ClassSSRF is server-side request forgery: cloud metadata, loopback and odd URL
	// schemes as parameters. Expect block.
	ClassSSRF Class = "ssrf"
	// ClassFlood is one client sending ordinary requests far faster than the per-IP rate
	// limit. Expect limited.
	ClassFlood Class = "flood"
	// ClassBot is attack and scanner tools that name themselves in the User-Agent
	// (sqlmap, Nikto, Nuclei, …) asking for ordinary pages. Expect block.
	ClassBot Class = "bot"
	// ClassGoodBot is well-behaved crawlers that say what they are (a feed reader,
	// link previews, an uptime monitor) fetching a few pages. Expect allow.
	ClassGoodBot Class = "goodbot"
	// ClassSuspect is a slow price scraper with a library User-Agent, from a few fixed
	// addresses (SuspectIPs), that the detectors score below the block threshold:
	// the client an operator would ban from the dashboard. Expect watch.
	ClassSuspect Class = "suspect"
	// ClassStuffer is credential stuffing: each stuffer tries leaked e-mail and
	// password pairs against the shop's login form from its own address until the
	// guard stops it. Expect stopped.
	ClassStuffer Class = "stuffer"
	// ClassSignup is signup fraud: accounts opened with disposable e-mail addresses
	// from a browser. Expect block.
	ClassSignup Class = "signup"
	// ClassScraper is scrapers that claim to be Chrome, with Chrome's whole header set,
	// but connect with Go's TLS and HTTP/2 stack over real TLS, each from its own
	// loopback address: the spoofing detector sees the JA4 and HTTP/2 settings
	// contradict the User-Agent. Expect block. Sent only when SimulatorConfig.TLSURL is
	// set.
	ClassScraper Class = "scraper"
)

// Classes returns every class in display order.
func Classes() []Class {
	return []Class{ClassBrowser, ClassGoodBot, ClassSuspect, ClassScanner, ClassSQLi, ClassXSS, ClassTraversal, ClassCmdi,
		ClassSSRF, ClassBot, ClassScraper, ClassStuffer, ClassSignup, ClassFlood}
}

// Expect is the outcome a class of requests should get from the guard.
type Expect string

// The expectations.
const (
	// ExpectAllow: every request reaches the app.
	ExpectAllow Expect = "allow"
	// ExpectBlock: every request is answered 403 by the guard.
	ExpectBlock Expect = "block"
	// ExpectLimited: requests reach the app while the client is within its rate limit
	// and are answered 429 beyond it; no more than the limit admits may be allowed.
	ExpectLimited Expect = "limited"
	// ExpectStopped: a client's attempts reach the app (which refuses them) until the
	// guard has seen enough of them, then every further attempt is blocked: no client
	// may get more attempts through than the policy's per-IP limit.
	ExpectStopped Expect = "stopped"
	// ExpectWatch: requests reach the app, because the detectors score them below the
	// block threshold, unless an operator banned the client; then they are blocked.
	// Both outcomes are expected; errors and 429s are not.
	ExpectWatch Expect = "watch"
)

// Expect returns the outcome the class's requests should get.
func (c Class) Expect() Expect {
	switch c {
	case ClassBrowser, ClassGoodBot:
		return ExpectAllow
	case ClassFlood:
		return ExpectLimited
	case ClassStuffer:
		return ExpectStopped
	case ClassSuspect:
		return ExpectWatch
	}
	return ExpectBlock
}

// The outcomes the simulator tells apart, from the response's X-Vigil-Action header.
const (
	gotAllow     = "allow"
	gotBlock     = "block"
	gotRateLimit = "ratelimit"
	gotError     = "error"
)

// ClassCounts counts one class's requests by outcome.
type ClassCounts struct {
	// Class is the class counted, and Expect its expected outcome.
	Class  Class
	Expect Expect
	// Sent counts the requests that got a response or failed; requests cut short by the
	// end of the run are not counted.
	Sent int
	// Allow, Block and RateLimit count the guard's actions (X-Vigil-Action). A
	// challenge, which this version of Vigil answers with 403, counts as Block.
	Allow, Block, RateLimit int
	// Error counts transport errors and responses without a guard action or with a 5xx
	// status.
	Error int
	// Unexpected counts the requests whose outcome was not the expected one.
	Unexpected int
}

// Counts is a snapshot of what a Simulator sent and what came back.
type Counts struct {
	// Elapsed is the time since Run started.
	Elapsed time.Duration
	// Classes holds one entry per class, in the order of Classes.
	Classes []ClassCounts
	// Unexpected lists the first 64 unexpected outcomes, oldest first;
	// ClassCounts.Unexpected counts all of them.
	Unexpected []Outcome
}

// Class returns the counts of class cl (zero counts when cl is unknown).
func (c Counts) Class(cl Class) ClassCounts {
	for _, cc := range c.Classes {
		if cc.Class == cl {
			return cc
		}
	}
	return ClassCounts{Class: cl, Expect: cl.Expect()}
}

// Sent returns the number of requests sent over all classes.
func (c Counts) Sent() int {
	n := 0
	for _, cc := range c.Classes {
		n += cc.Sent
	}
	return n
}

// UnexpectedTotal returns the number of unexpected outcomes over all classes.
func (c Counts) UnexpectedTotal() int {
	n := 0
	for _, cc := range c.Classes {
		n += cc.Unexpected
	}
	return n
}

// Outcome describes one simulated request whose outcome was not the expected one.
type Outcome struct {
	// Class is the class of the simulated client that sent the request.
	Class Class
	// What says what the request tried, for example "UNION SELECT in the query".
	What string
	// Method is the request's method.
	Method string
	// Target is the request target as sent (path and query, percent-encoded), cut to a
	// readable length.
	Target string
	// ClientIP is the simulated client's address, sent in X-Forwarded-For.
	ClientIP string
	// Expected is the outcome the request should have got.
	Expected Expect
	// Got is "allow", "block", "ratelimit" or "error".
	Got    string
	Status int
	// Err is the transport error, when Got is "error" and there was no response.
	Err string
	// RequestID is the guard's X-Request-Id, to find the verdict in logs and events.
	RequestID string
}

// maxUnexpected bounds the outcomes a Simulator keeps for Counts.Unexpected.
const maxUnexpected = 64

// SimulatorConfig configures a Simulator. The zero value is the demo's traffic mix.
type SimulatorConfig struct {
	// Visitors is the number of concurrent browser visitors. Zero means 8.
	Visitors int
	// MaxRate caps the total number of requests per second over all clients. Zero means
	// 200. The traffic mix sends about 60 per second on average, with floods of 100 per
	// second for half a second every few seconds.
	MaxRate int
	// RateLimit is the per-IP rate limit of the guard in front of the app. The flood
	// sends past it and checks that no more requests were let through than it admits.
	// The zero value means the demo's own limit (DemoRateLimit).
	RateLimit vigil.Limit
	// StuffingLimit is the most failed login attempts with distinct usernames the
	// guard lets one address make (policy.Logins.MaxUsernamesPerIP). A stuffer that
	// gets more attempts through than this counts as unexpected. Zero means the
	// demo's own limit (DemoStuffingLimit).
	StuffingLimit int
	// TLSURL is the HTTPS URL of the same app, served through a fingerprint.Server
	// whose guard trusts no proxy. The scrapers connect to it directly, each from its
	// own loopback address where the system allows binding one (Linux routes all of
	// 127.0.0.0/8 to loopback; elsewhere every scraper is 127.0.0.1). Empty sends no
	// scraper traffic.
	TLSURL string
	// TLSRoots verifies the TLS server's certificate. Nil means the system roots.
	TLSRoots *x509.CertPool
	// Seed seeds the simulator's random choices. Zero means a random seed.
	Seed uint64
}

// Simulator sends the demo's traffic: every Class at once, with realistic pacing, as
// real HTTP requests to a base URL, and counts what the guard did with each one.
//
// The simulated clients need distinct client IPs although every request comes from this
// process over loopback. The simulator therefore plays a trusted load balancer: it sets
// X-Forwarded-For to the simulated client's address, taken from the documentation
// ranges (198.51.100.0/24 and 2001:db8:b0::/48 for visitors; 203.0.113.0/24,
// 2001:db8:bad::/48 and 2001:db8:f100::/48 for attackers and floods, one /64 per IPv6
// client), and the guard must list the simulator's loopback address in
// Config.TrustedProxies to believe it. A guard without trusted proxies sees
// every simulated client as 127.0.0.1.
//
// Build one with NewSimulator; the zero value is not usable. Run may be called once;
// Counts is safe to call concurrently with Run.
type Simulator struct {
	cfg  SimulatorConfig
	seed uint64

	benign, attackers, flooders, bots *pool
	scrapers                          *loopbackPool

	started atomic.Bool
	mu      sync.Mutex
	start   time.Time
	counts  map[Class]*ClassCounts
	odd     []Outcome
}

// DemoStuffingLimit is the demo policy's per-IP limit of failed logins with distinct
// usernames (policy.Logins.MaxUsernamesPerIP).
const DemoStuffingLimit = 5

// DemoRateLimit returns the per-IP rate limit of the demo's policy: 10 requests per
// second with bursts of 20. A browsing visitor stays far below it; the flood does not.
func DemoRateLimit() vigil.Limit {
	return vigil.Limit{Rate: 10, Period: time.Second, Burst: 20}
}

// NewSimulator returns a Simulator. It sends nothing until Run.
func NewSimulator(cfg SimulatorConfig) (*Simulator, error) {
	if cfg.Visitors < 0 || cfg.MaxRate < 0 {
		return nil, errors.New("demo: visitors and max rate must not be negative")
	}
	if cfg.Visitors == 0 {
		cfg.Visitors = 8
	}
	if cfg.MaxRate == 0 {
		cfg.MaxRate = 200
	}
	if cfg.StuffingLimit < 0 {
		return nil, errors.New("demo: stuffing limit must not be negative")
	}
	if cfg.StuffingLimit == 0 {
		cfg.StuffingLimit = DemoStuffingLimit
	}
	if cfg.RateLimit == (vigil.Limit{}) {
		cfg.RateLimit = DemoRateLimit()
	}
	if l := cfg.RateLimit; l.Rate <= 0 || l.Period <= 0 || l.Burst < 0 {
		return nil, fmt.Errorf("demo: invalid rate limit %+v", l)
	}
	s := &Simulator{
		cfg:       cfg,
		seed:      cfg.Seed,
		benign:    newPool("198.51.100.1", 254, "2001:db8:b0::"),
		attackers: newPool("203.0.113.64", 191, "2001:db8:bad::"),
		flooders:  newPool("203.0.113.1", 63, "2001:db8:f100::"),
		bots:      newPool("192.0.2.100", 100, "2001:db8:600d::"),
		scrapers:  newLoopbackPool(),
		counts:    make(map[Class]*ClassCounts),
	}
	if s.seed == 0 {
		s.seed = rand.Uint64()
	}
	for _, c := range Classes() {
		s.counts[c] = &ClassCounts{Class: c, Expect: c.Expect()}
	}
	return s, nil
}

// Counts returns a snapshot of the counts so far.
func (s *Simulator) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Counts{Unexpected: append([]Outcome(nil), s.odd...)}
	if !s.start.IsZero() {
		out.Elapsed = time.Since(s.start)
	}
	for _, c := range Classes() {
		out.Classes = append(out.Classes, *s.counts[c])
	}
	return out
}

// Run sends traffic to baseURL (for example "http://127.0.0.1:8080") until ctx ends,
// then returns nil once every simulated client has stopped. Failed requests are counted,
// not returned. Run returns an error only for a bad base URL or a second call.
func (s *Simulator) Run(ctx context.Context, baseURL string) error {
	base, err := url.Parse(baseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("demo: base URL %q is not an http(s) URL", baseURL)
	}
	var tlsBase string
	if s.cfg.TLSURL != "" {
		u, err := url.Parse(s.cfg.TLSURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("demo: TLS URL %q is not an https URL", s.cfg.TLSURL)
		}
		tlsBase = strings.TrimSuffix(u.String(), "/")
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("demo: simulator already ran")
	}
	tr := &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true, // the header sets name their own Accept-Encoding
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{
		Transport: tr,
		Timeout:   10 * time.Second,
		// Redirects are followed by the visitor's script, so each hop is counted.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	burst := max(1, s.cfg.MaxRate/10)
	limiter := rate.NewLimiter(rate.Limit(s.cfg.MaxRate), burst)

	s.mu.Lock()
	s.start = time.Now()
	s.mu.Unlock()

	g, ctx := errgroup.WithContext(ctx)
	stream := uint64(0)
	newWorker := func() *worker {
		stream++
		return &worker{
			s:       s,
			base:    strings.TrimSuffix(base.String(), "/"),
			hc:      hc,
			limiter: limiter,
			rng:     rand.New(rand.NewPCG(s.seed, stream)),
		}
	}
	for range s.cfg.Visitors {
		w := newWorker()
		g.Go(func() error { return w.browse(ctx) })
	}
	scanner, flooder, bots := newWorker(), newWorker(), newWorker()
	g.Go(func() error { return scanner.scan(ctx) })
	g.Go(func() error { return flooder.flood(ctx) })
	g.Go(func() error { return bots.bots(ctx) })
	for range 2 {
		w := newWorker()
		g.Go(func() error { return w.goodBots(ctx) })
	}
	for _, ip := range SuspectIPs() {
		w := newWorker()
		g.Go(func() error { return w.suspect(ctx, ip) })
	}
	stuffer, signup := newWorker(), newWorker()
	g.Go(func() error { return stuffer.stuff(ctx) })
	g.Go(func() error { return signup.signupFraud(ctx) })
	if tlsBase != "" {
		w := newWorker()
		g.Go(func() error { return w.scrape(ctx, tlsBase) })
	}
	attacks := attackClasses()
	for _, c := range Classes() {
		if list, ok := attacks[c]; ok {
			w := newWorker()
			g.Go(func() error { return w.attack(ctx, c, list) })
		}
	}
	return g.Wait()
}

// record counts one response (or failure) of class c.
func (s *Simulator) record(c Class, ok bool, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cc := s.counts[c]
	cc.Sent++
	switch o.Got {
	case gotAllow:
		cc.Allow++
	case gotBlock:
		cc.Block++
	case gotRateLimit:
		cc.RateLimit++
	default:
		cc.Error++
	}
	if ok {
		return
	}
	cc.Unexpected++
	if len(s.odd) < maxUnexpected {
		s.odd = append(s.odd, o)
	}
}

// worker is one simulated client loop: its own random source, the shared HTTP client
// and the shared rate cap.
type worker struct {
	s       *Simulator
	base    string
	hc      *http.Client
	limiter *rate.Limiter
	rng     *rand.Rand
}

// request is one simulated request before it is sent.
type request struct {
	class  Class
	what   string
	method string
	target string // path and query as sent, percent-encoded
	header http.Header
	body   string
}

// response is what the simulator keeps of a response.
type response struct {
	got       string
	status    int
	location  string
	requestID string
	cookies   []*http.Cookie
	err       error
}

// send sends q as client ip, waiting for the shared rate cap first. ok is false when
// ctx ended before a response came; such a request is not counted.
func (w *worker) send(ctx context.Context, q request, ip string) (res response, ok bool) {
	return w.sendVia(ctx, w.hc, w.base, q, ip)
}

// sendVia sends q with hc to base. With a client IP, the simulator plays the load
// balancer in front of the app and names it in X-Forwarded-For (see Simulator); with
// none, the connection's own address is the client.
func (w *worker) sendVia(ctx context.Context, hc *http.Client, base string, q request, ip string) (res response, ok bool) {
	if err := w.limiter.Wait(ctx); err != nil {
		return res, false
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	req, err := http.NewRequestWithContext(ctx, q.method, base+q.target, body)
	if err != nil {
		return response{got: gotError, err: err}, true
	}
	for k, v := range q.header {
		req.Header[k] = v
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return res, false
		}
		return response{got: gotError, err: err}, true
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	res = response{
		status:    resp.StatusCode,
		location:  resp.Header.Get("Location"),
		requestID: resp.Header.Get("X-Request-Id"),
		cookies:   resp.Cookies(),
	}
	switch resp.Header.Get("X-Vigil-Action") {
	case "allow":
		res.got = gotAllow
		if resp.StatusCode >= 500 {
			res.got = gotError
		}
	case "block", "challenge":
		res.got = gotBlock
	case "ratelimit":
		res.got = gotRateLimit
	default:
		res.got = gotError
	}
	return res, true
}

// do sends q, counts the response against q's class, whose expectation must be allow
// or block, and returns it. ok is false when ctx ended.
func (w *worker) do(ctx context.Context, q request, ip string) (response, bool) {
	res, ok := w.send(ctx, q, ip)
	if ok {
		w.s.record(q.class, expected(q.class.Expect(), res.got), outcome(q, ip, res))
	}
	return res, ok
}

// expected reports whether the outcome got meets expectation e, for the expectations
// that one response can meet alone (allow, block, watch).
func expected(e Expect, got string) bool {
	if e == ExpectWatch {
		return got == gotAllow || got == gotBlock
	}
	return got == string(e)
}

// outcome describes q and its response for Counts.Unexpected.
func outcome(q request, ip string, res response) Outcome {
	o := Outcome{
		Class: q.class, What: q.what, Method: q.method, Target: cut(q.target, 120), ClientIP: ip,
		Expected: q.class.Expect(), Got: res.got, Status: res.status, RequestID: res.requestID,
	}
	if res.err != nil {
		o.Err = res.err.Error()
	}
	return o
}

// floodAllowance returns how many requests the rate limit l admits to one idle client
// over a span of d: the burst plus d·Rate/Period, plus one for rounding.
func floodAllowance(l vigil.Limit, d time.Duration) int {
	b := l.Burst
	if b <= 0 {
		b = l.Rate
	}
	return b + int(math.Ceil(d.Seconds()*float64(l.Rate)/l.Period.Seconds())) + 1
}

// pause sleeps for a random time in [lo, hi] and reports whether ctx is still live.
func (w *worker) pause(ctx context.Context, lo, hi time.Duration) bool {
	d := lo
	if hi > lo {
		d += time.Duration(w.rng.Int64N(int64(hi - lo)))
	}
	return sleep(ctx, d)
}

// sleep waits for d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
