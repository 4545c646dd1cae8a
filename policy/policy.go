// Package policy defines Vigil's policy: the versioned rule document that the guard, the
// telemetry agent, Studio and the CLI share.
//
// A Policy is plain data. [Parse] reads it from YAML or JSON (strictly: an unknown key is
// an error that names its line), [Policy.Validate] reports every problem at once, and
// [Policy.YAML] and [Policy.JSON] write it back; both forms use the same snake_case field
// names, and a valid policy survives the round trip unchanged. The guard compiles a policy
// into its fast form once, when the policy is set, and swaps it atomically.
//
// Every field's zero value is a safe default, documented on the field; [Default] returns
// the zero policy with those defaults written out, which is the effective policy of an
// empty file. Nil and empty lists and maps mean the same everywhere.
//
// # Paths
//
// Every path pattern in a policy (exclude_paths, honeypot paths, rule and route paths)
// uses the same glob syntax and is matched against the request path after it has been
// percent-decoded once and cleaned (dot segments and repeated slashes removed):
//
//   - "*" matches any run of characters within one segment ("/static/*.css").
//   - "**" as a whole segment matches zero or more segments ("/api/**", "/**/.env").
//   - A pattern ending in "/" matches that directory and everything below it: "/.git/" is
//     "/.git/**". The pattern "/" alone matches only the root.
//   - Anything else matches itself exactly (for letter case, see below).
//
// A request whose path is not in canonical form (it used dot segments, repeated slashes,
// backslashes or percent-encoded "/", "." or unreserved characters) is matched by its
// cleaned form but is never relaxed by its path: it is not excluded, a route override
// applies only where it is stricter, and allow rules that test the path do not fire. An
// application's router may read such a path differently from Vigil, and that difference
// must not open a way around the checks.
//
// Case is treated the same way, because some routers (Express by default, ASP.NET, IIS)
// ignore it: "/ADMIN/users" reaches the "/admin/users" handler. Patterns that tighten
// match ignoring ASCII case: honeypot paths, and the paths of rules that score, block,
// challenge or rate-limit, so a block rule on "/admin/**" also blocks "/Admin/users".
// Patterns that relax match only in exact case: exclude_paths, the paths of allow
// rules, and a "not" that would let a request escape a tightening rule. A route is
// chosen ignoring case, but a path that matches it only ignoring case ("/WEBHOOKS/x"
// for "/webhooks/**") gets only the route's stricter settings, as a path that is not
// canonical does.
package policy

import (
	"time"
)

// Mode says whether the guard enforces its decisions.
type Mode string

// The modes. The zero value, "", means ModeBlock.
const (
	// ModeBlock enforces every decision: blocks, challenges and rate limits take effect.
	ModeBlock Mode = "block"
	// ModeMonitor decides every request as in ModeBlock but lets it through; the
	// verdict and the event carry the action that would have been taken.
	ModeMonitor Mode = "monitor"
)

// Action is what a matching [Rule] does to a request beyond adding its score.
type Action string

// The actions. The zero value, "", only adds the rule's score.
const (
	// ActionAllow lets the request through whatever its score. The deny list, bans and
	// honeypot paths still apply: they are checked before any rule.
	ActionAllow Action = "allow"
	// ActionBlock blocks the request whatever its score.
	ActionBlock Action = "block"
	// ActionChallenge sends the client a challenge (a proof-of-work page) unless it
	// already holds a valid challenge cookie.
	ActionChallenge Action = "challenge"
	// ActionRateLimit counts matching requests in a bucket of the rule's own, with the
	// rule's RateLimit, per the rule's Key, and answers 429 past the limit.
	ActionRateLimit Action = "ratelimit"
)

// Defaults applied by [Policy.WithDefaults] to zero fields.
const (
	DefaultBlockThreshold = 80
	DefaultBanTTL         = Duration(time.Hour)
	DefaultBanMaxTTL      = Duration(24 * time.Hour)
	DefaultBanWindow      = Duration(24 * time.Hour)
	DefaultAdaptiveScore  = 40
	DefaultAdaptiveFactor = 0.25
)

