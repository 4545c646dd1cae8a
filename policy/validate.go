package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil/internal/knownclients"
	"github.com/vigilhq/vigil/internal/rules/glob"
)

// Limits that Validate enforces.
const (
	maxDuration = Duration(366 * 24 * time.Hour)
	maxRegexLen = 4096
	maxNameLen  = 64
	maxCodeLen  = 128
	maxWeight   = 100
)

// Validate reports every problem in p at once, joined with errors.Join. Each problem
// starts with the path of the field in document terms, such as
// `rules[2].match.headers["X-Foo"]: invalid regex: missing closing )`. A nil error means
// the guard can compile p.
func (p Policy) Validate() error {
	v := &validator{}
	if p.Version < 0 {
		v.add("version", "must not be negative")
	}
	v.mode("mode", p.Mode)
	v.threshold("block_threshold", p.BlockThreshold)
	if p.ChallengeThreshold != 0 {
		v.threshold("challenge_threshold", p.ChallengeThreshold)
		if bt := p.BlockThreshold; (bt == 0 && p.ChallengeThreshold >= DefaultBlockThreshold) || (bt != 0 && p.ChallengeThreshold >= bt) {
			v.add("challenge_threshold", "%d is not below the block threshold", p.ChallengeThreshold)
		}
	}
	for i, s := range p.ExcludePaths {
		v.pattern(index("exclude_paths", i), s)
	}
	for i, m := range p.Methods {
		if !isToken(m) {
			v.add(index("methods", i), "%q is not a method (an HTTP token: letters, digits and !#$%%&'*+-.^_`|~)", m)
		}
	}
	allow := v.prefixes("allow", p.Allow)
	deny := v.prefixes("deny", p.Deny)
	for i, d := range deny {
		for j, a := range allow {
			if d.IsValid() && a.IsValid() && a.Bits() <= d.Bits() && a.Contains(d.Addr()) {
				v.add(index("deny", i), "%s lies inside allow[%d] %s, which is checked first, so it would never apply", p.Deny[i], j, p.Allow[j])
				break
			}
		}
	}
	v.prefixes("emergency.allow", p.Emergency.Allow)
	for i, s := range p.Honeypot.Paths {
		v.pattern(index("honeypot.paths", i), s)
	}
	for i, s := range p.Honeypot.Except {
		if s == "" {
			v.add(index("honeypot.except", i), "must not be empty")
		}
	}
	v.duration("honeypot.ban_ttl", p.Honeypot.BanTTL)
	v.duration("bans.ttl", p.Bans.TTL)
	v.duration("bans.max_ttl", p.Bans.MaxTTL)
	v.duration("bans.window", p.Bans.Window)
	if p.Bans.MaxTTL != 0 && p.Bans.TTL > p.Bans.MaxTTL {
		v.add("bans.max_ttl", "%v is shorter than bans.ttl %v", p.Bans.MaxTTL, p.Bans.TTL)
	}
	v.limit("rate_limit.per_ip", p.RateLimit.PerIP)
	v.limit("rate_limit.per_dna", p.RateLimit.PerDNA)
	if s := p.RateLimit.Adaptive.Score; s < 0 || s > 100 {
		v.add("rate_limit.adaptive.score", "%d is outside 0–100", s)
	}
	if f := p.RateLimit.Adaptive.Factor; !(f >= 0 && f <= 1) {
		v.add("rate_limit.adaptive.factor", "%v is outside 0–1", f)
	}
	if p.KnownClients != nil {
		if _, err := p.KnownClientsTable(); err != nil {
			v.add("known_clients", "%v", err)
		}
	}
	for i, s := range p.Signups.Paths {
		v.pattern(index("signups.paths", i), s)
	}
	for i, f := range p.Signups.EmailFields {
		if f == "" {
			v.add(index("signups.email_fields", i), "must not be empty")
		}
	}
	for i, f := range p.Signups.PhoneFields {
		if f == "" {
			v.add(index("signups.phone_fields", i), "must not be empty")
		}
	}
	for i, s := range p.Logins.Paths {
		v.pattern(index("logins.paths", i), s)
	}
	for i, code := range p.Logins.FailureStatuses {
		if code < 100 || code > 599 {
			v.add(index("logins.failure_statuses", i), "%d is not an HTTP status", code)
		}
	}
	for i, f := range p.Logins.UsernameFields {
		if f == "" {
			v.add(index("logins.username_fields", i), "must not be empty")
		}
	}
	v.duration("logins.window", p.Logins.Window)
	for _, f := range []struct {
		name string
		n    int
	}{{"max_failures_per_ip", p.Logins.MaxFailuresPerIP}, {"max_usernames_per_ip", p.Logins.MaxUsernamesPerIP},
		{"max_usernames_per_dna", p.Logins.MaxUsernamesPerDNA}, {"max_ips_per_username", p.Logins.MaxIPsPerUsername},
		{"spike_failures", p.Logins.SpikeFailures}, {"spike_factor", p.Logins.SpikeFactor}, {"spike_divisor", p.Logins.SpikeDivisor}} {
		if f.n < 0 {
			v.add("logins."+f.name, "%d is negative", f.n)
		}
	}
	allowCC := v.countries("geo.allow_countries", p.Geo.AllowCountries)
	for i, c := range v.countries("geo.deny_countries", p.Geo.DenyCountries) {
		if slices.Contains(allowCC, c) {
			v.add(index("geo.deny_countries", i), "%q is also in geo.allow_countries", p.Geo.DenyCountries[i])
		}
	}
	v.names("bots.block", p.Bots.Block)
	v.names("bots.allow", p.Bots.Allow)
	for i, c := range p.Bots.Block {
		if slices.ContainsFunc(p.Bots.Allow, func(a string) bool { return strings.EqualFold(a, c) }) {
			v.add(index("bots.block", i), "%q is also in bots.allow", c)
		}
	}
	for _, code := range sortedKeys(p.Weights) {
		path := key("weights", code)
		v.code(path, code)
		if w := p.Weights[code]; !(w >= 0 && w <= maxWeight) {
			v.add(path, "weight %v is outside 0–%d", w, maxWeight)
		}
	}
	seen := map[string]int{}
	for i, r := range p.Rules {
		v.rule(index("rules", i), r)
		if j, ok := seen[r.Name]; ok && r.Name != "" {
			v.add(index("rules", i)+".name", "%q is also the name of rules[%d]", r.Name, j)
		} else {
			seen[r.Name] = i
		}
	}
	clear(seen)
	for i, r := range p.Routes {
		v.route(index("routes", i), r)
		if j, ok := seen[r.Name]; ok && r.Name != "" {
			v.add(index("routes", i)+".name", "%q is also the name of routes[%d]", r.Name, j)
		} else {
			seen[r.Name] = i
		}
	}
	return errors.Join(v.errs...)
}

