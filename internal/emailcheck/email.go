package emailcheck

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// EmailConfig configures an EmailAnalyzer. The zero value is a working configuration:
// DNS look-ups through net.DefaultResolver with a 300 ms budget per address, a cache of
// 10,000 domains, and the embedded disposable list and allowlist. Resolver is not
// serialised; the other fields load from YAML or JSON.
type EmailConfig struct {
	// Offline turns DNS look-ups off: MXResult.Status is then LookupSkipped, and the
	// provider is found from the domain alone, so a Google Workspace domain is not
	// recognised. Off by default.
	Offline bool `json:"offline,omitempty" yaml:"offline,omitempty"`
	// LookupTimeout bounds the DNS work for one address (the MX look-up and its A/AAAA
	// fallback). When it runs out the result is unknown and the address is not
	// penalised: the check fails open. Zero means DefaultLookupTimeout (300 ms).
	LookupTimeout time.Duration `json:"lookup_timeout,omitempty" yaml:"lookup_timeout,omitempty"`
	// CacheSize bounds the number of domains whose look-up results are cached. Zero
	// means DefaultCacheSize (10,000).
	CacheSize int `json:"cache_size,omitempty" yaml:"cache_size,omitempty"`
	// PositiveTTL is how long a domain with MX or address records stays cached. Zero
	// means DefaultPositiveTTL (24 h).
	PositiveTTL time.Duration `json:"positive_ttl,omitempty" yaml:"positive_ttl,omitempty"`
	// NegativeTTL is how long a domain without records (no MX and no A/AAAA, a null MX
	// or a name that does not exist) stays cached. Zero means DefaultNegativeTTL (1 h).
	NegativeTTL time.Duration `json:"negative_ttl,omitempty" yaml:"negative_ttl,omitempty"`
	// UnknownTTL is how long a failed or timed-out look-up stays cached, so that a
	// domain whose servers do not answer costs one timeout per UnknownTTL rather than
	// one per address. Zero means DefaultUnknownTTL (1 min).
	UnknownTTL time.Duration `json:"unknown_ttl,omitempty" yaml:"unknown_ttl,omitempty"`
	// Disposable lists domains to treat as disposable in addition to the embedded list.
	// A listed domain also covers its subdomains up to the registrable domain.
	Disposable []string `json:"disposable,omitempty" yaml:"disposable,omitempty"`
	// Allow lists domains that are never disposable; it overrides every list.
	Allow []string `json:"allow,omitempty" yaml:"allow,omitempty"`

	// Resolver looks up MX and address records. Nil means net.DefaultResolver.
	Resolver Resolver `json:"-" yaml:"-"`
}

// An EmailAnalyzer checks e-mail addresses: syntax, canonical form, disposable, free and
// role addresses, and deliverability through DNS. It is safe for concurrent use. The
// zero EmailAnalyzer is ready to use and behaves as NewEmailAnalyzer(EmailConfig{}); an
// EmailAnalyzer must not be copied after first use.
type EmailAnalyzer struct {
	cfg EmailConfig // without the lists; zero fields mean the defaults

	cache dnsCache
	group singleflight.Group

	mu    sync.Mutex                 // serialises writers of lists
	lists atomic.Pointer[domainSets] // domains added and allowed at run time; nil = none

	now func() time.Time // nil means time.Now; tests set it
}

// NewEmailAnalyzer returns an analyzer configured by cfg. It checks the configuration
// and starts nothing.
func NewEmailAnalyzer(cfg EmailConfig) (*EmailAnalyzer, error) {
	if cfg.LookupTimeout < 0 || cfg.PositiveTTL < 0 || cfg.NegativeTTL < 0 || cfg.UnknownTTL < 0 {
		return nil, errors.New("fraud: negative duration in EmailConfig")
	}
	if cfg.CacheSize < 0 {
		return nil, errors.New("fraud: negative EmailConfig.CacheSize")
	}
	a := &EmailAnalyzer{cfg: cfg}
	a.cfg.Disposable, a.cfg.Allow = nil, nil
	if err := a.AddDisposable(cfg.Disposable...); err != nil {
		return nil, err
	}
	if err := a.AllowDomains(cfg.Allow...); err != nil {
		return nil, err
	}
	return a, nil
}

// AddDisposable marks domains (and their subdomains up to the registrable domain) as
// disposable, in addition to the embedded list and overriding the embedded allowlist.
// Domains allowed with AllowDomains or EmailConfig.Allow stay allowed. It returns an
// error, and adds nothing, if a domain is not a valid domain name. It is safe to call
// while addresses are being analysed; later analyses see the change.
func (a *EmailAnalyzer) AddDisposable(domains ...string) error {
	return a.extend(domains, true)
}