// DefaultPerIP is the per-IP rate limit used when RateLimits.PerIP is zero: 600 requests
// a minute with bursts of 100, generous enough that browsing a site never trips it (a
// page with its assets is dozens of requests; compare rennf93/fastapi-guard#4, where a
// default of 10 a minute banned people reading the docs).
func DefaultPerIP() Limit {
	return Limit{Rate: 600, Period: Duration(time.Minute), Burst: 100}
}

// Policy is the rule document. The zero value is a complete, safe policy: enforcing, block
// threshold 80, built-in honeypot paths on, 600 requests a minute per IP, no rules. A
// Policy is a value: copy it freely, but its slices and maps are shared by copies, so do
// not modify a policy that another goroutine may be reading (the guard compiles its own
// form and never reads the Policy again).
type Policy struct {
	// Version orders policies pushed by Studio: an instance never replaces a policy with
	// one of a lower version. Zero, for local files, is lower than every Studio version.
	Version int64 `json:"version,omitempty" yaml:"version,omitempty"`
	// Mode is ModeBlock (also the zero value) or ModeMonitor.
	Mode Mode `json:"mode,omitempty" yaml:"mode,omitempty"`
	// BlockThreshold blocks a request whose combined score is at least this, 1–100.
	// Zero means DefaultBlockThreshold (80).
	BlockThreshold int `json:"block_threshold,omitempty" yaml:"block_threshold,omitempty"`
	// ChallengeThreshold challenges a request whose combined score is at least this
	// and below BlockThreshold, 1–100: a browser navigation gets a proof-of-work page,
	// any other request 403 with X-Vigil-Action: challenge. A client that solved a
	// challenge recently is let through. Zero challenges only where a rule says so.
	ChallengeThreshold int `json:"challenge_threshold,omitempty" yaml:"challenge_threshold,omitempty"`
	// ExcludePaths lists path patterns that skip every check, such as health checks and
	// static assets. Only canonical paths that match in exact case are excluded (see
	// the package doc): "/HEALTHZ" is not excluded by "/healthz". Empty excludes nothing.
	ExcludePaths []string `json:"exclude_paths,omitempty" yaml:"exclude_paths,omitempty"`
	// Methods lists the request methods the application serves, in exact case
	// ("PROPFIND" for a WebDAV server). A request with any other method gets the
	// attack signal method_not_allowed (score 90, so it is blocked at the default
	// threshold); a route can disable the code. Empty means DefaultMethods: GET, HEAD,
	// POST, PUT, PATCH, DELETE and OPTIONS — not TRACE (cross-site tracing), CONNECT
	// (tunnels, which no application behind Vigil serves) or made-up methods.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	// Allow lists IP addresses and CIDR prefixes ("203.0.113.7", "10.0.0.0/8") that skip
	// every check. It is checked before Deny, so an address in both is allowed, and
	// Validate rejects a Deny entry that lies inside an Allow entry because it could
	// never apply. Empty allows nobody specially.
	Allow []string `json:"allow,omitempty" yaml:"allow,omitempty"`
	// Deny lists IP addresses and CIDR prefixes that are always blocked. Empty denies
	// nobody specially.
	Deny []string `json:"deny,omitempty" yaml:"deny,omitempty"`
	// Emergency is a lockdown an operator switches on during an incident and off after
	// it: while enabled, every client not on Allow or Emergency.Allow is refused with
	// 503. It is reversible like every other field: a policy without it lifts it. The
	// zero value is no lockdown.
	Emergency Emergency `json:"emergency,omitzero" yaml:"emergency,omitempty"`
	// Honeypot configures bait paths. The zero value uses the built-in paths.
	Honeypot Honeypot `json:"honeypot,omitzero" yaml:"honeypot,omitempty"`
	// Bans configures how long bans last. The zero value bans for 1 hour, doubling for
	// repeat offenders up to 24 hours.
	Bans Bans `json:"bans,omitzero" yaml:"bans,omitempty"`
	// RateLimit configures the built-in rate limits. The zero value limits each IP to
	// DefaultPerIP, tightened adaptively for suspicious clients.
	RateLimit RateLimits `json:"rate_limit,omitzero" yaml:"rate_limit,omitempty"`
	// Signups checks the e-mail addresses submitted to signup endpoints. The zero value
	// checks none.
	Signups Signups `json:"signups,omitzero" yaml:"signups,omitempty"`
	// Logins protects login endpoints against credential stuffing and password
	// spraying. The zero value protects none.
	Logins Logins `json:"logins,omitzero" yaml:"logins,omitempty"`
	// Geo decides by the client's country and network, when the guard has a GeoIP
	// database (vigil.Config.Geo). The zero value allows every country and scores
	// hosting networks with hosting_network (see Geo).
	Geo Geo `json:"geo,omitzero" yaml:"geo,omitempty"`
	// Bots configures bot handling by category. The zero value blocks no category
	// outright (bot findings still add to the score) and verifies crawlers.
	Bots Bots `json:"bots,omitzero" yaml:"bots,omitempty"`
	// Weights scales findings by Code before they are combined: the combined score is
	// 1 − Π(1 − wᵢ·sᵢ/100), with each wᵢ·sᵢ capped at 100. A code that is not listed
	// has weight 1; weight 0 turns the code off. Weights range from 0 to 100. Rule
	// findings have the code "rule:" + the rule's name.
	Weights map[string]float64 `json:"weights,omitempty" yaml:"weights,omitempty"`
	// Rules are custom rules, evaluated in order (see Rule). Empty has none.
	Rules []Rule `json:"rules,omitempty" yaml:"rules,omitempty"`
	// Routes are per-route overrides (see Route). Empty has none.
	Routes []Route `json:"routes,omitempty" yaml:"routes,omitempty"`
	// KnownClients is an overlay on Vigil's built-in known-clients table, the data
	// that maps TLS, HTTP/2 and header-order fingerprints to client families: new
	// browser releases are added here without a new binary. It is a document in the
	// table's format (docs/dna.md, "Known clients"), such as
	//
	//	known_clients:
	//	  version: 1
	//	  families:
	//	    - name: chrome
	//	      extend: true
	//	      ja4: [{value: t13d1517h2_8daaf6152771_0123456789ab, source: "measured 2026-12"}]
	//
	// Entries replace the built-in ones of the same name, or add to them with
	// "extend: true". Nil keeps the built-in table.
	KnownClients Document `json:"known_clients,omitempty" yaml:"known_clients,omitempty"`
}

