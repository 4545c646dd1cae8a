package guardagent

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vigilhq/vigil/policy"
)

// DynamicRules is the answer to GET /api/v1/rules (§8.7), field for field. Its JSON form
// always writes every list and map, empty ones as [] and {}, never null: pydantic
// rejects null for a list, and the Python client then ignores the whole document.
// Nullable fields are pointers; nil means "leave the client's own setting".
type DynamicRules struct {
	RuleID    string     `json:"rule_id"`
	Version   int64      `json:"version"`
	Timestamp time.Time  `json:"timestamp"`
	ExpiresAt *time.Time `json:"expires_at"`
	// TTL is how long, in seconds, the Python agent serves the document from its cache.
	TTL                   int64               `json:"ttl"`
	IPBlacklist           []string            `json:"ip_blacklist"`
	IPWhitelist           []string            `json:"ip_whitelist"`
	IPBanDuration         int64               `json:"ip_ban_duration"`
	BlockedCountries      []string            `json:"blocked_countries"`
	WhitelistCountries    []string            `json:"whitelist_countries"`
	GlobalRateLimit       *int64              `json:"global_rate_limit"`
	GlobalRateWindow      *int64              `json:"global_rate_window"`
	EndpointRateLimits    map[string][2]int64 `json:"endpoint_rate_limits"`
	BlockedCloudProviders []string            `json:"blocked_cloud_providers"`
	BlockedUserAgents     []string            `json:"blocked_user_agents"`
	SuspiciousPatterns    []string            `json:"suspicious_patterns"`

	EnablePenetrationDetection *bool  `json:"enable_penetration_detection"`
	EnableIPBanning            *bool  `json:"enable_ip_banning"`
	EnableRateLimiting         *bool  `json:"enable_rate_limiting"`
	AutoBanThreshold           *int64 `json:"auto_ban_threshold"`
	AutoBanDuration            *int64 `json:"auto_ban_duration"`
	EnableRateLimitAutoBan     *bool  `json:"enable_rate_limit_auto_ban"`

	EmergencyMode          bool     `json:"emergency_mode"`
	EmergencyWhitelist     []string `json:"emergency_whitelist"`
	EmergencyWhitelistOnly bool     `json:"emergency_whitelist_only"`
	Message                *string  `json:"message"`
}

// MarshalJSON writes r with every nil list as [] and a nil map as {}.
func (r DynamicRules) MarshalJSON() ([]byte, error) {
	type plain DynamicRules
	p := plain(r)
	for _, l := range []*[]string{&p.IPBlacklist, &p.IPWhitelist, &p.BlockedCountries, &p.WhitelistCountries,
		&p.BlockedCloudProviders, &p.BlockedUserAgents, &p.SuspiciousPatterns, &p.EmergencyWhitelist} {
		if *l == nil {
			*l = []string{}
		}
	}
	if p.EndpointRateLimits == nil {
		p.EndpointRateLimits = map[string][2]int64{}
	}
	return json.Marshal(p)
}

