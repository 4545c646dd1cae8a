package rules

import (
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gaissmai/bart"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/rules/glob"
	"github.com/vigilhq/vigil/policy"
)

// Input is what a rule can see of one request. The guard fills it once per request. The
// zero value describes a request about which nothing is known: no rule that tests any
// field matches it. An Input caches the parsed query and cookies of Request, so it must
// not be shared between goroutines, and it must be reset (*in = Input{…}) before it is
// reused for another request.
type Input struct {
	// Method is the request method.
	Method string
	// Path is the request path, from ParsePath.
	Path Path
	// IP is the client address (after trusted-proxy resolution); the invalid Addr if
	// unknown.
	IP netip.Addr
	// Country is the ISO 3166-1 alpha-2 code of IP's country; "" if unknown.
	Country string
	// ASN is IP's autonomous system number; 0 if unknown.
	ASN uint32
	// DNAFamily and DNAKind classify the client from its request DNA ("chrome",
	// "browser"); "" if unknown.
	DNAFamily, DNAKind string
	// BotCategory is the bot detector's category for the client; "" if none.
	BotCategory string
	// Request supplies headers, query parameters and cookies. The query and cookies
	// are parsed only if a rule gets as far as testing them, and then once. Nil means
	// none.
	Request *http.Request

	query   url.Values
	queryOK bool
	cookies []*http.Cookie
	cookOK  bool
}

func (in *Input) queryValues(name string) []string {
	if !in.queryOK {
		in.queryOK = true
		if in.Request != nil && in.Request.URL != nil {
			in.query = in.Request.URL.Query()
		}
	}
	return in.query[name]
}

func (in *Input) cookieValues(name string, dst []string) []string {
	if !in.cookOK {
		in.cookOK = true
		if in.Request != nil {
			in.cookies = in.Request.Cookies()
		}
	}
	for _, c := range in.cookies {
		if c.Name == name {
			dst = append(dst, c.Value)
		}
	}
	return dst
}

// headerValues returns the values of the header with canonical key ck. For "Host" it
// returns host instead: the request's host, which net/http keeps out of Header.
func (in *Input) headerValues(ck string) (values []string, host string) {
	switch {
	case in.Request == nil:
		return nil, ""
	case ck == "Host":
		return nil, in.Request.Host
	}
	return in.Request.Header[ck], ""
}

// Rule is a compiled policy.Rule. It is immutable and safe for concurrent use.
type Rule struct {
	// Name is the rule's name.
	Name string
	// Index is the rule's position in the policy's rules.
	Index int
	// Action is the rule's action; "" if it only scores.
	Action policy.Action
	// Score is the score of the rule's finding; 0 if it adds none.
	Score int
	// RateLimit is the limit of an ActionRateLimit rule.
	RateLimit policy.Limit
	// Key is what an ActionRateLimit rule counts by.
	Key Key

	finding       detect.Finding
	m             matcher
	not           *matcher
	relaxesByPath bool // an allow rule that tests the path
}

func (r *Rule) compile(i int, pr policy.Rule) error {
	*r = Rule{
		Name:      pr.Name,
		Index:     i,
		Action:    pr.Action,
		Score:     pr.Score,
		RateLimit: pr.RateLimit,
		Key:       parseKey(pr.Key),
		finding: detect.Finding{
			Detector: "rule",
			Code:     "rule:" + pr.Name,
			Score:    pr.Score,
			Detail:   "matched rule " + pr.Name,
		},
	}
	var err error
	if r.m, err = compileMatch(pr.Match); err != nil {
		return err
	}
	paths := len(pr.Match.Paths) > 0
	if pr.Match.Not != nil {
		n, err := compileMatch(*pr.Match.Not)
		if err != nil {
			return err
		}
		r.not = &n
		paths = paths || len(pr.Match.Not.Paths) > 0
	}
	r.relaxesByPath = pr.Action == policy.ActionAllow && paths
	return nil
}

// Finding returns the finding the rule adds when it matches.
func (r *Rule) Finding() detect.Finding { return r.finding }

// KeyKind is what a rate-limit rule counts requests by.
type KeyKind uint8

// The key kinds.
const (
	// KeyIP counts by client IP address; the guard derives the key from Input.IP.
	KeyIP KeyKind = iota
	// KeyDNA counts by request DNA; the guard derives the key from the fingerprint.
	KeyDNA
	// KeyHeader counts by the value of the header Key.Name.
	KeyHeader
	// KeyCookie counts by the value of the cookie Key.Name.
	KeyCookie
	// KeyQuery counts by the value of the query parameter Key.Name.
	KeyQuery
)

// Key is a compiled policy.Rule.Key. The zero value is KeyIP.
type Key struct {
	// Kind is what to count by.
	Kind KeyKind
	// Name is the header, cookie or query parameter name; "" for KeyIP and KeyDNA.
	// Header names are in canonical form.
	Name string
}

func parseKey(s string) Key {
	kind, name, _ := strings.Cut(s, ":")
	switch kind {
	case "dna":
		return Key{Kind: KeyDNA}
	case "header":
		return Key{Kind: KeyHeader, Name: textproto.CanonicalMIMEHeaderKey(name)}
	case "cookie":
		return Key{Kind: KeyCookie, Name: name}
	case "query":
		return Key{Kind: KeyQuery, Name: name}
	}
	return Key{Kind: KeyIP}
}