// Emergency is the lockdown switch. While Enabled, the guard answers every request
// with 503 and Retry-After unless the client is on the policy's Allow list or on
// Emergency.Allow, or the path is excluded (ExcludePaths: health checks keep working).
// Nothing else is evaluated for refused requests, so the lockdown costs less than
// normal traffic.
type Emergency struct {
	Enabled bool `json:"enabled,omitempty" yaml:"enabled,omitempty"`
	// Allow lists IP addresses and CIDR prefixes that pass during the lockdown (and are
	// then checked as usual). Empty: only the policy's Allow list passes.
	Allow []string `json:"allow,omitempty" yaml:"allow,omitempty"`
}

// Honeypot configures bait paths: paths no real client asks for, so that a request for
// one is proof of scanning. The guard blocks the request, bans the client and records an
// event. Honeypot paths are matched case-insensitively ("/.ENV" is "/.env"), against the
// cleaned path, so "//.env", "/./.env" and "/%2e%65nv" are all "/.env".
//
// The zero value uses [DefaultHoneypotPaths]. An application that really serves one of
// them (a WordPress site serves /wp-login.php) lists it in Except.
type Honeypot struct {
	// Disabled turns honeypot paths off entirely. False (the zero value) keeps them on.
	Disabled bool `json:"disabled,omitempty" yaml:"disabled,omitempty"`
	// SkipDefaults leaves out the built-in paths so that only Paths are used. False
	// (the zero value) includes them.
	SkipDefaults bool `json:"skip_defaults,omitempty" yaml:"skip_defaults,omitempty"`
	// Paths are bait path patterns added to the built-in ones. Empty adds none.
	Paths []string `json:"paths,omitempty" yaml:"paths,omitempty"`
	// Except lists built-in paths, as DefaultHoneypotPaths spells them but in any case,
	// that the application serves and that must not be bait. Empty removes none. An
	// entry that is not a built-in path is ignored, so that a policy stays valid when
	// the built-in list changes.
	Except []string `json:"except,omitempty" yaml:"except,omitempty"`
	// BanTTL is how long a honeypot hit bans the client. Zero bans for the escalating
	// duration set by Bans, as for any other ban.
	BanTTL Duration `json:"ban_ttl,omitempty" yaml:"ban_ttl,omitempty"`
}