// Equivalent reports whether r and o would have the same effect on a client: every
// field equal except Version, Timestamp and IPBanDuration (which RenderRules computes
// from the time left on the bans, so it changes on every call). Studio renders the
// document on every poll and increments the project's rules version when the result is
// not Equivalent to the last one served: the Python client applies a document only when
// its version increased (§9.1), so a change without a new version never reaches it.
func (r *DynamicRules) Equivalent(o *DynamicRules) bool {
	a, b := *r, *o
	a.Version, b.Version = 0, 0
	a.Timestamp, b.Timestamp = time.Time{}, time.Time{}
	a.IPBanDuration, b.IPBanDuration = 0, 0
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// Ban is one of a project's bans as Studio stores it.
type Ban struct {
	// Kind is "ip", "cidr" or "dna".
	Kind string
	// Value is the address, the prefix or the DNA ID.
	Value string
	// Until is when the ban ends; zero means it does not.
	Until time.Time
	// Reason is why the client was banned.
	Reason string
}

// Values RenderRules writes where the reference's workarounds need them.
const (
	// DefaultRuleID is the rule_id when RulesOptions.RuleID is empty.
	DefaultRuleID = "vigil"
	// RulesTTL is the ttl served: 60 s, the shortest poll interval a client may have,
	// so the agent's cache never delays a new version beyond one poll.
	RulesTTL = 60
	// PermanentBanDuration, in seconds (one year), stands for "no end" in
	// ip_ban_duration, which has no such value.
	PermanentBanDuration = 365 * 24 * 3600
	// NoCountry is the blocked_countries entry that blocks nothing: "AA" is a
	// user-assigned ISO 3166-1 code that no geolocation database returns.
	NoCountry = "AA"
	// NoUserAgent is the blocked_user_agents pattern that matches nothing: a character
	// class of no character. It is valid in Python's re and ReDoS-safe.
	NoUserAgent = `[^\s\S]`
	// NoEndpointPath is the endpoint_rate_limits key that stands for "none": a path no
	// application serves, with a limit no client reaches (NoEndpointLimit per second).
	NoEndpointPath  = "/.well-known/vigil/no-endpoint-limits"
	NoEndpointLimit = 1_000_000_000
)

// RulesOptions are the inputs of RenderRules besides the policy and the bans. The zero
// value renders a first document at the current time.
type RulesOptions struct {
	// RuleID is the project's rule_id. Keep it stable per project: a client applies a
	// document when its rule_id changed or its version increased (§9.1). Empty means
	// DefaultRuleID.
	RuleID string
	// Now is the time the document is rendered at. Zero means time.Now().
	Now time.Time
	// Previous is the document last served to the project, nil if none. Python
	// clients cannot clear a list by receiving an empty one (§9.3), so RenderRules
	// looks at what it sent before to decide where a "blocks nothing" value must
	// replace an empty list, and which addresses left the ban list and must be unbanned.
	Previous *DynamicRules
	// AutoBanThreshold, when positive, is sent as auto_ban_threshold (guard-core's count
	// of suspicious requests before it bans). Zero sends null and leaves each client's
	// own setting; but then, while emergency mode is on, every new version halves the
	// clients' threshold again (§9.4). A set value is applied before the halving, so it
	// is halved once, not once per version. Older clients ignore the field.
	AutoBanThreshold int
	// Lifted lists addresses whose ban Studio lifted (an operator's unban) and that
	// Python clients must unban; they are sent in ip_whitelist. Addresses that left the
	// ban list since Previous are added without being listed here.
	Lifted []string
}

// RenderRules renders the DynamicRules document for GET /api/v1/rules from a project's
// policy, its bans and its rules version, and lists in notes what of the policy Python
// clients cannot be told. version must increase on every change of the document (see
// DynamicRules.Equivalent).
//
// The mapping, and how it respects the way Python clients apply rules (§9):
//
//   - ip_blacklist: the policy's Deny entries and the active "ip" and "cidr" bans
//     (Until zero or after Now), in canonical form, sorted, without duplicates and
//     without addresses inside an Allow entry (Allow skips every check in Vigil). DNA
//     bans cannot be sent: noted. Clients ban each entry anew on every version.
//   - ip_ban_duration: one duration for all entries, so the longest time left on any
//     of them, rounded up to a second; PermanentBanDuration when an entry has no end
//     (Deny, or a zero Until). No ban ends early on a client; a shorter ban may last
//     longer there, until the address is unbanned through ip_whitelist.
//   - ip_whitelist: Python clients only unban these, they do not allow-list them. It
//     holds the single addresses of Allow (Vigil never blocks them), the addresses of
//     bans that ended (an "ip" ban whose Until is past), Lifted, and every single
//     address that was in Previous's ip_blacklist but is not in the new one. Addresses
//     still banned are left out (a client bans, then unbans, in that order).
//   - blocked_countries: Geo.DenyCountries, upper-cased. An empty list cannot clear the
//     clients' list, so once Studio has sent a non-empty one (Previous), an empty
//     policy list is sent as [NoCountry]; before that, [] leaves the application's own
//     configuration alone.
//   - whitelist_countries: Geo.AllowCountries, upper-cased. It cannot be cleared at
//     all (any non-empty list allows only those countries): RulesWarnings says so.
//   - global_rate_limit and global_rate_window: RateLimit.PerIP (default 600 a minute)
//     as a count per whole number of seconds, when the policy sets it or Studio sent
//     one before; otherwise null, leaving the application's own limit. Burst is not
//     expressible.
//   - endpoint_rate_limits: the per-route limits of routes that name exact paths and
//     no methods (guard-core's limits are per exact path, for every method); others
//     are noted. Empty after a non-empty Previous: {NoEndpointPath: [NoEndpointLimit,
//     1]}, which replaces the old map and limits nothing.
//   - blocked_user_agents: the header regexes of rules that do only one thing, block
//     by User-Agent. Empty after a non-empty Previous: [NoUserAgent].
//   - blocked_cloud_providers: always empty (a Vigil policy has no cloud-provider
//     block; hosting networks only add to the score), so never needs clearing.
//   - suspicious_patterns: always empty. Clients only add patterns, never remove them,
//     older ones add duplicates on every version, and a pattern with a comma is
//     corrupted when reloaded from Redis (§9.5): Studio sends none.
//   - auto_ban_duration: Bans.TTL in seconds when the policy sets it or Studio sent one
//     before; auto_ban_threshold: RulesOptions.AutoBanThreshold.
//   - emergency_mode and emergency_whitelist_only: Emergency.Enabled.
//     emergency_whitelist: the single addresses of Allow and Emergency.Allow (clients
//     compare exact strings, no CIDR; prefixes are noted). Python clients cannot leave
//     emergency mode (§9.4): RulesWarnings says so when a policy lifts it.
//   - ttl: RulesTTL; expires_at, message and the enable_* toggles: null.
//
// Policy fields with no counterpart (rules other than User-Agent blocks, scores,
// thresholds, challenges, honeypots, bots, logins, signups, monitor mode) are not sent;
// the ones an operator might expect to apply are noted.
func RenderRules(p policy.Policy, bans []Ban, version int64, o RulesOptions) (r *DynamicRules, notes []string) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	prev := o.Previous
	if prev == nil {
		prev = &DynamicRules{}
	}
	eff := p.WithDefaults()
	r = &DynamicRules{
		RuleID:                o.RuleID,
		Version:               version,
		Timestamp:             now.UTC(),
		TTL:                   RulesTTL,
		IPBlacklist:           []string{},
		IPWhitelist:           []string{},
		BlockedCountries:      []string{},
		WhitelistCountries:    []string{},
		EndpointRateLimits:    map[string][2]int64{},
		BlockedCloudProviders: []string{},
		BlockedUserAgents:     []string{},
		SuspiciousPatterns:    []string{},
		EmergencyWhitelist:    []string{},
	}
	if r.RuleID == "" {
		r.RuleID = DefaultRuleID
	}
	if p.Mode == policy.ModeMonitor {
		note("monitor mode cannot be sent: guard-agent clients enforce the bans and lists they receive")
	}

	// Bans and the deny list.
	allow := prefixes(p.Allow)
	allowed := func(pfx netip.Prefix) bool {
		for _, a := range allow {
			if a.Bits() <= pfx.Bits() && a.Contains(pfx.Addr()) {
				return true
			}
		}
		return false
	}
	black := map[string]bool{}
	var lifted []string
	var longest int64
	permanent := false
	add := func(pfx netip.Prefix, until time.Time) {
		if allowed(pfx) {
			return
		}
		black[prefixString(pfx)] = true
		if until.IsZero() {
			permanent = true
		} else {
			longest = max(longest, ceilSeconds(until.Sub(now)))
		}
	}
	for _, s := range p.Deny {
		if pfx, ok := parsePrefix(s); ok {
			add(pfx, time.Time{})
		} else {
			note("deny entry %q is not an address or prefix: not sent", s)
		}
	}
	dna := 0
	for _, b := range bans {
		switch b.Kind {
		case "ip", "cidr":
			pfx, ok := parsePrefix(b.Value)
			if !ok {
				note("%s ban %q is not an address or prefix: not sent", b.Kind, b.Value)
				continue
			}
			if !b.Until.IsZero() && !b.Until.After(now) {
				if pfx.IsSingleIP() {
					lifted = append(lifted, pfx.Addr().String())
				}
				continue
			}
			add(pfx, b.Until)
		case "dna":
			dna++
		default:
			note("ban of unknown kind %q: not sent", b.Kind)
		}
	}
	if dna > 0 {
		note("%d DNA bans cannot be sent: guard-agent clients ban by address only", dna)
	}
	r.IPBlacklist = sortedKeys(black)
	switch {
	case permanent:
		r.IPBanDuration = PermanentBanDuration
	case longest > 0:
		r.IPBanDuration = longest
	default:
		r.IPBanDuration = int64(time.Duration(eff.Bans.TTL) / time.Second)
	}

	// Unbans: Allow's addresses, ended and lifted bans, and what left the ban list.
	white := map[string]bool{}
	unban := func(s string) {
		if pfx, ok := parsePrefix(s); ok && pfx.IsSingleIP() && !black[prefixString(pfx)] {
			white[prefixString(pfx)] = true
		}
	}
	for _, a := range allow {
		if a.IsSingleIP() {
			unban(a.Addr().String())
		}
	}
	for _, s := range lifted {
		unban(s)
	}
	for _, s := range o.Lifted {
		unban(s)
	}
	for _, s := range prev.IPBlacklist {
		unban(s)
	}
	r.IPWhitelist = sortedKeys(white)

	// Countries.
	r.BlockedCountries = countries(p.Geo.DenyCountries)
	if len(r.BlockedCountries) == 0 && len(prev.BlockedCountries) > 0 {
		r.BlockedCountries = []string{NoCountry}
	}
	r.WhitelistCountries = countries(p.Geo.AllowCountries)

	// Rate limits.
	if !p.RateLimit.PerIP.IsZero() || prev.GlobalRateLimit != nil {
		limit, window := perWindow(eff.RateLimit.PerIP)
		r.GlobalRateLimit, r.GlobalRateWindow = &limit, &window
	}
	if !p.RateLimit.PerIP.IsZero() && p.RateLimit.PerIP.Burst != 0 {
		note("the per-IP burst cannot be sent: guard-agent clients count requests per fixed window")
	}
	for _, rt := range p.Routes {
		if rt.RateLimit.IsZero() {
			continue
		}
		if len(rt.Methods) > 0 {
			note("route %q limits some methods only: its rate limit is not sent (guard-agent clients limit every method of a path)", routeName(rt))
			continue
		}
		for _, path := range rt.Paths {
			if !exactPath(path) {
				note("route %q path %q is a pattern: its rate limit is not sent (guard-agent clients limit exact paths)", routeName(rt), path)
				continue
			}
			limit, window := perWindow(rt.RateLimit)
			r.EndpointRateLimits[path] = [2]int64{limit, window}
		}
	}
	if len(r.EndpointRateLimits) == 0 && len(prev.EndpointRateLimits) > 0 {
		r.EndpointRateLimits[NoEndpointPath] = [2]int64{NoEndpointLimit, 1}
	}

	// User-Agent blocks.
	other := 0
	for _, rule := range p.Rules {
		if re, ok := userAgentBlock(rule); ok {
			r.BlockedUserAgents = append(r.BlockedUserAgents, re)
		} else {
			other++
		}
	}
	if other > 0 {
		note("%d rules are not sent: guard-agent clients can only be given rules that block by User-Agent", other)
	}
	if len(r.BlockedUserAgents) == 0 && len(prev.BlockedUserAgents) > 0 {
		r.BlockedUserAgents = []string{NoUserAgent}
	}

	// Bans.
	if p.Bans.TTL != 0 || prev.AutoBanDuration != nil {
		d := int64(time.Duration(eff.Bans.TTL) / time.Second)
		r.AutoBanDuration = &d
	}
	if o.AutoBanThreshold > 0 {
		t := int64(o.AutoBanThreshold)
		r.AutoBanThreshold = &t
	}

	// Emergency.
	if p.Emergency.Enabled {
		r.EmergencyMode, r.EmergencyWhitelistOnly = true, true
		ew := map[string]bool{}
		for _, list := range [][]string{p.Allow, p.Emergency.Allow} {
			for _, s := range list {
				pfx, ok := parsePrefix(s)
				switch {
				case !ok:
				case pfx.IsSingleIP():
					ew[pfx.Addr().String()] = true
				default:
					note("emergency allow-list prefix %s cannot be sent: guard-agent clients compare single addresses only", s)
				}
			}
		}
		r.EmergencyWhitelist = sortedKeys(ew)
	}
	return r, notes
}

