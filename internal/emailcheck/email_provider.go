package emailcheck

import (
	"strings"
	"sync"
)

// A Provider names the mailbox provider whose addressing rules decide an address's
// canonical form. The empty Provider is reported for an invalid address.
type Provider string

// The providers whose rules differ from the default. See the package documentation for
// the rules and for how each is detected.
const (
	ProviderOther           Provider = "other"            // no known rules: the address is its own identity
	ProviderGoogle          Provider = "google"           // consumer Gmail: dots ignored, "+tag", googlemail.com = gmail.com
	ProviderGoogleWorkspace Provider = "google_workspace" // a custom domain whose MX is Google: "+tag", dots kept
	ProviderMicrosoft       Provider = "microsoft"        // Outlook.com, Hotmail, Live, MSN: "+tag"
	ProviderApple           Provider = "apple"            // iCloud, me.com, mac.com: "+tag"
	ProviderProton          Provider = "proton"           // Proton Mail: "+tag", one namespace over four domains
	ProviderYandex          Provider = "yandex"           // Yandex Mail: "+tag", every domain = yandex.ru
	ProviderFastmail        Provider = "fastmail"         // Fastmail: "+tag", user.fastmail.com = user@fastmail.com
	ProviderYahoo           Provider = "yahoo"            // Yahoo Mail: "-keyword" aliases, grouped but never merged
	ProviderZoho            Provider = "zoho"             // Zoho Mail (by MX): "+tag" grouped but never merged
	ProviderRackspace       Provider = "rackspace"        // Rackspace Email (by MX): "+tag" grouped but never merged
)

// plusIsIdentity reports whether p's "+tag" sub-addresses reach the same mailbox, so
// that the tag is cut from the canonical form.
func (p Provider) plusIsIdentity() bool {
	switch p {
	case ProviderGoogle, ProviderGoogleWorkspace, ProviderMicrosoft, ProviderApple,
		ProviderProton, ProviderYandex, ProviderFastmail:
		return true
	}
	return false
}

// providerRule is what a domain says about its provider: the provider and the domain
// its addresses fold into ("" keeps the domain).
type providerRule struct {
	provider Provider
	fold     string
}

// providerDomains maps the domains of the providers with their own rules, built once.
//
// Sources: the Microsoft, Yahoo, Yandex, iCloud and Gmail lists of validatorjs/validator.js
// src/lib/normalizeEmail.js (MIT) and dimuska139/go-email-normalizer domains.go (MIT),
// as shared/reference/fraud-rules.md §1.2 names them; the Proton and Fastmail domains and
// narod.ru from that section. Entries of those lists that are not mail domains
// (go-email-normalizer's "yahoo.ch/fr", "ca.yahoo.com", "yahoodns.net", "google.com"
// and Yandex's web-only country domains) are left out. Fastmail's vanity domains are
// found by MX instead (see providerByMX).
var providerDomains = sync.OnceValue(func() map[string]providerRule {
	m := make(map[string]providerRule, 160)
	add := func(p Provider, fold string, domains ...string) {
		for _, d := range domains {
			m[d] = providerRule{p, fold}
		}
	}
	add(ProviderGoogle, "gmail.com", "gmail.com", "googlemail.com")
	add(ProviderMicrosoft, "",
		"hotmail.com", "hotmail.at", "hotmail.be", "hotmail.ca", "hotmail.cl", "hotmail.co.il",
		"hotmail.co.nz", "hotmail.co.th", "hotmail.co.uk", "hotmail.com.ar", "hotmail.com.au",
		"hotmail.com.br", "hotmail.com.gr", "hotmail.com.mx", "hotmail.com.pe", "hotmail.com.tr",
		"hotmail.com.vn", "hotmail.cz", "hotmail.de", "hotmail.dk", "hotmail.es", "hotmail.fr",
		"hotmail.hu", "hotmail.id", "hotmail.ie", "hotmail.in", "hotmail.it", "hotmail.jp",
		"hotmail.kr", "hotmail.lv", "hotmail.my", "hotmail.ph", "hotmail.pt", "hotmail.sa",
		"hotmail.sg", "hotmail.sk",
		"live.com", "live.be", "live.co.uk", "live.com.ar", "live.com.mx", "live.de", "live.es",
		"live.eu", "live.fr", "live.it", "live.nl", "msn.com", "passport.com",
		"outlook.com", "outlook.at", "outlook.be", "outlook.cl", "outlook.co.il", "outlook.co.nz",
		"outlook.co.th", "outlook.com.ar", "outlook.com.au", "outlook.com.br", "outlook.com.gr",
		"outlook.com.pe", "outlook.com.tr", "outlook.com.vn", "outlook.cz", "outlook.de",
		"outlook.dk", "outlook.es", "outlook.fr", "outlook.hu", "outlook.id", "outlook.ie",
		"outlook.in", "outlook.it", "outlook.jp", "outlook.kr", "outlook.lv", "outlook.my",
		"outlook.ph", "outlook.pt", "outlook.sa", "outlook.sg", "outlook.sk")
	add(ProviderApple, "", "icloud.com", "me.com", "mac.com")
	// Proton: one username namespace across its four domains; pm.me is the short form of
	// the same address. proton.me is the current primary domain.
	add(ProviderProton, "proton.me", "proton.me", "protonmail.com", "protonmail.ch", "pm.me")
	add(ProviderYandex, "yandex.ru",
		"yandex.ru", "yandex.com", "yandex.ua", "yandex.by", "yandex.kz", "ya.ru", "narod.ru")
	add(ProviderFastmail, "", "fastmail.com", "fastmail.fm", "messagingengine.com")
	add(ProviderYahoo, "",
		"yahoo.com", "yahoo.com.ar", "yahoo.com.au", "yahoo.at", "yahoo.be", "yahoo.ca",
		"yahoo.com.br", "yahoo.com.co", "yahoo.com.hr", "yahoo.cz", "yahoo.dk", "yahoo.fi",
		"yahoo.fr", "yahoo.de", "yahoo.gr", "yahoo.com.hk", "yahoo.hu", "yahoo.co.in",
		"yahoo.in", "yahoo.co.id", "yahoo.ie", "yahoo.co.il", "yahoo.it", "yahoo.co.jp",
		"yahoo.com.my", "yahoo.com.mx", "yahoo.ae", "yahoo.nl", "yahoo.co.nz", "yahoo.no",
		"yahoo.com.ph", "yahoo.pl", "yahoo.pt", "yahoo.ro", "yahoo.ru", "yahoo.com.sg",
		"yahoo.co.za", "yahoo.es", "yahoo.se", "yahoo.com.tw", "yahoo.co.th", "yahoo.com.tr",
		"yahoo.co.uk", "yahoo.com.vn", "ymail.com", "rocketmail.com")
	return m
})