type validator struct {
	errs []error
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func key(path, k string) string { return path + "[" + strconv.Quote(k) + "]" }

func (v *validator) mode(path string, m Mode) {
	switch m {
	case "", ModeBlock, ModeMonitor:
	default:
		v.add(path, "%q is not a mode: use %q or %q", m, ModeBlock, ModeMonitor)
	}
}

func (v *validator) threshold(path string, t int) {
	if t < 0 || t > 100 {
		v.add(path, "%d is outside 1–100 (0 means the default)", t)
	}
}

func (v *validator) pattern(path, s string) {
	if _, err := glob.Compile(s); err != nil {
		v.add(path, "invalid path pattern %q: %v", s, err)
	}
}

func (v *validator) duration(path string, d Duration) {
	if d < 0 || d > maxDuration {
		v.add(path, "%v is outside 0–%v", d, maxDuration)
	}
}

func (v *validator) limit(path string, l Limit) {
	if l.IsZero() {
		return
	}
	if l.Rate < 1 || l.Rate > 1e9 {
		v.add(path, "rate %d is outside 1–1000000000", l.Rate)
	}
	if l.Period < Duration(time.Millisecond) || l.Period > Duration(24*time.Hour) {
		v.add(path, "period %v is outside 1ms–24h", l.Period)
	}
	if l.Burst < 0 || l.Burst > 1e9 {
		v.add(path, "burst %d is outside 1–1000000000", l.Burst)
	}
}

// prefixes validates IP addresses and CIDR prefixes, returning them (invalid entries as
// the zero Prefix) for further checks.
func (v *validator) prefixes(path string, list []string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, s := range list {
		pfx, err := parsePrefix(s)
		if err != nil {
			v.add(index(path, i), "%v", err)
			continue
		}
		out[i] = pfx
	}
	return out
}

// parsePrefix parses an IP address ("192.0.2.7", "2001:db8::1") as a one-address prefix,
// or a CIDR prefix ("10.0.0.0/8"). It rejects zones, IPv4-mapped IPv6 addresses (write
// them as IPv4) and prefixes with host bits set ("10.1.2.3/8"), a typo that would
// silently widen an allow list.
func parsePrefix(s string) (netip.Prefix, error) {
	var pfx netip.Prefix
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
		if p.Masked() != p {
			return netip.Prefix{}, fmt.Errorf("%q has host bits set: write %s", s, p.Masked())
		}
		pfx = p
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q has a zone, which requests never carry", s)
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped IPv6 address: write it as IPv4", s)
	}
	return pfx, nil
}