// RulesWarnings lists what a change from the document prev to next cannot do on Python
// clients (§9), for the rules editor to show before the change is made. It is empty
// when prev is nil or the change takes full effect.
func RulesWarnings(prev, next *DynamicRules) []string {
	if prev == nil {
		return nil
	}
	var w []string
	if prev.EmergencyMode && !next.EmergencyMode {
		w = append(w, "emergency mode cannot be lifted on guard-agent (Python) clients: they stay in lockdown until the application restarts")
	}
	if prev.EmergencyMode && next.EmergencyMode && next.AutoBanThreshold == nil {
		w = append(w, "while emergency mode lasts, every new rules version halves the Python clients' auto-ban threshold again; set an auto-ban threshold to keep it stable")
	}
	if len(prev.WhitelistCountries) > 0 && len(next.WhitelistCountries) == 0 {
		w = append(w, "the country allow-list cannot be cleared on Python clients: they keep allowing only "+strings.Join(prev.WhitelistCountries, ", ")+" until the application restarts")
	}
	var stuck []string
	for _, s := range prev.IPBlacklist {
		if !slices.Contains(next.IPBlacklist, s) && !slices.Contains(next.IPWhitelist, s) {
			stuck = append(stuck, s)
		}
	}
	if len(stuck) > 0 {
		w = append(w, strings.Join(stuck, ", ")+" left the ban list but stay banned on Python clients until their ban duration ends: clients unban single addresses only")
	}
	realBlocked := len(next.BlockedCountries) > 0 && !slices.Equal(next.BlockedCountries, []string{NoCountry})
	changed := !slices.Equal(prev.BlockedCountries, next.BlockedCountries) || !slices.Equal(prev.WhitelistCountries, next.WhitelistCountries)
	if changed && (realBlocked || len(next.WhitelistCountries) > 0) {
		w = append(w, "country rules take effect only on Python clients that have a geo handler or an IPInfo token; the others ignore them")
	}
	return w
}