// providerFor returns the rule of a domain. user is set for Fastmail's subdomain
// addressing, where anything@user.fastmail.com reaches user@fastmail.com.
func providerFor(domain string) (r providerRule, user string) {
	m := providerDomains()
	if r, ok := m[domain]; ok {
		return r, ""
	}
	if i := strings.IndexByte(domain, '.'); i > 0 {
		if r, ok := m[domain[i+1:]]; ok && r.provider == ProviderFastmail {
			return providerRule{ProviderFastmail, domain[i+1:]}, domain[:i]
		}
	}
	return providerRule{provider: ProviderOther}, ""
}

// providerByMX names the provider that hosts a custom domain, from its most preferred
// MX host (shared/reference/fraud-rules.md §1.3, after gmr/email-normalize
// email_normalize/providers.py). Google Workspace domains point at aspmx.l.google.com
// and its alt*.aspmx.l.google.com / aspmx*.googlemail.com siblings, or, for domains set
// up since 2023, at smtp.google.com (Google Workspace Admin Help, "Google Workspace MX
// record values"). It returns ProviderOther for any other host.
func providerByMX(host string) Provider {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case host == "aspmx.l.google.com", strings.HasSuffix(host, ".aspmx.l.google.com"),
		strings.HasSuffix(host, ".googlemail.com"), host == "smtp.google.com":
		return ProviderGoogleWorkspace
	case strings.HasSuffix(host, ".messagingengine.com"):
		return ProviderFastmail
	case strings.HasSuffix(host, ".zoho.com"), strings.HasSuffix(host, ".zoho.eu"),
		strings.HasSuffix(host, ".zoho.in"):
		return ProviderZoho
	case strings.HasSuffix(host, ".emailsrvr.com"):
		return ProviderRackspace
	}
	return ProviderOther
}

// canonical returns the identity key of a: the form under which every spelling of one
// mailbox compares equal (shared/reference/fraud-rules.md §1.2). It is a key for
// uniqueness and abuse counting, never an address to deliver to.
func canonical(a emailAddr, r providerRule, user string) string {
	domain := a.domain
	if r.fold != "" {
		domain = r.fold
	}
	if user != "" {
		return user + "@" + domain
	}
	local := a.key
	if !a.quoted {
		// The tag is cut unless that leaves a trailing dot ("a.+x"), which no mailbox
		// has: the canonical form must itself be a valid address.
		if r.provider.plusIsIdentity() {
			if i := strings.IndexByte(local, '+'); i > 0 && (local[i-1] != '.' || r.provider == ProviderGoogle) {
				local = local[:i]
			}
		}
		if r.provider == ProviderGoogle {
			if l := strings.ReplaceAll(local, ".", ""); l != "" {
				local = l
			}
		}
	}
	if n := len(local); n+1+len(domain) == len(a.addr) && a.addr[:n] == local && a.addr[n+1:] == domain {
		return a.addr // already canonical: no allocation
	}
	return local + "@" + domain
}
