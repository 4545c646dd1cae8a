package vigil

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/challenge"
	"github.com/vigilhq/vigil/internal/clientip"
	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/detect/attack"
	"github.com/vigilhq/vigil/internal/detect/behaviour"
	"github.com/vigilhq/vigil/internal/detect/bot"
	"github.com/vigilhq/vigil/internal/detect/spoof"
	"github.com/vigilhq/vigil/internal/detect/stuffing"
	"github.com/vigilhq/vigil/internal/dna"
	"github.com/vigilhq/vigil/internal/emailcheck"
	"github.com/vigilhq/vigil/internal/formscan"
	"github.com/vigilhq/vigil/internal/geo"
	"github.com/vigilhq/vigil/internal/h2tap"
	"github.com/vigilhq/vigil/internal/headers"
	"github.com/vigilhq/vigil/internal/ratelimit"
	"github.com/vigilhq/vigil/internal/rules"
	"github.com/vigilhq/vigil/internal/rules/glob"
	"github.com/vigilhq/vigil/internal/tlsfp"
	"github.com/vigilhq/vigil/policy"
)

// Guard decides about requests. Build one with New, wrap handlers with Handler, and swap
// its policy at run time with SetPolicy. A Guard is safe for concurrent use. It has no
// long-running goroutines and needs no Run or Close: the only background work is crawler
// verification, a bounded number of DNS look-ups that each end within a timeout.
type Guard struct {
	cfg     Config
	log     *slog.Logger
	ips     *clientip.Resolver
	store   Store
	mem     *MemoryStore // store, when it is the memory store: rate limits skip the interface
	attacks *attack.Scanner
	bots    *bot.Detector
	dna     *dna.Hasher
	habits  *behaviour.Tracker // per-client behaviour sketches, local to this instance
	chal    *challenge.Challenger
	emails  *emailcheck.EmailAnalyzer // signup protection, with DNS look-ups
	offline *emailcheck.EmailAnalyzer // signup protection, without
	geo     *geo.DB                   // nil without GeoIP data
	logins  stuffing.Monitor          // site-wide login failure rate, kept across SetPolicy
	state   atomic.Pointer[state]
}

// New validates cfg and returns a Guard. It starts nothing and makes no network calls.
func New(cfg Config) (*Guard, error) {
	g := &Guard{cfg: cfg, log: cfg.Logger, store: cfg.Store, dna: dna.NewHasher()}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.cfg.Clock == nil {
		g.cfg.Clock = time.Now
	}
	if g.store == nil {
		ms := cfg.MemoryStore
		if ms.Clock == nil {
			ms.Clock = g.cfg.Clock
		}
		g.store = NewMemoryStore(ms)
	}
	g.mem, _ = g.store.(*MemoryStore)
	bc := behaviour.Config{}
	if g.mem == nil {
		// A shared store: instances pool their sketches' counts through it, so a
		// crawler spread over them by a balancer is seen whole (behaviour.Config.Counter).
		bc.Counter = g.store
	}
	g.habits = behaviour.New(bc)
	if cfg.MaxBodyBytes < 0 {
		return nil, errors.New("vigil: max_body_bytes must not be negative")
	}
	var err error
	if g.ips, err = clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies, Header: cfg.ClientIPHeader}); err != nil {
		return nil, fmt.Errorf("vigil: trusted_proxies: %w", err)
	}
	if g.attacks, err = attack.New(attack.Config{MaxBodyBytes: cfg.MaxBodyBytes}); err != nil {
		return nil, fmt.Errorf("vigil: attack detector: %w", err)
	}
	if g.chal, err = challenge.New(challenge.Config{Secret: []byte(cfg.ChallengeSecret)}); err != nil {
		return nil, fmt.Errorf("vigil: challenge_secret: %w", err)
	}
	if g.emails, err = emailcheck.NewEmailAnalyzer(emailcheck.EmailConfig{Offline: cfg.Offline}); err != nil {
		return nil, fmt.Errorf("vigil: e-mail analyzer: %w", err)
	}
	if g.offline, err = emailcheck.NewEmailAnalyzer(emailcheck.EmailConfig{Offline: true}); err != nil {
		return nil, fmt.Errorf("vigil: e-mail analyzer: %w", err)
	}
	botCfg := bot.Config{}
	if cfg.Offline {
		botCfg.Resolver = noDNS{}
	}
	if g.bots, err = bot.New(botCfg); err != nil {
		return nil, fmt.Errorf("vigil: bot detector: %w", err)
	}
	if gc := cfg.Geo; gc.CountryDB != "" || gc.ASNDB != "" || len(gc.CloudRanges) > 0 || len(gc.HostingASNs) > 0 {
		if g.geo, err = geo.Open(geo.Config{CountryDB: gc.CountryDB, ASNDB: gc.ASNDB, CloudRanges: gc.CloudRanges, HostingASNs: gc.HostingASNs}); err != nil {
			return nil, fmt.Errorf("vigil: %w", err)
		}
	}
	st, err := compile(cfg.Policy)
	if err != nil {
		return nil, fmt.Errorf("vigil: policy: %w", err)
	}
	g.state.Store(st)
	return g, nil
}