// AllowDomains marks domains (and their subdomains up to the registrable domain) as
// never disposable, overriding the embedded list and AddDisposable. It returns an
// error, and allows nothing, if a domain is not a valid domain name. It is safe to call
// while addresses are being analysed; later analyses see the change.
func (a *EmailAnalyzer) AllowDomains(domains ...string) error {
	return a.extend(domains, false)
}

// extend copies the run-time lists with domains added and publishes the copy.
func (a *EmailAnalyzer) extend(domains []string, block bool) error {
	if len(domains) == 0 {
		return nil
	}
	norm, err := normalizeDomains(domains)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	next := domainSets{block: map[string]struct{}{}, allow: map[string]struct{}{}}
	if cur := a.lists.Load(); cur != nil {
		for d := range cur.block {
			next.block[d] = struct{}{}
		}
		for d := range cur.allow {
			next.allow[d] = struct{}{}
		}
	}
	set := next.allow
	if block {
		set = next.block
	}
	for _, d := range norm {
		set[d] = struct{}{}
	}
	a.lists.Store(&next)
	return nil
}

// A Signal is one finding about an address or a group of addresses: a stable
// machine-readable code, the points it adds to a risk score, and a text for people.
// The package documentation lists the codes. Detail may quote the address; show it to
// operators, not to the person who typed it.
type Signal struct {
	Code   string `json:"code"`
	Score  int    `json:"score"`
	Detail string `json:"detail"`
}

// EmailReport is what AnalyzeEmail found about one address. It is a plain value that
// the caller owns; it serialises to JSON with snake_case names.
type EmailReport struct {
	// Input is the address as given.
	Input string `json:"input"`
	// Valid reports whether the address is syntactically acceptable. When it is not,
	// Invalid holds the code of the rule it breaks, RiskScore is 100, Local, Domain,
	// Canonical and Provider are empty, the flags are false and MX.Status is
	// LookupSkipped.
	Valid   bool   `json:"valid"`
	Invalid string `json:"invalid,omitempty"`
	// Local is the local part as typed (case and quotes kept).
	Local string `json:"local,omitempty"`
	// Domain is the domain lower-cased, in ASCII (IDNA), without a trailing dot.
	Domain string `json:"domain,omitempty"`
	// Canonical is the identity key: every spelling of one mailbox has the same
	// canonical form (see the package documentation). Use it to find duplicates and to
	// count, never to send mail: deliver to the address the user typed.
	Canonical string `json:"canonical,omitempty"`
	// Provider is the provider whose rules made Canonical.
	Provider Provider `json:"provider,omitempty"`
	// Disposable reports a throwaway-mailbox domain.
	Disposable bool `json:"disposable"`
	// Free reports a free consumer mailbox provider. It is informational (a consumer
	// address on a business form), never a fraud signal on its own.
	Free bool `json:"free"`
	// Role reports a local part that names a function (support, admin, noreply, ...)
	// rather than a person.
	Role bool `json:"role"`
	// MX is the domain's deliverability.
	MX MXResult `json:"mx"`
	// RiskScore is the sum of the Reasons' scores, at most 100.
	RiskScore int `json:"risk_score"`
	// Reasons explain the score and the flags, most important first.
	Reasons []Signal `json:"reasons"`
}

// Scores of the signals AnalyzeEmail reports.
const (
	scoreInvalid    = 100
	scoreDisposable = 80
	scoreNoMail     = 90 // null MX, or neither MX nor A/AAAA
	scoreImplicitMX = 10
	scoreRole       = 20
	scoreQuoted     = 20
	scoreUTF8       = 10
)