// Bans configures ban lengths. A client's n-th ban within Window lasts TTL·2ⁿ⁻¹, capped
// at MaxTTL; bans older than Window are forgotten. The zero value gives 1 h, 2 h, 4 h, …
// up to 24 h, over a 24 h window.
type Bans struct {
	// TTL is the length of a first ban. Zero means DefaultBanTTL (1 h).
	TTL Duration `json:"ttl,omitempty" yaml:"ttl,omitempty"`
	// MaxTTL caps escalated bans; it must be at least TTL. Zero means DefaultBanMaxTTL
	// (24 h), or TTL if that is longer.
	MaxTTL Duration `json:"max_ttl,omitempty" yaml:"max_ttl,omitempty"`
	// Window is how long a ban counts towards escalation. Zero means DefaultBanWindow
	// (24 h).
	Window Duration `json:"window,omitempty" yaml:"window,omitempty"`
}

// Length returns how long the n-th ban of a client within Window lasts, n ≥ 1, applying
// the defaults for zero fields, for a Bans that Validate accepts. An n below 1 counts as 1.
func (b Bans) Length(n int) time.Duration {
	b = b.withDefaults()
	d, maxTTL := time.Duration(b.TTL), time.Duration(b.MaxTTL)
	for i := 1; i < n && d < maxTTL; i++ {
		if d > maxTTL/2 {
			return maxTTL
		}
		d *= 2
	}
	return min(d, maxTTL)
}

// RateLimits configures the built-in rate limits, which apply to every request that is
// not excluded or allowed. Rules with ActionRateLimit add limits of their own.
type RateLimits struct {
	// PerIP limits requests per client IP address.
	// Zero means DefaultPerIP (600 a minute, burst 100).
	PerIP Limit `json:"per_ip,omitzero" yaml:"per_ip,omitempty"`
	// PerDNA limits requests per request fingerprint (DNA), across addresses. Zero
	// turns the per-DNA limit off.
	PerDNA Limit `json:"per_dna,omitzero" yaml:"per_dna,omitempty"`
	// Adaptive tightens the limits for suspicious clients. The zero value is on.
	Adaptive Adaptive `json:"adaptive,omitzero" yaml:"adaptive,omitempty"`
}

// Adaptive scales rate limits down for clients whose score, although below the block
// threshold, is high: a client scoring at least Score gets every limit's Rate and Burst
// multiplied by Factor. The zero value is on, with Score 40 and Factor 0.25.
type Adaptive struct {
	// Disabled turns adaptive limits off. False (the zero value) keeps them on.
	Disabled bool `json:"disabled,omitempty" yaml:"disabled,omitempty"`
	// Score is the score, 1–100, from which limits are scaled. Zero means
	// DefaultAdaptiveScore (40).
	Score int `json:"score,omitempty" yaml:"score,omitempty"`
	// Factor is the scale, greater than 0 and at most 1. Zero means
	// DefaultAdaptiveFactor (0.25).
	Factor float64 `json:"factor,omitempty" yaml:"factor,omitempty"`
}

// Bots configures what happens to clients by bot category, as classified by the bot
// detector (for example "search", "monitor", "ai", "automation", "scanner"). A category
// in neither list is scored like any other client.
type Bots struct {
	// Block lists categories whose requests are blocked outright. Empty blocks no
	// category outright.
	Block []string `json:"block,omitempty" yaml:"block,omitempty"`
	// Allow lists categories whose requests skip scoring. A crawler counts as being in
	// its category only once verified (reverse and forward DNS) unless SkipVerify is
	// set. Empty allows no category specially.
	Allow []string `json:"allow,omitempty" yaml:"allow,omitempty"`
	// SkipVerify trusts a crawler's claimed identity (its User-Agent) without DNS
	// verification. Anyone can claim to be a search engine, so with SkipVerify an
	// allowed category is open to everyone. False (the zero value) verifies.
	SkipVerify bool `json:"skip_verify,omitempty" yaml:"skip_verify,omitempty"`
}