// SetPolicy validates p and makes it the policy for every request that starts after it
// returns. A policy whose Version is lower than the one in force is refused, so a delayed
// push never rolls a newer policy back; a local policy has Version 0. On error the
// current policy stays in force.
func (g *Guard) SetPolicy(p policy.Policy) error {
	st, err := compile(p)
	if err != nil {
		return fmt.Errorf("vigil: policy: %w", err)
	}
	for {
		old := g.state.Load()
		if p.Version < old.policy.Version {
			return fmt.Errorf("vigil: policy version %d is older than version %d in force", p.Version, old.policy.Version)
		}
		if g.state.CompareAndSwap(old, st) {
			g.log.Info("policy updated", "version", p.Version, "previous_version", old.policy.Version, "mode", st.mode())
			return nil
		}
	}
}

// Policy returns the policy in force.
func (g *Guard) Policy() policy.Policy { return g.state.Load().policy }

// Check decides about r without answering it. It has the same effects on state as a
// request through Handler: it counts against rate limits, a honeypot hit bans the client,
// and bans and faults are reported to Config.Events (the request itself is not: there is
// no response to describe). It may read and restore r.Body.
func (g *Guard) Check(r *http.Request) Verdict {
	now := g.cfg.Clock()
	vb := new(struct {
		v  Verdict
		id idBuf
	})
	v := &vb.v
	d := g.evaluate(r, now, v, &vb.id)
	if g.cfg.Events != nil {
		g.recordSide(r, &d, now)
	}
	return *v
}

// Handler returns a handler that decides about each request before next sees it. Allowed
// requests reach next with the verdict in their context (VerdictFrom). Blocked requests
// get 403, rate-limited ones 429, both as application/problem+json (HTML for browsers)
// carrying the request ID. Every response carries X-Request-Id and X-Vigil-Action; in
// monitor mode X-Vigil-Action is always "allow" and nothing else reveals the decision.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := g.cfg.Clock()
		// The verdict, its request ID, the context that carries it to next and the
		// two response header values are one allocation (see verdictCtx).
		vc := &verdictCtx{Context: r.Context()}
		d := g.evaluate(r, start, &vc.v, &vc.id)
		v := d.v
		vc.hv = [2]string{v.RequestID, string(v.Action)}
		h := w.Header()
		// Each slice is capped, so appending to one never writes into the other.
		h["X-Request-Id"] = vc.hv[0:1:1]
		h["X-Vigil-Action"] = vc.hv[1:2:2]
		if r.URL.Path == g.chal.Path() && (v.Action == ActionAllow || v.Action == ActionChallenge) {
			// A solution to a challenge: checked without scoring again (the client
			// being challenged would be challenged again), after the hard gates.
			if g.chal.Verify(w, r, g.binding(r, v)) {
				g.finish(r, &d, 0, 0, start)
				return
			}
		}
		if v.Action != ActionAllow {
			status := g.respond(w, r, &d)
			g.finish(r, &d, status, 0, start)
			return
		}
		r = r.WithContext(vc)
		// finish has work only for a request acted on (or that would be) and for the
		// event sink; an allowed request without a sink skips the call.
		finish := v.WouldBe != ActionAllow || g.cfg.Events != nil
		if g.cfg.Events == nil && d.login == nil && !d.observe {
			next.ServeHTTP(w, r)
			if finish {
				g.finish(r, &d, 0, 0, start)
			}
			return
		}
		// The recorder lives in the verdict's allocation.
		rec := &vc.rec
		rec.ResponseWriter = w
		next.ServeHTTP(rec, r)
		if d.login != nil {
			g.loginOutcome(r, &d, rec.status())
		}
		if d.observe {
			g.observe(r, &d, rec.status(), start)
		}
		if finish {
			g.finish(r, &d, rec.status(), rec.bytes, start)
		}
	})
}

// decision is the outcome of evaluate: the verdict plus what the response needs.
type decision struct {
	v          *Verdict
	st         *state
	quota      Quota             // the rate limit that denied the request, for its headers
	limit      Limit             // that limit
	limitName  string            // that limit's name in RateLimit-Policy
	failClosed bool              // a fault made the guard block (503)
	emergency  bool              // the emergency lockdown refused the request (503)
	login      *stuffing.Attempt // a login attempt, whose outcome is recorded after the response
	observe    bool              // report the request to the behaviour tracker after the response
	habit      behaviour.Handle  // where the tracker found the client, for observe
	asset      bool              // the request loads a page's asset (for the tracker)
	navigation bool              // the request loads a page (for the tracker)
	monitor    bool              // decide but do not enforce (policy or route mode)
	ban        *Ban              // a ban this request placed
	faults     []error
	// keyBuf[:keyLen] is the client's key (see clientKey), once made.
	keyBuf [24]byte
	keyLen uint8
}