func (v *validator) rule(path string, r Rule) {
	v.name(path+".name", r.Name, true)
	v.match(path+".match", r.Match, true)
	if r.Score < 0 || r.Score > 100 {
		v.add(path+".score", "%d is outside 0–100", r.Score)
	}
	switch r.Action {
	case "", ActionAllow, ActionBlock, ActionChallenge:
		if !r.RateLimit.IsZero() {
			v.add(path+".rate_limit", "is only used with action %q", ActionRateLimit)
		}
		if r.Key != "" {
			v.add(path+".key", "is only used with action %q", ActionRateLimit)
		}
		if r.Action == "" && r.Score == 0 {
			v.add(path, "has neither a score nor an action, so it does nothing")
		}
	case ActionRateLimit:
		if r.RateLimit.IsZero() {
			v.add(path+".rate_limit", "is required with action %q", ActionRateLimit)
		}
		v.limit(path+".rate_limit", r.RateLimit)
		if err := checkKey(r.Key); err != nil {
			v.add(path+".key", "%v", err)
		}
	default:
		v.add(path+".action", "%q is not an action: use %q, %q, %q or %q, or leave it out to only score",
			r.Action, ActionAllow, ActionBlock, ActionChallenge, ActionRateLimit)
	}
}

// checkKey checks a Rule.Key: "", "ip", "dna", "header:<name>", "cookie:<name>" or
// "query:<name>".
func checkKey(k string) error {
	if k == "" || k == "ip" || k == "dna" {
		return nil
	}
	kind, name, ok := strings.Cut(k, ":")
	switch {
	case !ok || (kind != "header" && kind != "cookie" && kind != "query"):
		return fmt.Errorf("%q is not a key: use \"ip\", \"dna\", \"header:<name>\", \"cookie:<name>\" or \"query:<name>\"", k)
	case kind == "query" && !printable(name):
		return fmt.Errorf("%q: the query parameter name must be printable and not empty", k)
	case kind != "query" && !isToken(name):
		return fmt.Errorf("%q: %q is not a valid %s name", k, name, kind)
	}
	return nil
}

func (v *validator) match(path string, m Match, top bool) {
	if m.IsZero() {
		if top {
			v.add(path, `is empty and would match every request: to mean that, write paths: ["/**"]`)
		} else {
			v.add(path, "is empty and would exclude every request")
		}
	}
	for i, s := range m.Methods {
		if !isToken(s) {
			v.add(index(path+".methods", i), "%q is not an HTTP method", s)
		}
	}
	for i, s := range m.Paths {
		v.pattern(index(path+".paths", i), s)
	}
	v.regexps(path+".query", m.Query, printable, "a query parameter name")
	v.regexps(path+".headers", m.Headers, isToken, "a header name")
	v.regexps(path+".cookies", m.Cookies, isToken, "a cookie name")
	v.prefixes(path+".ips", m.IPs)
	for i, s := range m.Countries {
		if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
			v.add(index(path+".countries", i), "%q is not an ISO 3166-1 alpha-2 country code", s)
		}
	}
	for i, a := range m.ASNs {
		if a == 0 {
			v.add(index(path+".asns", i), "0 is not an AS number")
		}
	}
	v.names(path+".dna_families", m.DNAFamilies)
	v.names(path+".dna_kinds", m.DNAKinds)
	v.names(path+".bot_categories", m.BotCategories)
	if m.Not != nil {
		if !top {
			v.add(path+".not", "a not cannot have a not of its own")
		} else {
			v.match(path+".not", *m.Not, false)
		}
	}
}