// Signups configures signup protection: on a POST to one of Paths the guard reads the
// JSON, form or multipart body (within the guard's body bound), finds the e-mail address
// in the first of EmailFields present and the phone number in the first of PhoneFields,
// analyses them (package fraud: syntax, canonical form, disposable, free, role, and with
// CheckMX the domain's MX; for phones, when vigil.Config.Phones is set, validity, type
// and the number's country against the client IP's) and restores the body. The reports
// go into Verdict.Enrichment.Email and .Phone, where the handler finds the canonical
// address and the E.164 number; their risk becomes findings (email_disposable scores 80,
// so a throwaway address is blocked at the default threshold, or challenged with a
// challenge threshold below it; phone findings score 20–60).
type Signups struct {
	// Paths lists the signup endpoints' path patterns. Empty checks nothing.
	Paths []string `json:"paths,omitempty" yaml:"paths,omitempty"`
	// EmailFields are the fields that may hold the address. Default ["email",
	// "email_address", "mail", "username"].
	EmailFields []string `json:"email_fields,omitempty" yaml:"email_fields,omitempty"`
	// PhoneFields are the fields that may hold a phone number, analysed when the guard
	// has a phone analyzer (vigil.Config.Phones). Default ["phone", "phone_number",
	// "mobile", "tel", "telephone"].
	PhoneFields []string `json:"phone_fields,omitempty" yaml:"phone_fields,omitempty"`
	// CheckMX looks the domain's MX (then A/AAAA) up in DNS, with a short timeout and a
	// cache. False (the default) decides from the address alone.
	CheckMX bool `json:"check_mx,omitempty" yaml:"check_mx,omitempty"`
}

// Geo configures decisions by the client IP's country and network. They need a GeoIP
// database in the guard's configuration (vigil.Config.Geo): without one the country is
// unknown and no country rule applies. Countries are ISO 3166-1 alpha-2 codes ("DE",
// "US"), matched ignoring case.
//
// A request from a country in DenyCountries, or, when AllowCountries is not empty, from
// a known country not in it, gets a country_blocked finding of 100 (detector "geo"), so
// it is blocked at any threshold unless a rule allows it; the weights can soften it. A
// request whose country is unknown (no database entry, a private address) is never
// blocked by country.
//
// A client on a hosting network — a datacenter ASN or a published cloud range — gets a
// hosting_network finding of 30: people browse from homes and phones, automation runs
// in datacenters, but so do API clients, VPNs and corporate proxies, so alone it only
// adds weight to other evidence. Verified crawlers do not get it. A route override turns
// both off with disable: [geo].
type Geo struct {
	// AllowCountries, when not empty, is the only countries served.
	AllowCountries []string `json:"allow_countries,omitempty" yaml:"allow_countries,omitempty"`
	// DenyCountries are countries never served.
	DenyCountries []string `json:"deny_countries,omitempty" yaml:"deny_countries,omitempty"`
}

