package rules

import (
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/gaissmai/bart"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/nfa"
	"github.com/vigilhq/vigil/policy"
)

// Input is what a rule can see of one request. The guard fills it once per request. The
// zero value describes a request about which nothing is known: no rule that tests any
// field matches it. Rules read an Input without changing it, so one Input may be
// evaluated from several goroutines.
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
	// Request supplies headers, query parameters and cookies; nil means none. Rules
	// read the raw query and Cookie headers in place, decoding only the values of the
	// parameters they name, as url.ParseQuery and http.Request.Cookies would.
	Request *http.Request
}

// header returns the values of the header with canonical key ck. For "Host" it returns
// host instead: the request's host, which net/http keeps out of Header.
func (in *Input) header(ck string) (values []string, host string) {
	switch {
	case in.Request == nil:
		return nil, ""
	case ck == "Host":
		return nil, in.Request.Host
	}
	return in.Request.Header[ck], ""
}

// rawQuery returns the request's raw query string.
func (in *Input) rawQuery() string {
	if in.Request == nil || in.Request.URL == nil {
		return ""
	}
	return in.Request.URL.RawQuery
}

// cookieLines returns the request's Cookie header lines.
func (in *Input) cookieLines() []string {
	if in.Request == nil {
		return nil
	}
	return in.Request.Header["Cookie"]
}

// nextQuery returns the next decoded value of the query parameter name in query, and the
// rest of query to continue with, reading pairs as url.ParseQuery does: "&"-separated,
// pairs with ";" or invalid escapes skipped, "+" meaning space. It allocates only to
// decode an escaped name or value.
func nextQuery(query, name string) (value, rest string, ok bool) {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != name {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			var err error
			if v, err = url.QueryUnescape(v); err != nil {
				continue
			}
		}
		return v, query, true
	}
	return "", "", false
}

// nextCookie returns the next value of the cookie name in lines (Cookie header lines),
// with the position to continue from, reading them as http.Request.Cookies does:
// ";"-separated, trimmed, quotes stripped, cookies with invalid values skipped. It never
// allocates.
func nextCookie(lines []string, line int, rest, name string) (value string, nextLine int, nextRest string, ok bool) {
	for {
		for rest == "" {
			if line >= len(lines) {
				return "", line, "", false
			}
			rest = lines[line]
			line++
		}
		var part string
		part, rest, _ = strings.Cut(rest, ";")
		k, v, _ := strings.Cut(textproto.TrimString(part), "=")
		if textproto.TrimString(k) != name {
			continue
		}
		if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if !validCookieValue(v) {
			continue
		}
		return v, line, rest, true
	}
}

func validCookieValue(v string) bool {
	for i := range len(v) {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
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

	finding        detect.Finding
	m              matcher
	not            *matcher
	relaxesByPath  bool     // an allow rule that tests the path
	mPath, notPath pathMode // how m and not match the path of a canonical request
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
	// A rule that tightens matches the path ignoring case, and its "not" (which lets a
	// request escape it) only in exact case; an allow rule, the other way round.
	r.mPath, r.notPath = pathFold, pathExact
	if pr.Action == policy.ActionAllow {
		r.mPath, r.notPath = pathExact, pathFold
	}
	return nil
}

// pathMode says how a matcher's path condition is tested.
type pathMode uint8

const (
	pathNever pathMode = iota // the path condition is not satisfied
	pathExact                 // a pattern must match the path in exact case
	pathFold                  // a pattern must match the path ignoring ASCII case
)

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
		vs, host := in.header(k.Name)
		if v = host; len(vs) > 0 {
			v = vs[0]
		}
	case KeyCookie:
		v, _, _, _ = nextCookie(in.cookieLines(), 0, "", k.Name)
	case KeyQuery:
		v, _, _ = nextQuery(in.rawQuery(), k.Name)
	}
	return v, v != ""
}

// HasRules reports whether the policy has custom rules: when it has none, Eval has
// nothing to do and a caller need not build its Input.
func (s *Set) HasRules() bool { return len(s.rules) > 0 }

// Eval appends to dst the finding of every rule that matches in, and returns the
// action of the first matching rule that has one, with that rule (nil and "" when no
// matching rule has an action). Rules are evaluated in policy order; a later matching
// rule's action never overrides an earlier one's, whatever the actions are. Eval does not
// allocate, except to grow dst and to decode a percent-encoded query parameter that a rule
// tests.
func (s *Set) Eval(in *Input, dst []detect.Finding) ([]detect.Finding, policy.Action, *Rule) {
	var decided *Rule
	canonical := in.Path.Canonical
	up := hasUpper(in.Path.Clean)
	for i := range s.rules {
		r := &s.rules[i]
		if r.relaxesByPath && !canonical {
			continue
		}
		if !r.m.match(in, r.mPath, up) {
			continue
		}
		if r.not != nil {
			mode := r.notPath
			if !canonical && mode == pathExact {
				mode = pathNever
			}
			if r.not.match(in, mode, up) {
				continue
			}
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
	paths     pathList
	headers   []valueCond
	query     []valueCond
	cookies   []valueCond
}

// valueCond tests the values of one named header, query parameter or cookie.
type valueCond struct {
	name string
	re   *nfa.Regexp // nil: present; nfa keeps the program out of the collector's scans
}

// test tests header values.
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

// testQuery tests the values of a query parameter in the raw query.
func (c *valueCond) testQuery(query string) bool {
	for {
		v, rest, ok := nextQuery(query, c.name)
		if !ok {
			return false
		}
		if c.re == nil || c.re.MatchString(v) {
			return true
		}
		query = rest
	}
}

// testCookie tests the values of a cookie in the Cookie header lines.
func (c *valueCond) testCookie(lines []string) bool {
	line, rest := 0, ""
	for {
		v, nl, nr, ok := nextCookie(lines, line, rest, c.name)
		if !ok {
			return false
		}
		if c.re == nil || c.re.MatchString(v) {
			return true
		}
		line, rest = nl, nr
	}
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
	if out.paths, err = compilePaths(m.Paths); err != nil {
		return matcher{}, err
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
			re, err := nfa.Compile(expr)
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

// match reports whether in satisfies every condition of m, cheapest first, testing a
// path condition as mode says. up says whether in.Path.Clean has an upper-case ASCII
// letter.
func (m *matcher) match(in *Input, mode pathMode, up bool) bool {
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
	if len(m.paths.exact) > 0 {
		if mode == pathNever {
			return false
		}
		if !m.paths.matchExact(in.Path.Clean) &&
			(mode == pathExact || !m.paths.needFold(up) || !m.paths.matchFoldAfterExact(in.Path.Clean)) {
			return false
		}
	}
	for i := range m.headers {
		h := &m.headers[i]
		values, host := in.header(h.name)
		if h.name == "Host" && !h.testHost(host) || h.name != "Host" && !h.test(values) {
			return false
		}
	}
	for i := range m.query {
		if !m.query[i].testQuery(in.rawQuery()) {
			return false
		}
	}
	for i := range m.cookies {
		if !m.cookies[i].testCookie(in.cookieLines()) {
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