// clientKey returns the text of the client IP's prefix, its address or its /64 (see
// clientip.Prefix), which keys the client in the behaviour tracker and the per-IP rate
// limits. It is made on first use and kept in d, so each request formats it once. The
// longest, "ffff:ffff:ffff:ffff::/64", fills keyBuf exactly. The key of an invalid IP
// is empty.
func (d *decision) clientKey() []byte {
	if d.keyLen == 0 && d.v.ClientIP.IsValid() {
		k := clientip.AppendPrefix(d.keyBuf[:0], d.v.ClientIP)
		if len(k) > len(d.keyBuf) { // unreachable, as above; correct all the same
			return k
		}
		d.keyLen = uint8(len(k))
	}
	return d.keyBuf[:d.keyLen]
}

// evaluate runs the request pipeline: client IP, fast gates, detectors, score, limits.
// It fills v, which must be zero, and returns a decision that points to it. A new
// request ID is written to id, which must live as long as v.
func (g *Guard) evaluate(r *http.Request, now time.Time, v *Verdict, id *idBuf) (d decision) {
	st := g.state.Load()
	// v is zero: set what is not (a composite literal would zero all of it again).
	v.RequestID, v.ClientIP = g.requestID(r, now, id), g.ips.ClientIP(r)
	v.Action, v.WouldBe = ActionAllow, ActionAllow
	if len(g.cfg.TrustedProxies) > 0 {
		if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			v.ViaTrustedProxy = g.ips.Trusted(peer.Addr())
		}
	}
	d.v, d.st, d.monitor = v, st, st.monitor
	defer func() {
		if p := recover(); p != nil {
			g.fault(r, &d, "detector panic", fmt.Errorf("%v", p))
			d.failClosed = g.cfg.FailClosed
			action := ActionAllow
			if d.failClosed {
				action = ActionBlock
			}
			g.settle(&d, action)
		}
	}()

	p := rules.ParsePath(r.URL.EscapedPath())
	if st.rules.Excluded(p) {
		return d
	}
	ip := v.ClientIP
	if st.rules.Allowed(ip) {
		v.Signals = append(v.Signals, Signal{Detector: "gate", Code: "allow_list", Detail: "client IP is on the allow list"})
		return d
	}

	// One pass over the header map serves every detector below.
	var hs headers.Set
	hs.Read(r.Header)
	ua, _ := hs.Get(headers.UserAgent)
	class := g.bots.Classify(ua)
	kind := ""
	if class.Kind != bot.Unknown {
		kind = class.Kind.String()
	}
	v.DNA = g.requestDNA(r, &hs, dna.Input{Family: class.Name, Kind: kind}, v.ViaTrustedProxy)
	v.Enrichment.Client, v.Enrichment.ClientKind, v.Enrichment.BotCategory = class.Name, kind, class.Category
	if g.geo != nil {
		g.lookupGeo(v) // before the gates: blocked requests' events carry the country too
	}

	// Hard gates: final, whatever the score.
	if st.rules.LockedOut(ip) {
		d.emergency = true
		g.gate(&d, "emergency_lockdown", "emergency mode: only allow-listed clients pass")
		return d
	}
	if st.rules.Denied(ip) {
		g.gate(&d, "deny_list", "client IP is on the deny list")
		return d
	}
	ban, banned, err := g.store.Banned(r.Context(), ip, v.DNA.ID)
	if err != nil {
		g.fault(r, &d, "ban look-up", err)
		if g.cfg.FailClosed {
			d.failClosed = true
			g.settle(&d, ActionBlock)
			return d
		}
	} else if banned {
		g.gate(&d, "banned", banDetail(ban))
		return d
	}
	if st.rules.Honeypot(p) {
		detail := "request for bait path " + truncate(p.Clean, 64)
		switch {
		case crossSite(r):
			// A page elsewhere can make a visitor's browser request a bait path
			// (<img src=…/.env>); banning would let anyone ban innocent visitors.
			detail += "; not banned: the browser says another site initiated it"
		case !d.monitor && ip.IsValid():
			g.banClient(r, &d, "honeypot")
		}
		g.gate(&d, "honeypot", detail)
		return d
	}

	route := st.rules.Route(r.Method, p)
	if route != nil && route.Mode != "" {
		d.monitor = route.Mode == policy.ModeMonitor
	}

	// Rules, then detectors. Findings go to a stack buffer (a clean request has none
	// or one or two); the verdict gets a copy only when there are any.
	var buf [4]detect.Finding
	fs := buf[:0]
	var (
		ruleAction policy.Action
		rule       *rules.Rule
	)
	if st.rules.HasRules() {
		if fs, ruleAction, rule = g.evalRules(st, r, p, v, fs); ruleAction == policy.ActionAllow {
			g.settleFindings(&d, fs, ActionAllow)
			return d
		}
	}
	if !st.methodAllowed(r.Method) && !disabled(route, "attack") {
		fs = append(fs, detect.Finding{Detector: "attack", Code: CodeMethodNotAllowed, Score: 90,
			Detail: "method " + strconv.Quote(truncate(r.Method, 32)) + " is not among the policy's methods"})
	}
	if !disabled(route, "bot") {
		fs = g.bots.Inspect(fs, r, &hs, class)
		fs = g.botPolicy(fs, st, ip, class, v)
	}
	if v.Enrichment.Country != "" || v.Enrichment.Hosting != "" {
		if !disabled(route, "geo") {
			fs = geoFindings(fs, st, v)
		}
	}
	if v.DNA.Source != "request" && !disabled(route, "fingerprint") {
		mode, _ := hs.Get(headers.SecFetchMode)
		fs = spoof.Check(fs, st.clients, spoof.Claim{Family: class.Name, OS: class.OS(), Navigation: mode == "navigate"}, &v.DNA)
	}
	if !disabled(route, "attack") {
		if fs, err = g.attacks.Scan(fs, r, &hs); err != nil {
			g.fault(r, &d, "attack scan", err)
			d.failClosed = g.cfg.FailClosed
		}
	}
	if !disabled(route, "behaviour") && ip.IsValid() {
		fs, d.habit = g.habits.CheckAt(fs, string(d.clientKey()), now)
		// What observe needs from the headers, read while the Set is at hand.
		dest, _ := hs.Get(headers.SecFetchDest)
		accept, _ := hs.Get(headers.Accept)
		mode, _ := hs.Get(headers.SecFetchMode)
		d.observe, d.asset = true, behaviour.IsAsset(r.URL.Path, dest, accept)
		d.navigation = mode == "navigate" || strings.Contains(accept, "text/html")
	}
	if len(st.signups) > 0 && r.Method == http.MethodPost && !disabled(route, "signup") && matchAny(st.signups, p.Clean) {
		fs = g.signup(r, st, v, fs)
	}
	if st.logins != nil && r.Method == http.MethodPost && !disabled(route, "stuffing") && st.logins.match(p.Clean) {
		fs = g.loginAttempt(r, &d, fs)
	}
	if route != nil {
		fs = dropDisabled(fs, route)
	}
	v.Score = detect.Combine(fs, st.rules.Weight)
	threshold := st.eff.BlockThreshold
	if route != nil && route.BlockThreshold > 0 {
		threshold = route.BlockThreshold
	}

	action := ActionAllow
	switch {
	case d.failClosed:
		action = ActionBlock
	case ruleAction == policy.ActionBlock:
		action = ActionBlock
	case v.Score >= threshold:
		action = ActionBlock
	case ruleAction == policy.ActionChallenge || st.eff.ChallengeThreshold > 0 && v.Score >= st.eff.ChallengeThreshold:
		switch {
		case g.chal.Passed(r, g.binding(r, v), now):
			fs = append(fs, detect.Finding{Detector: "challenge", Code: "challenge_passed", Detail: "the client solved a challenge recently"})
		case v.Enrichment.BotVerified:
			// A verified crawler cannot run the page; its identity is proven.
		default:
			action = ActionChallenge
		}
	default:
		if g.rateLimit(r, now, &d, p, route, rule) {
			action = ActionRateLimit
			if d.failClosed {
				action = ActionBlock
			}
		}
	}
	g.settleFindings(&d, fs, action)
	return d
}