// Logins configures credential-stuffing and password-spraying protection. Login
// attempts are POST requests to Paths; an attempt failed when the application answered
// with one of FailureStatuses. Failures are counted in the guard's Store (so across
// instances with a shared store) within Window, per client IP, per username and per
// client DNA; usernames are kept only as SHA-256 prefixes. The guard then blocks further
// attempts, and bans the IP, when:
//
//   - one IP failed MaxFailuresPerIP times, or with MaxUsernamesPerIP distinct
//     usernames (stuffing or spraying from one address);
//   - one client DNA failed with MaxUsernamesPerDNA distinct usernames, however many
//     IPs it rotates through (only attempts from that DNA are blocked; a DNA is not
//     banned, because a browser build's DNA is shared by many people; for the same
//     reason a browser DNA computed from the request alone gets ten times the limit);
//   - one username failed from MaxIPsPerUsername distinct IPs (attempts on that
//     username get an account_targeted finding of 60, under the default threshold: its
//     owner may be among them).
//
// A distributed attack keeps every address under those limits, so the guard also
// watches the site's failure rate: when the failed logins of the last minute reach
// SpikeFailures and SpikeFactor times the previous hour's rate per minute (and the share
// of attempts that fail has risen, so a flash crowd is not an attack), every login
// attempt gets a login_failure_spike finding of 50 — challenged with a challenge
// threshold at or below 50, blocked when other evidence adds up — and the per-IP and
// per-DNA limits are divided by SpikeDivisor until the rate falls. The counts are in
// the Store, so the rate is the whole site's. Usernames that are e-mail addresses are
// counted by their canonical form (J.o.h.n+1@gmail.com is john@gmail.com).
//
// A route override turns it off with disable: [stuffing].
//
// Zero values take the defaults shown on each field.
type Logins struct {
	// Paths lists the login endpoints' path patterns. Empty protects nothing.
	Paths []string `json:"paths,omitempty" yaml:"paths,omitempty"`
	// FailureStatuses are the answers that mean a failed login. Default [401, 403].
	FailureStatuses []int `json:"failure_statuses,omitempty" yaml:"failure_statuses,omitempty"`
	// UsernameFields are the JSON or form fields that hold the username. Default
	// ["username", "email", "login", "user", "user_name"].
	UsernameFields []string `json:"username_fields,omitempty" yaml:"username_fields,omitempty"`
	// Window is how long failures are remembered. Default 1h.
	Window Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// MaxFailuresPerIP defaults to 20, MaxUsernamesPerIP to 10, MaxUsernamesPerDNA to
	// 10, MaxIPsPerUsername to 5.
	MaxFailuresPerIP   int `json:"max_failures_per_ip,omitempty" yaml:"max_failures_per_ip,omitempty"`
	MaxUsernamesPerIP  int `json:"max_usernames_per_ip,omitempty" yaml:"max_usernames_per_ip,omitempty"`
	MaxUsernamesPerDNA int `json:"max_usernames_per_dna,omitempty" yaml:"max_usernames_per_dna,omitempty"`
	MaxIPsPerUsername  int `json:"max_ips_per_username,omitempty" yaml:"max_ips_per_username,omitempty"`
	// SpikeFailures defaults to 50 failed logins a minute, SpikeFactor to 5 times the
	// previous hour's rate, SpikeDivisor to 2 (1 keeps the limits during a spike).
	SpikeFailures int `json:"spike_failures,omitempty" yaml:"spike_failures,omitempty"`
	SpikeFactor   int `json:"spike_factor,omitempty" yaml:"spike_factor,omitempty"`
	SpikeDivisor  int `json:"spike_divisor,omitempty" yaml:"spike_divisor,omitempty"`
}

// WithDefaults returns l with every zero field set to its default.
func (l Logins) WithDefaults() Logins {
	if len(l.FailureStatuses) == 0 {
		l.FailureStatuses = []int{401, 403}
	}
	if len(l.UsernameFields) == 0 {
		l.UsernameFields = []string{"username", "email", "login", "user", "user_name"}
	}
	if l.Window == 0 {
		l.Window = Duration(time.Hour)
	}
	if l.MaxFailuresPerIP == 0 {
		l.MaxFailuresPerIP = 20
	}
	if l.MaxUsernamesPerIP == 0 {
		l.MaxUsernamesPerIP = 10
	}
	if l.MaxUsernamesPerDNA == 0 {
		l.MaxUsernamesPerDNA = 10
	}
	if l.SpikeFailures == 0 {
		l.SpikeFailures = 50
	}
	if l.SpikeFactor == 0 {
		l.SpikeFactor = 5
	}
	if l.SpikeDivisor == 0 {
		l.SpikeDivisor = 2
	}
	if l.MaxIPsPerUsername == 0 {
		l.MaxIPsPerUsername = 5
	}
	return l
}