// Value returns the first value of the header, cookie or query parameter that k names,
// and whether the request has a non-empty one. For KeyIP and KeyDNA, whose keys the
// guard derives itself, and for a request without the value, it returns "", false: the
// policy says such a request is counted by IP.
func (k Key) Value(in *Input) (string, bool) {
	var v string
	switch k.Kind {
	case KeyHeader:
		vs, host := in.headerValues(k.Name)
		if v = host; len(vs) > 0 {
			v = vs[0]
		}
	case KeyCookie:
		var buf [1]string
		if vs := in.cookieValues(k.Name, buf[:0]); len(vs) > 0 {
			v = vs[0]
		}
	case KeyQuery:
		if vs := in.queryValues(k.Name); len(vs) > 0 {
			v = vs[0]
		}
	}
	return v, v != ""
}

// Eval appends to dst the finding of every rule that matches in, and returns the
// action of the first matching rule that has one, with that rule (nil and "" when no
// matching rule has an action). Rules are evaluated in policy order; a later matching
// rule's action never overrides an earlier one's, whatever the actions are. Eval does not
// allocate when no rule matches, nor when dst has room for the findings, except to parse
// the query or cookies once if a rule tests them.
func (s *Set) Eval(in *Input, dst []detect.Finding) ([]detect.Finding, policy.Action, *Rule) {
	var decided *Rule
	for i := range s.rules {
		r := &s.rules[i]
		if r.relaxesByPath && !in.Path.Canonical {
			continue
		}
		if !r.m.match(in, true) {
			continue
		}
		if r.not != nil && r.not.match(in, in.Path.Canonical) {
			continue
		}
		if r.Score > 0 {
			dst = append(dst, r.finding)
		}
		if decided == nil && r.Action != "" {
			decided = r
		}
	}
	if decided == nil {
		return dst, "", nil
	}
	return dst, decided.Action, decided
}

// matcher is a compiled policy.Match without its Not.
type matcher struct {
	methods   []string
	ips       *bart.Lite
	countries []string
	asns      []uint32
	families  []string
	kinds     []string
	bots      []string
	paths     []glob.Pattern
	headers   []valueCond
	query     []valueCond
	cookies   []valueCond
}

// valueCond tests the values of one named header, query parameter or cookie.
type valueCond struct {
	name string
	re   *regexp.Regexp // nil: present
}

func (c *valueCond) test(values []string) bool {
	if c.re == nil {
		return len(values) > 0
	}
	for _, v := range values {
		if c.re.MatchString(v) {
			return true
		}
	}
	return false
}

// testHost tests the request host, present when not empty.
func (c *valueCond) testHost(host string) bool {
	return host != "" && (c.re == nil || c.re.MatchString(host))
}

func compileMatch(m policy.Match) (matcher, error) {
	out := matcher{
		methods:   m.Methods,
		countries: m.Countries,
		asns:      m.ASNs,
		families:  m.DNAFamilies,
		kinds:     m.DNAKinds,
		bots:      m.BotCategories,
	}
	var err error
	if out.ips, err = newIPSet(m.IPs); err != nil {
		return matcher{}, err
	}
	for _, p := range m.Paths {
		g, err := glob.Compile(p)
		if err != nil {
			return matcher{}, err
		}
		out.paths = append(out.paths, g)
	}
	if out.headers, err = compileValues(m.Headers, textproto.CanonicalMIMEHeaderKey); err != nil {
		return matcher{}, err
	}
	if out.query, err = compileValues(m.Query, nil); err != nil {
		return matcher{}, err
	}
	if out.cookies, err = compileValues(m.Cookies, nil); err != nil {
		return matcher{}, err
	}
	return out, nil
}

func compileValues(m map[string]string, canon func(string) string) ([]valueCond, error) {
	var out []valueCond
	for name, expr := range m {
		if canon != nil {
			name = canon(name)
		}
		c := valueCond{name: name}
		if expr != "" {
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, err
			}
			c.re = re
		}
		out = append(out, c)
	}
	// Map order is random; sort so that evaluation order, and so cost, is stable.
	slices.SortFunc(out, func(a, b valueCond) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// match reports whether in satisfies every condition of m, cheapest first. With
// pathOK false, a path condition counts as not satisfied.
func (m *matcher) match(in *Input, pathOK bool) bool {
	if len(m.methods) > 0 && !containsFold(m.methods, in.Method) {
		return false
	}
	if m.ips != nil && !contains(m.ips, in.IP) {
		return false
	}
	if len(m.countries) > 0 && (in.Country == "" || !containsFold(m.countries, in.Country)) {
		return false
	}
	if len(m.asns) > 0 && (in.ASN == 0 || !slices.Contains(m.asns, in.ASN)) {
		return false
	}
	if len(m.families) > 0 && (in.DNAFamily == "" || !containsFold(m.families, in.DNAFamily)) {
		return false
	}
	if len(m.kinds) > 0 && (in.DNAKind == "" || !containsFold(m.kinds, in.DNAKind)) {
		return false
	}
	if len(m.bots) > 0 && (in.BotCategory == "" || !containsFold(m.bots, in.BotCategory)) {
		return false
	}
	if len(m.paths) > 0 {
		if !pathOK {
			return false
		}
		ok := false
		for i := range m.paths {
			if m.paths[i].Match(in.Path.Clean) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for i := range m.headers {
		h := &m.headers[i]
		values, host := in.headerValues(h.name)
		if h.name == "Host" && !h.testHost(host) || h.name != "Host" && !h.test(values) {
			return false
		}
	}
	for i := range m.query {
		if !m.query[i].test(in.queryValues(m.query[i].name)) {
			return false
		}
	}
	for i := range m.cookies {
		var buf [4]string
		if !m.cookies[i].test(in.cookieValues(m.cookies[i].name, buf[:0])) {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