// CodeMethodNotAllowed is the signal of a request whose method the policy does not
// list (policy.Policy.Methods).
const CodeMethodNotAllowed = "method_not_allowed"

// ruleInput is what policy rules match a request against. The client's
// classification comes from v's enrichment, so v must have it.
func ruleInput(r *http.Request, p rules.Path, v *Verdict) rules.Input {
	e := &v.Enrichment
	return rules.Input{Method: r.Method, Path: p, IP: v.ClientIP, Country: e.Country, ASN: e.ASN,
		DNAFamily: e.Client, DNAKind: e.ClientKind, BotCategory: e.BotCategory, Request: r}
}

// evalRules runs the policy's custom rules over the request and appends their
// findings to fs (see rules.Set.Eval). It is a call of its own, made only when the
// policy has rules, so that a request under a policy without any walks none of its
// code.
func (g *Guard) evalRules(st *state, r *http.Request, p rules.Path, v *Verdict, fs []detect.Finding) ([]detect.Finding, policy.Action, *rules.Rule) {
	in := ruleInput(r, p, v)
	fs, action, rule := st.rules.Eval(&in, fs)
	if rule != nil && rule.Score == 0 && action != policy.ActionRateLimit {
		// A rule that decides without scoring still says why in the verdict.
		fs = append(fs, detect.Finding{Detector: "rule", Code: "rule:" + rule.Name, Detail: "rule " + rule.Name + " decided " + string(action)})
	}
	return fs, action, rule
}