// Rule is a custom rule. Every rule whose Match matches a request adds a finding
// {Detector: "rule", Code: "rule:" + Name, Score: Score}. Of the matching rules with an
// Action, the first in document order decides the action; later matching rules still add
// their scores. Order rules from most to least specific.
type Rule struct {
	// Name identifies the rule in findings, events and logs: 1–64 letters, digits, "_",
	// "-" or ".", unique within the policy. Required.
	Name string `json:"name" yaml:"name"`
	// Match says which requests the rule applies to. It must test at least one thing:
	// to match every request, use paths: ["/**"].
	Match Match `json:"match" yaml:"match"`
	// Score, 0–100, is the score of the rule's finding. Zero adds no finding. A rule
	// needs a Score or an Action.
	Score int `json:"score,omitempty" yaml:"score,omitempty"`
	// Action is what the rule does besides scoring. The zero value only scores.
	Action Action `json:"action,omitempty" yaml:"action,omitempty"`
	// RateLimit is the limit of an ActionRateLimit rule (required there, and not
	// allowed with other actions).
	RateLimit Limit `json:"rate_limit,omitzero" yaml:"rate_limit,omitempty"`
	// Key says what an ActionRateLimit rule counts by: "ip" (the zero value), "dna",
	// "header:<name>", "cookie:<name>" or "query:<name>" (by the first value). A
	// request that lacks the named header, cookie or query parameter, or sends it
	// empty, is counted by IP instead, so leaving it out does not escape the limit. Not
	// allowed with other actions.
	Key string `json:"key,omitempty" yaml:"key,omitempty"`
}

// Match selects requests. Every field that is set must match (and); within a list, any
// entry may match (or). A field left empty matches every request.
type Match struct {
	// Methods lists HTTP methods, compared case-insensitively.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	// Paths lists path patterns (see the package doc). In a rule that scores, blocks,
	// challenges or rate-limits they match ignoring ASCII case, and in its Not only in
	// exact case; in an allow rule it is the other way round.
	Paths []string `json:"paths,omitempty" yaml:"paths,omitempty"`
	// Query maps a query parameter name (case-sensitive) to an RE2 regular expression.
	// Each named parameter must be present and, unless its expression is "", have a
	// decoded value that the expression matches somewhere (anchor it with ^ and $ to
	// match the whole value); with several values, any may match.
	Query map[string]string `json:"query,omitempty" yaml:"query,omitempty"`
	// Headers is Query for request headers; names are case-insensitive. "Host" tests
	// the request's host.
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// Cookies is Query for cookies; names are case-sensitive.
	Cookies map[string]string `json:"cookies,omitempty" yaml:"cookies,omitempty"`
	// IPs lists client IP addresses and CIDR prefixes.
	IPs []string `json:"ips,omitempty" yaml:"ips,omitempty"`
	// Countries lists ISO 3166-1 alpha-2 country codes of the client address, compared
	// case-insensitively. A request whose country is unknown matches none.
	Countries []string `json:"countries,omitempty" yaml:"countries,omitempty"`
	// ASNs lists autonomous system numbers of the client address. A request whose ASN
	// is unknown matches none.
	ASNs []uint32 `json:"asns,omitempty" yaml:"asns,omitempty"`
	// DNAFamilies lists client families recognised from the request DNA, such as
	// "chrome", "curl" or "python-requests", compared case-insensitively.
	DNAFamilies []string `json:"dna_families,omitempty" yaml:"dna_families,omitempty"`
	// DNAKinds lists kinds of client recognised from the request DNA: "browser",
	// "library", "crawler", "automation" or "scanner", compared case-insensitively.
	DNAKinds []string `json:"dna_kinds,omitempty" yaml:"dna_kinds,omitempty"`
	// BotCategories lists bot categories (see Bots), compared case-insensitively.
	BotCategories []string `json:"bot_categories,omitempty" yaml:"bot_categories,omitempty"`
	// Not, when set, excludes requests that it matches: the rule applies when the rest
	// of Match matches and Not does not. A Not may not have a Not of its own. Nil
	// excludes nothing. Note that unknown values never match, so "not: {countries:
	// [US]}" also applies to requests whose country is unknown.
	Not *Match `json:"not,omitempty" yaml:"not,omitempty"`
}