func (v *validator) regexps(path string, m map[string]string, validName func(string) bool, what string) {
	for _, name := range sortedKeys(m) {
		p := key(path, name)
		if !validName(name) {
			v.add(p, "%q is not %s", name, what)
		}
		re := m[name]
		if len(re) > maxRegexLen {
			v.add(p, "regex longer than %d bytes", maxRegexLen)
			continue
		}
		if _, err := regexp.Compile(re); err != nil {
			v.add(p, "invalid regex: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	}
}

func (v *validator) route(path string, r Route) {
	if r.Name != "" {
		v.name(path+".name", r.Name, false)
	}
	for i, s := range r.Methods {
		if !isToken(s) {
			v.add(index(path+".methods", i), "%q is not an HTTP method", s)
		}
	}
	if len(r.Paths) == 0 {
		v.add(path+".paths", "is required")
	}
	for i, s := range r.Paths {
		v.pattern(index(path+".paths", i), s)
	}
	v.mode(path+".mode", r.Mode)
	v.threshold(path+".block_threshold", r.BlockThreshold)
	for i, s := range r.Disable {
		v.code(index(path+".disable", i), s)
	}
	v.limit(path+".rate_limit", r.RateLimit)
}

// name checks a rule or route name: 1–64 letters, digits, "_", "-" or ".".
func (v *validator) name(path, s string, required bool) {
	if s == "" {
		if required {
			v.add(path, "is required")
		}
		return
	}
	if len(s) > maxNameLen || strings.TrimFunc(s, isNameRune) != "" {
		v.add(path, "%q must be 1–%d letters, digits, \"_\", \"-\" or \".\"", s, maxNameLen)
	}
}

// names checks a list of category-like names, which have a rule name's characters.
func (v *validator) names(path string, list []string) {
	for i, s := range list {
		if s == "" || len(s) > maxNameLen || strings.TrimFunc(s, isNameRune) != "" {
			v.add(index(path, i), "%q must be 1–%d letters, digits, \"_\", \"-\" or \".\"", s, maxNameLen)
		}
	}
}

// countries checks a list of ISO 3166-1 alpha-2 codes and returns them upper-cased,
// "" in place of each invalid one.
func (v *validator) countries(path string, list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
			v.add(index(path, i), "%q is not a two-letter ISO 3166-1 country code", s)
			continue
		}
		out[i] = strings.ToUpper(s)
	}
	return out
}

// code checks a finding code or detector name: a name that may also contain ":" and "/".
func (v *validator) code(path, s string) {
	ok := s != "" && len(s) <= maxCodeLen && strings.TrimFunc(s, func(r rune) bool {
		return isNameRune(r) || r == ':' || r == '/'
	}) == ""
	if !ok {
		v.add(path, "%q must be 1–%d letters, digits, \"_\", \"-\", \".\", \":\" or \"/\"", s, maxCodeLen)
	}
}

func isNameRune(r rune) bool {
	return r < utf8.RuneSelf && (isLetter(byte(r)) || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2), as method, header and
// cookie names are.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c >= 0x7f || c <= ' ' || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// printable reports whether s is non-empty valid UTF-8 without control characters.
func printable(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// KnownClientsTable returns the built-in known-clients table with p.KnownClients laid
// over it: the table the guard compares clients' fingerprints with.
func (p Policy) KnownClientsTable() (*knownclients.Table, error) {
	base := knownclients.Default()
	if p.KnownClients == nil {
		return base, nil
	}
	return base.Merge(p.KnownClients)
}
