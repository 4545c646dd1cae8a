package emailcheck

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

// The disposable-domain data of disposable-email-domains/disposable-email-domains
// (CC0-1.0): disposable_email_blocklist.conf at a645893 and allowlist.conf at de9d20d,
// the last commit before that file was removed upstream. data/NOTICE gives the sources
// and the licence.
var (
	//go:embed data/disposable_domains.txt
	disposableText string
	//go:embed data/disposable_allowlist.txt
	disposableAllowText string
)

// domainSets is a disposable list and its allowlist.
type domainSets struct {
	block map[string]struct{}
	allow map[string]struct{}
}

// disposableData returns the embedded lists, parsed on first use.
var disposableData = sync.OnceValue(func() domainSets {
	return domainSets{block: parseDomainList(disposableText), allow: parseDomainList(disposableAllowText)}
})

// parseDomainList reads one lower-case domain a line; blank lines and lines starting
// with "#" are skipped.
func parseDomainList(text string) map[string]struct{} {
	m := make(map[string]struct{}, strings.Count(text, "\n")+1)
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		m[line] = struct{}{}
	}
	return m
}

// normalizeDomains validates list entries as e-mail domains and returns their
// lower-case ASCII forms.
func normalizeDomains(domains []string) ([]string, error) {
	out := make([]string, 0, len(domains))
	for _, d := range domains {
		n, err := parseDomain(strings.TrimSpace(d))
		if err.code != "" {
			return nil, fmt.Errorf("fraud: domain %q: %s", d, err.detail)
		}
		out = append(out, n)
	}
	return out, nil
}

// disposableMatch is the outcome of the disposable check of one domain.
type disposableMatch struct {
	disposable bool
	listed     string // the listed domain that decided: the address's domain or a parent
	list       string // which list: "embedded", "embedded allowlist", "added", "allowed"
	overridden string // for an allowed domain, the disposable listing it overrides
}

// matchDisposable checks domain and each parent up to its registrable domain (eTLD+1 in
// the public suffix list, so a listed shared-DNS domain such as dynv6.net never covers
// its users' subdomains, and a bare public suffix never matches a parent listing).
// Lists are consulted in order of precedence: domains allowed at run time, domains added
// at run time, the embedded allowlist, the embedded list. The first list with a hit
// decides.
func matchDisposable(domain string, extra *domainSets) disposableMatch {
	top := domain
	if strings.Count(domain, ".") >= 2 {
		if t, err := publicsuffix.EffectiveTLDPlusOne(domain); err == nil {
			top = t
		}
	}
	emb := disposableData()
	type list struct {
		set   map[string]struct{}
		block bool
		name  string
	}
	lists := [4]list{{nil, false, "allowed"}, {nil, true, "added"}, {emb.allow, false, "embedded allowlist"}, {emb.block, true, "embedded"}}
	if extra != nil {
		lists[0].set, lists[1].set = extra.allow, extra.block
	}
	var m disposableMatch
	decided := false
	for _, l := range lists {
		listed, ok := findListed(l.set, domain, top)
		if !ok {
			continue
		}
		if !decided {
			m = disposableMatch{disposable: l.block, listed: listed, list: l.name}
			decided = true
			if l.block {
				return m
			}
			continue
		}
		if l.block {
			m.overridden = listed + " (" + l.name + " list)"
			return m
		}
	}
	return m
}

// findListed returns the first of domain and its parents, up to top, that set holds.
func findListed(set map[string]struct{}, domain, top string) (string, bool) {
	if len(set) == 0 {
		return "", false
	}
	for d := domain; ; {
		if _, ok := set[d]; ok {
			return d, true
		}
		if len(d) <= len(top) {
			return "", false
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return "", false
		}
		d = d[i+1:]
	}
}