// IsZero reports whether m tests nothing and so would match every request.
func (m Match) IsZero() bool {
	return len(m.Methods) == 0 && len(m.Paths) == 0 && len(m.Query) == 0 &&
		len(m.Headers) == 0 && len(m.Cookies) == 0 && len(m.IPs) == 0 &&
		len(m.Countries) == 0 && len(m.ASNs) == 0 && len(m.DNAFamilies) == 0 &&
		len(m.DNAKinds) == 0 && len(m.BotCategories) == 0 && m.Not == nil
}

// Route overrides policy settings for some requests, chosen by method and path. When
// several routes match a request, the most specific applies: an exact path beats a
// pattern, then the pattern with more literal characters wins, then a route that lists
// methods beats one that does not, then the earlier route. Zero fields keep the policy's
// setting.
type Route struct {
	// Name labels the route in events and logs; optional, with the same characters as
	// a rule name.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Methods lists the HTTP methods the route applies to, compared
	// case-insensitively. Empty means every method.
	Methods []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	// Paths lists the path patterns the route applies to. Required. A path that
	// matches them only ignoring ASCII case gets only the route's stricter settings
	// (see the package doc).
	Paths []string `json:"paths" yaml:"paths"`
	// Mode overrides the policy's Mode on this route. The zero value keeps it.
	Mode Mode `json:"mode,omitempty" yaml:"mode,omitempty"`
	// BlockThreshold overrides the policy's BlockThreshold on this route, 1–100. Zero
	// keeps it.
	BlockThreshold int `json:"block_threshold,omitempty" yaml:"block_threshold,omitempty"`
	// Disable lists detectors (such as "attack" or "bot") and finding codes (such as
	// "sqli" or "rule:scanner-ua") that do not run or count on this route. Empty
	// disables nothing.
	Disable []string `json:"disable,omitempty" yaml:"disable,omitempty"`
	// RateLimit replaces the per-IP limit on this route: requests to the route are
	// counted per client IP in a bucket of their own, with this limit. Zero keeps the
	// policy's per-IP limit and bucket.
	RateLimit Limit `json:"rate_limit,omitzero" yaml:"rate_limit,omitempty"`
}

// Default returns the effective policy of an empty document: the zero Policy with every
// default written out. Honeypot paths are left implicit; [DefaultHoneypotPaths] lists
// them.
func Default() Policy {
	return Policy{}.WithDefaults()
}

// WithDefaults returns a copy of p in which every zero field that has a default holds it,
// so code that reads the policy need not know the defaults. It does not change what p
// means; Validate accepts the result whenever it accepts p.
// DefaultMethods are the request methods a policy without Methods allows.
func DefaultMethods() []string {
	return []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
}

func (p Policy) WithDefaults() Policy {
	if p.Mode == "" {
		p.Mode = ModeBlock
	}
	if p.BlockThreshold == 0 {
		p.BlockThreshold = DefaultBlockThreshold
	}
	p.Bans = p.Bans.withDefaults()
	if len(p.Logins.Paths) > 0 {
		p.Logins = p.Logins.WithDefaults()
	}
	if len(p.Signups.Paths) > 0 && len(p.Signups.EmailFields) == 0 {
		p.Signups.EmailFields = []string{"email", "email_address", "mail", "username"}
	}
	if len(p.Signups.Paths) > 0 && len(p.Signups.PhoneFields) == 0 {
		p.Signups.PhoneFields = []string{"phone", "phone_number", "mobile", "tel", "telephone"}
	}
	if p.RateLimit.PerIP.IsZero() {
		p.RateLimit.PerIP = DefaultPerIP()
	}
	if p.RateLimit.Adaptive.Score == 0 {
		p.RateLimit.Adaptive.Score = DefaultAdaptiveScore
	}
	if p.RateLimit.Adaptive.Factor == 0 {
		p.RateLimit.Adaptive.Factor = DefaultAdaptiveFactor
	}
	return p
}

func (b Bans) withDefaults() Bans {
	if b.TTL == 0 {
		b.TTL = DefaultBanTTL
	}
	if b.MaxTTL == 0 {
		b.MaxTTL = max(DefaultBanMaxTTL, b.TTL)
	}
	if b.Window == 0 {
		b.Window = DefaultBanWindow
	}
	return b
}