// requestDNA assembles the request's DNA: from its headers, and from what its
// connection showed when Vigil observed it. A trusted proxy's connection is not the
// client's: then only the fingerprints the proxy forwarded count.
func (g *Guard) requestDNA(r *http.Request, hs *headers.Set, in dna.Input, viaProxy bool) fingerprint.DNA {
	fc := fingerprint.FromContext(r.Context())
	if fc == nil || viaProxy {
		if viaProxy {
			if in.TLS, in.H2 = g.upstreamFingerprints(r); in.TLS != nil || in.H2 != nil {
				in.Source = "upstream"
			}
		}
		return g.dna.DNA(hs, nil, &in)
	}
	return g.observedDNA(r, fc, hs, &in)
}

// observedDNA is requestDNA for a connection Vigil observed. It is a function of its
// own so that the order buffer is on the stack only when there is an order to read.
//
//go:noinline
func (g *Guard) observedDNA(r *http.Request, fc *fingerprint.Conn, hs *headers.Set, in *dna.Input) fingerprint.DNA {
	var buf [64]string
	order, o := fc.Observe(r, buf[:0])
	in.Source, in.Protocol, in.Pseudo, in.TLS, in.H2 = "connection", o.Protocol, o.Pseudo, o.TLS, o.H2
	return g.dna.DNA(hs, order, in)
}

// binding is what a challenge pass is bound to: the client's IP prefix (its address,
// or its /64) and its software — the User-Agent and, when the connection was observed,
// the stable part of its JA4. Not the DNA ID: that changes between a page and its
// subresource and fetch requests, which send other Accept headers.
func (g *Guard) binding(r *http.Request, v *Verdict) challenge.Binding {
	sw := r.UserAgent()
	if v.DNA.TLS != nil {
		sw += "\x00" + dna.StableJA4(v.DNA.TLS.JA4) // not the extension count: resumption changes it
	}
	return challenge.Bind(v.ClientIP, sw)
}

// signup analyses the e-mail address and phone number of a request to a signup path,
// puts the reports in the verdict's enrichment and adds their risk as findings.
func (g *Guard) signup(r *http.Request, st *state, v *Verdict, fs []detect.Finding) []detect.Finding {
	vals := bodyFields(r, g.maxBody(), st.signupFields, st.phoneFields)
	if vals == nil {
		return fs
	}
	if addr := vals[0]; addr != "" {
		a := g.offline
		if st.signupMX {
			a = g.emails
		}
		rep := a.AnalyzeEmail(r.Context(), addr)
		v.Enrichment.Email = &rep
		fs = appendReasons(fs, rep.Reasons)
	}
	if num := vals[1]; num != "" && g.cfg.Phones != nil {
		rep := g.cfg.Phones.AnalyzePhone(num, v.Enrichment.Country)
		v.Enrichment.Phone = &rep
		fs = appendReasons(fs, rep.Reasons)
	}
	return fs
}

// appendReasons adds the scoring reasons of a fraud report as signup findings.
func appendReasons(fs []detect.Finding, reasons []emailcheck.Signal) []detect.Finding {
	for _, s := range reasons {
		if s.Score > 0 {
			fs = append(fs, detect.Finding{Detector: "signup", Code: s.Code, Score: s.Score, Detail: s.Detail})
		}
	}
	return fs
}

func matchAny(ps []glob.Pattern, path string) bool {
	for i := range ps {
		if ps[i].Match(path) {
			return true
		}
	}
	return false
}

// observe reports an answered request to the behaviour tracker, keyed like the per-IP
// rate limit (the address, or the /64 for IPv6).
func (g *Guard) observe(r *http.Request, d *decision, status int, start time.Time) {
	g.habits.ObserveAt(d.habit, string(d.clientKey()), behaviour.Observation{
		Time: start, Method: r.Method, Path: r.URL.Path, Status: status, Asset: d.asset, Navigation: d.navigation,
	})
}

// loginAttempt checks a request to a protected login path against the failure counts
// (see policy.Logins) and remembers it, so that its outcome is recorded after the
// response. An IP over its own limits is banned.
func (g *Guard) loginAttempt(r *http.Request, d *decision, fs []detect.Finding) []detect.Finding {
	st, v := d.st, d.v
	a := &stuffing.Attempt{DNA: v.DNA.ID, Browser: v.DNA.Kind == "browser", Specific: v.DNA.Source != "request",
		Username: loginUsername(r, st.logins.fields, g.maxBody())}
	if v.ClientIP.IsValid() {
		a.IP = clientip.Prefix(v.ClientIP).String()
	}
	d.login = a
	res, err := g.logins.Check(r.Context(), g.store, st.logins.limits, *a)
	if err != nil {
		// What was found before the error still counts.
		g.fault(r, d, "login counters", err)
	}
	if res.BanIP && !d.monitor && v.ClientIP.IsValid() {
		g.banClient(r, d, "credential_stuffing")
	}
	return append(fs, res.Findings...)
}