// perWindow expresses a limit as a count per whole number of seconds: the window is the
// period rounded up to a second, the count scaled to it (at least 1).
func perWindow(l policy.Limit) (limit, window int64) {
	period := time.Duration(l.Period)
	window = max(ceilSeconds(period), 1)
	if period <= 0 {
		return max(int64(l.Rate), 1), window
	}
	limit = int64(float64(l.Rate) * float64(time.Duration(window)*time.Second) / float64(period))
	return max(limit, 1), window
}

// parsePrefix parses an address or CIDR prefix in the forms policy.Validate accepts,
// masked and with IPv4-mapped addresses unmapped.
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), true
}

// sortedKeys returns the set's members sorted, never nil.
func sortedKeys(set map[string]bool) []string {
	out := slices.Sorted(maps.Keys(set))
	if out == nil {
		out = []string{}
	}
	return out
}

func prefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, ok := parsePrefix(s); ok {
			out = append(out, p)
		}
	}
	return out
}

// prefixString writes a one-address prefix as the bare address, as clients expect.
func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func countries(list []string) []string {
	set := map[string]bool{}
	for _, c := range list {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			set[c] = true
		}
	}
	return sortedKeys(set)
}

func exactPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.Contains(p, "*") && (p == "/" || !strings.HasSuffix(p, "/"))
}

func routeName(rt policy.Route) string {
	if rt.Name != "" {
		return rt.Name
	}
	return strings.Join(rt.Paths, ",")
}

// userAgentBlock reports whether rule only blocks by User-Agent, and its regex.
func userAgentBlock(rule policy.Rule) (string, bool) {
	m := rule.Match
	if rule.Action != policy.ActionBlock || len(m.Headers) != 1 || m.Not != nil {
		return "", false
	}
	rest := m
	rest.Headers = nil
	if !rest.IsZero() {
		return "", false
	}
	for name, re := range m.Headers {
		if strings.EqualFold(name, "User-Agent") && re != "" {
			return re, true
		}
	}
	return "", false
}