// AnalyzeEmail checks one address. It never fails: a syntax error is a report with
// Valid false, and a DNS failure is a report whose MX status is unknown, with a signal
// that says so and adds nothing to the score. The DNS work is bounded by
// EmailConfig.LookupTimeout and by ctx.
func (a *EmailAnalyzer) AnalyzeEmail(ctx context.Context, addr string) EmailReport {
	rep := EmailReport{Input: addr, MX: MXResult{Status: LookupSkipped}}
	p, serr := parseEmail(addr)
	if serr.code != "" {
		rep.Invalid = serr.code
		rep.RiskScore = scoreInvalid
		rep.Reasons = []Signal{{serr.code, scoreInvalid, serr.detail}}
		return rep
	}
	rep.Valid, rep.Local, rep.Domain = true, p.local, p.domain
	var buf [8]Signal // more than AnalyzeEmail can report at once
	reasons := buf[:0]

	if p.quoted {
		reasons = append(reasons, Signal{"email_quoted_local", scoreQuoted, "the local part is a quoted string; providers do not issue such addresses"})
	}
	if p.utf8 {
		reasons = append(reasons, Signal{"email_utf8_local", scoreUTF8, "the local part holds non-ASCII characters (RFC 6531); few providers issue such addresses"})
	}

	m := matchDisposable(p.domain, a.lists.Load())
	switch {
	case m.disposable:
		rep.Disposable = true
		reasons = append(reasons, Signal{"email_disposable", scoreDisposable, m.listed + " is on the " + m.list + " list of disposable-mailbox domains"})
	case m.overridden != "":
		reasons = append(reasons, Signal{"email_disposable_allowed", 0, m.overridden + " lists " + m.listed + " as disposable, but it is on the " + m.list + " list"})
	}

	rule, user := providerFor(p.domain)
	if !a.cfg.Offline {
		rep.MX = a.lookupDomain(ctx, p.domain)
		reasons = appendMXSignals(reasons, rep.MX)
		if rule.provider == ProviderOther && rep.MX.Status == LookupFound {
			if mp := providerByMX(rep.MX.Hosts[0]); mp != ProviderOther {
				rule.provider = mp
				reasons = append(reasons, Signal{"email_provider_mx", 0, "the domain's mail is hosted by " + string(mp) + " (MX " + rep.MX.Hosts[0] + ")"})
			}
		}
	}
	rep.Provider = rule.provider
	rep.Canonical = canonical(p, rule, user)

	if !p.quoted {
		base, tag, hasTag := strings.Cut(p.key, "+")
		if base == "" {
			base, hasTag = p.key, false
		}
		if roleLocal(base) {
			rep.Role = true
			reasons = append(reasons, Signal{"email_role", scoreRole, "the local part " + base + " names a function, not a person"})
		}
		if hasTag {
			d := "the +" + tag + " tag is a sub-address; the provider is not known to deliver it to the untagged mailbox, so the canonical form keeps it"
			if rule.provider.plusIsIdentity() {
				d = "the +" + tag + " tag is a sub-address of " + rep.Canonical
			}
			reasons = append(reasons, Signal{"email_subaddress", 0, d})
		}
	}
	if isFree(p.domain) && !rep.Disposable {
		rep.Free = true
		reasons = append(reasons, Signal{"email_free", 0, p.domain + " is a free consumer mailbox provider"})
	}

	for _, r := range reasons {
		rep.RiskScore += r.Score
	}
	rep.RiskScore = min(rep.RiskScore, 100)
	rep.Reasons = slices.Clone(reasons)
	return rep
}

// appendMXSignals appends what an MX result says about deliverability.
func appendMXSignals(reasons []Signal, mx MXResult) []Signal {
	switch {
	case mx.Status == LookupNull:
		return append(reasons, Signal{"email_null_mx", scoreNoMail, "the domain publishes a null MX (RFC 7505): it accepts no mail"})
	case mx.Status == LookupUnknown:
		return append(reasons, Signal{"email_dns_unknown", 0, "the MX look-up failed (" + mx.Error + "); deliverability is unknown and not scored (fail open)"})
	case mx.Status != LookupNone:
		return reasons
	case mx.Fallback == LookupFound:
		return append(reasons, Signal{"email_implicit_mx", scoreImplicitMX, "the domain has no MX; mail goes to its A/AAAA address (RFC 5321 §5.1)"})
	case mx.Fallback == LookupUnknown:
		return append(reasons, Signal{"email_dns_unknown", 0, "the domain has no MX and the A/AAAA look-up failed (" + mx.Error + "); deliverability is unknown and not scored (fail open)"})
	}
	return append(reasons, Signal{"email_no_mx", scoreNoMail, "the domain has neither MX nor A/AAAA records: it cannot receive mail"})
}

// CanonicalEmail returns the canonical form of addr (see EmailReport.Canonical) and
// whether addr is valid. It uses the provider rules that the domain alone decides;
// EmailAnalyzer.AnalyzeEmail also recognises custom domains hosted by Google Workspace
// or Fastmail through their MX records.
func CanonicalEmail(addr string) (string, bool) {
	p, err := parseEmail(addr)
	if err.code != "" {
		return "", false
	}
	rule, user := providerFor(p.domain)
	return canonical(p, rule, user), true
}

func (a *EmailAnalyzer) resolver() Resolver {
	if a.cfg.Resolver == nil {
		return net.DefaultResolver
	}
	return a.cfg.Resolver
}

func (a *EmailAnalyzer) clock() time.Time {
	if a.now == nil {
		return time.Now()
	}
	return a.now()
}

func orDefault[T time.Duration | int](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func (a *EmailAnalyzer) timeout() time.Duration {
	return orDefault(a.cfg.LookupTimeout, DefaultLookupTimeout)
}
func (a *EmailAnalyzer) cacheSize() int { return orDefault(a.cfg.CacheSize, DefaultCacheSize) }
func (a *EmailAnalyzer) positiveTTL() time.Duration {
	return orDefault(a.cfg.PositiveTTL, DefaultPositiveTTL)
}
func (a *EmailAnalyzer) negativeTTL() time.Duration {
	return orDefault(a.cfg.NegativeTTL, DefaultNegativeTTL)
}
func (a *EmailAnalyzer) unknownTTL() time.Duration {
	return orDefault(a.cfg.UnknownTTL, DefaultUnknownTTL)
}