// loginOutcome records a failed login attempt: the application answered with one of
// the policy's failure statuses.
func (g *Guard) loginOutcome(r *http.Request, d *decision, status int) {
	if !d.st.logins.failures[status] {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
	defer cancel()
	if err := g.logins.Failed(ctx, g.store, d.st.logins.limits, *d.login); err != nil {
		g.fault(r, d, "login counters", err)
	}
}

// maxBody is how much of a body the guard reads.
func (g *Guard) maxBody() int64 {
	if g.cfg.MaxBodyBytes > 0 {
		return g.cfg.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// loginUsername finds the username of a login request (see bodyFields).
func loginUsername(r *http.Request, fields []string, max int64) string {
	if vals := bodyFields(r, max, fields); vals != nil {
		return vals[0]
	}
	return ""
}

// bodyFields reads r's JSON, form or multipart body (at most max bytes, leaving r.Body
// delivering the same bytes) and returns, for each group of field names, the value of
// the first one present, or "". Nil when the body is empty, too large or unreadable.
func bodyFields(r *http.Request, max int64, groups ...[]string) []string {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil // compressed: its fields cannot be read without inflating it
	}
	body, ok, _ := formscan.Read(r, max)
	if !ok || len(body) == 0 {
		return nil
	}
	return formscan.Find(r.Header.Get("Content-Type"), body, groups...)
}

// maxFingerprintHeader bounds a forwarded fingerprint header's value.
const maxFingerprintHeader = 1 << 10

// upstreamFingerprints reads the fingerprints a trusted proxy forwarded in the headers
// Config.FingerprintHeaders names, ignoring values that are too long or malformed.
func (g *Guard) upstreamFingerprints(r *http.Request) (*fingerprint.TLS, *fingerprint.H2) {
	fh := g.cfg.FingerprintHeaders
	get := func(name string) string {
		if name == "" {
			return ""
		}
		v := strings.TrimSpace(r.Header.Get(name))
		if len(v) > maxFingerprintHeader {
			return ""
		}
		return v
	}
	var t *fingerprint.TLS
	if ja4 := strings.ToLower(get(fh.JA4)); ja4 != "" {
		if _, ok := tlsfp.JA4B(ja4); ok {
			t = &fingerprint.TLS{JA4: ja4}
		}
	}
	if ja3 := strings.ToLower(get(fh.JA3)); len(ja3) == 32 && isHex(ja3) {
		if t == nil {
			t = &fingerprint.TLS{}
		}
		t.JA3 = ja3
	}
	var h2 *fingerprint.H2
	if s := get(fh.H2); s != "" {
		if fp, err := h2tap.ParseAkamai(s); err == nil {
			h2 = &fingerprint.H2{Akamai: fp.Akamai(), Hash: fp.AkamaiHash()}
		}
	}
	return t, h2
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// crossSite reports whether a browser says another site initiated the request: by
// Sec-Fetch-Site, or, from browsers that do not send it, by a Referer naming another host.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	case "same-origin", "none":
		return false
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return false
	}
	u, err := url.Parse(ref)
	return err == nil && u.Host != "" && !strings.EqualFold(u.Host, r.Host)
}

// disabled reports whether the route (nil for none) turns off the detector or code.
func disabled(route *rules.Route, name string) bool {
	return route != nil && route.Disabled(name)
}

// dropDisabled removes the findings whose detector or code the route disables.
func dropDisabled(fs []detect.Finding, route *rules.Route) []detect.Finding {
	out := fs[:0]
	for _, f := range fs {
		if !route.Disabled(f.Detector) && !route.Disabled(f.Code) {
			out = append(out, f)
		}
	}
	return out
}

// gate records a hard-gate signal and blocks.
func (g *Guard) gate(d *decision, code, detail string) {
	d.v.Signals = append(d.v.Signals, Signal{Detector: "gate", Code: code, Score: 100, Detail: detail})
	d.v.Score = 100
	g.settle(d, ActionBlock)
}

// settleFindings copies findings into the verdict and settles the action.
func (g *Guard) settleFindings(d *decision, fs []detect.Finding, action Action) {
	if len(fs) > 0 {
		sig := make([]Signal, len(d.v.Signals), len(d.v.Signals)+len(fs))
		copy(sig, d.v.Signals)
		for _, f := range fs {
			sig = append(sig, Signal(f))
		}
		d.v.Signals = sig
	}
	g.settle(d, action)
}

// settle sets WouldBe to the decided action and Action to what is enforced. Monitor mode
// wins over FailClosed: a guard on trial never takes a site down.
func (g *Guard) settle(d *decision, action Action) {
	d.v.WouldBe = action
	if d.monitor {
		d.v.Action = ActionAllow
		return
	}
	d.v.Action = action
}

// botPolicy applies the policy's bot categories and crawler verification.
func (g *Guard) botPolicy(fs []detect.Finding, st *state, ip netip.Addr, c bot.Class, v *Verdict) []detect.Finding {
	if c.Kind == bot.Browser || c.Kind == bot.Unknown {
		return fs
	}
	if c.Claimed != "" && st.verifyCrawlers {
		switch g.bots.Verify(ip, c) {
		case bot.Verified:
			v.Enrichment.BotVerified = true
		case bot.Failed:
			return append(fs, detect.Finding{Detector: "bot", Code: "bot_spoofed", Score: 95,
				Detail: "claims to be " + c.Name + " but reverse and forward DNS of the client IP disagree"})
		}
	}
	switch {
	case st.botAllow[c.Category] && (c.Claimed == "" || v.Enrichment.BotVerified || !st.verifyCrawlers):
		// An allowed category: drop the bot's own findings about being a bot.
		out := fs[:0]
		for _, f := range fs {
			if f.Detector != "bot" || f.Code == "scanner_ua" {
				out = append(out, f)
			}
		}
		return out
	case st.botBlock[c.Category]:
		return append(fs, detect.Finding{Detector: "bot", Code: "bot_category", Score: 100,
			Detail: "client " + c.Name + " is in category " + c.Category + ", blocked by policy"})
	}
	return fs
}

// rateLimit runs the limits that apply to the request and reports whether one of them
// denies it: the per-IP limit (or the route's own, which replaces it), the per-DNA limit
// and the limit of a matching ratelimit rule. Limits are scaled down for clients with a
// raised score.
func (g *Guard) rateLimit(r *http.Request, now time.Time, d *decision, p rules.Path, route *rules.Route, rule *rules.Rule) bool {
	st, v := d.st, d.v
	factor := 1.0
	if st.adaptive && v.Score >= st.adaptiveScore {
		factor = st.adaptiveFactor
	}
	var kb [128]byte
	ip := v.ClientIP
	if ip.IsValid() {
		if route != nil && !route.RateLimit.IsZero() {
			key := append(append(append(strconv.AppendInt(append(kb[:0], "rl:route:"...), int64(route.Index), 10), ':'), route.Name...), d.clientKey()...)
			if g.checkLimit(r, now, d, factor, "route", key, limitOf(route.RateLimit)) {
				return true
			}
		} else if g.checkLimit(r, now, d, factor, "ip", append(append(kb[:0], "rl:ip:"...), d.clientKey()...), st.perIP) {
			return true
		}
	}
	if v.DNA.ID != "" && g.checkLimit(r, now, d, factor, "dna", append(append(kb[:0], "rl:dna:"...), v.DNA.ID...), st.perDNA) {
		return true
	}
	if rule != nil && rule.Action == policy.ActionRateLimit {
		key := append(append(strconv.AppendInt(append(kb[:0], "rl:rule:"...), int64(rule.Index), 10), ':'), rule.Name...)
		key = append(key, ':')
		in := ruleInput(r, p, v)
		switch val, ok := rule.Key.Value(&in); {
		case ok:
			key = appendKeyValue(append(key, byte('0'+rule.Key.Kind), ':'), val)
		case rule.Key.Kind == rules.KeyDNA && v.DNA.ID != "":
			key = append(append(key, "dna:"...), v.DNA.ID...)
		default:
			key = append(append(key, "ip:"...), d.clientKey()...)
		}
		if g.checkLimit(r, now, d, factor, "rule-"+strconv.Itoa(rule.Index), key, limitOf(rule.RateLimit)) {
			return true
		}
	}
	return false
}

// checkLimit counts the request against the limit l on key, scaled by factor, and
// reports whether the limit denies it; then d holds the quota for the 429's headers and
// the verdict a ratelimit signal. A store fault fails open unless FailClosed is set.
func (g *Guard) checkLimit(r *http.Request, now time.Time, d *decision, factor float64, name string, key []byte, l Limit) bool {
	if l.Rate <= 0 {
		return false
	}
	if factor < 1 {
		l = Limit(ratelimit.Limit(l).Scale(factor))
	}
	var (
		q   Quota
		err error
	)
	if g.mem != nil {
		// The memory store directly: no error, the request's clock reading, and
		// the key converted on the stack (the store copies the keys it keeps).
		q = g.mem.allow(string(key), now, l)
	} else {
		q, err = g.store.Allow(r.Context(), string(key), l, 1)
	}
	if err != nil {
		g.fault(r, d, "rate limit", err)
		d.failClosed = g.cfg.FailClosed
		return d.failClosed
	}
	if q.Allowed {
		return false
	}
	d.quota, d.limit, d.limitName = q, l, name
	d.v.Signals = append(d.v.Signals, Signal{Detector: "ratelimit", Code: "rate_limited", Detail: name + " limit " + limitString(l) + " exceeded"})
	return true
}

// appendKeyValue appends a client-chosen key value (a header, cookie or query value):
// short values as they are, longer ones as a SHA-256 prefix, so a client cannot make
// the store hold large keys. The digest is the same in every instance, as a shared store
// needs.
func appendKeyValue(b []byte, val string) []byte {
	if len(val) <= 64 {
		return append(b, val...)
	}
	sum := sha256.Sum256([]byte(val))
	return hex.AppendEncode(append(b, '#'), sum[:16])
}

func limitString(l Limit) string {
	s := strconv.Itoa(l.Rate) + "/" + l.Period.String()
	if l.Burst > 0 {
		s += " burst " + strconv.Itoa(l.Burst)
	}
	return s
}

// banClient bans the verdict's client with escalation: the n-th ban within the policy's
// window lasts longer (policy.Bans.Length). An IPv4 client is banned by address, an IPv6
// client by its /64, which one subscriber usually holds whole, so rotating addresses
// inside it does not escape. Trusted proxies are never banned: that would ban everyone
// behind them.
func (g *Guard) banClient(r *http.Request, d *decision, reason string) {
	st, v := d.st, d.v
	ip := v.ClientIP
	if g.ips.Trusted(ip) {
		g.log.Warn("not banning a trusted proxy", "ip", ip, "reason", reason, "request_id", v.RequestID)
		return
	}
	b := Ban{Kind: BanIP, Value: ip.String(), Reason: reason}
	if ip.Is6() {
		if pfx := clientip.Prefix(ip); !g.ips.TrustedIn(pfx) {
			b.Kind, b.Value = BanCIDR, pfx.String()
		}
	}
	ctx := r.Context()
	strikes, err := g.store.Add(ctx, "strikes:"+b.Value, 1, time.Duration(st.eff.Bans.Window))
	if err != nil {
		g.fault(r, d, "ban strikes", err)
		strikes = 1
	}
	ttl := st.banLength(reason, int(strikes))
	b.Until, b.Strikes = g.cfg.Clock().Add(ttl), int(strikes)
	if err := g.store.Ban(ctx, b); err != nil {
		g.fault(r, d, "ban", err)
		return
	}
	d.ban = &b
	g.log.Info("client banned", "target", b.Value, "reason", reason, "ttl", ttl.String(), "strikes", strikes, "request_id", v.RequestID)
}

// fault reports an internal error the guard survived: a log line and OnError now, an
// EventError after the response, when the outcome is known.
func (g *Guard) fault(r *http.Request, d *decision, stage string, err error) {
	err = fmt.Errorf("%s: %w", stage, err)
	g.log.Error("guard fault", "err", err, "request_id", d.v.RequestID, "fail_closed", g.cfg.FailClosed)
	if g.cfg.OnError != nil {
		g.cfg.OnError(r, err)
	}
	d.faults = append(d.faults, err)
}

// recordSide records the events a request caused besides its own: the ban it placed and
// the faults the guard survived. FailedOpen reports that the request was let through.
func (g *Guard) recordSide(r *http.Request, d *decision, now time.Time) {
	v := d.v
	if d.ban != nil {
		g.cfg.Events.Record(Event{Kind: EventBan, Time: now, Verdict: *v, Method: r.Method, Host: r.Host, Path: r.URL.Path, Ban: d.ban})
	}
	for _, err := range d.faults {
		g.cfg.Events.Record(Event{Kind: EventError, Time: now, Verdict: *v, Method: r.Method, Host: r.Host,
			Path: r.URL.Path, Error: err.Error(), FailedOpen: v.Action == ActionAllow})
	}
}

// finish runs after the response: hooks, logs and events.
func (g *Guard) finish(r *http.Request, d *decision, status int, n int64, start time.Time) {
	v := d.v
	if v.WouldBe != ActionAllow {
		if g.cfg.OnBlock != nil {
			g.cfg.OnBlock(r, v)
		}
		if d.monitor {
			g.log.Info("monitor: request would be acted on", "would_be", v.WouldBe, "score", v.Score,
				"ip", v.ClientIP, "method", r.Method, "path", r.URL.Path, "signals", signalCodes(v.Signals), "request_id", v.RequestID)
		} else {
			g.log.Info("request acted on", "action", v.Action, "score", v.Score,
				"ip", v.ClientIP, "method", r.Method, "path", r.URL.Path, "signals", signalCodes(v.Signals), "request_id", v.RequestID)
		}
	}
	if g.cfg.Events == nil {
		return
	}
	now := g.cfg.Clock()
	g.recordSide(r, d, now)
	e := Event{Kind: EventRequest, Time: now, Verdict: *v, Method: r.Method, Host: r.Host,
		Path: r.URL.Path, UserAgent: r.UserAgent(), Status: status, Bytes: n, Latency: now.Sub(start)}
	if v.WouldBe != ActionAllow {
		e.Query, e.Header = r.URL.RawQuery, r.Header
	}
	g.cfg.Events.Record(e)
}

func signalCodes(s []Signal) string {
	var b []byte
	for i, x := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, x.Code...)
	}
	return string(b)
}

func banDetail(b Ban) string {
	s := "client is banned (" + b.Reason
	if !b.Until.IsZero() {
		s += ", until " + b.Until.UTC().Format(time.RFC3339)
	}
	return s + ")"
}

// truncate shortens s to at most n bytes, on a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// noDNS is the crawler verifier's resolver in Config.Offline: every look-up fails at
// once, without a network call, so claims stay unverified.
type noDNS struct{}

var errOffline = errors.New("vigil: offline: no DNS look-ups")

func (noDNS) LookupAddr(context.Context, string) ([]string, error) { return nil, errOffline }
func (noDNS) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, errOffline
}
