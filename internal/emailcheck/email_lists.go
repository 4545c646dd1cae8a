package emailcheck

import (
	"sync"
)

// freeDomains is the set of free consumer mailbox domains, less every domain of the
// embedded disposable list, built once.
//
// The list is written by hand for Vigil, not copied from a public free-mail
// aggregation: the provider domains of shared/reference/fraud-rules.md §1.2 (see
// providerDomains; Fastmail is a paid service and is left out), and the sign-up domains
// that these providers name on their own sign-up or help pages: AOL (aol.com, aim.com),
// GMX and WEB.DE (1&1 Mail & Media), mail.com, Mail.ru (mail.ru, inbox.ru, list.ru,
// bk.ru), Tencent (qq.com, foxmail.com), NetEase (163.com, 126.com, yeah.net), Sina,
// Sohu, Naver, Kakao (daum.net, hanmail.net, kakao.com), Tuta (tutanota.com,
// tutanota.de, tutamail.com, tuta.io, keemail.me, tuta.com), Zoho (zohomail.com),
// Rambler, ukr.net, Seznam, Wirtualna Polska (wp.pl, o2.pl), Onet, Interia, Libero and
// Rediffmail. The vanity domains of mail.com and GMX are not enumerated, and ISP
// mailboxes (t-online.de, orange.fr, comcast.net, ...) are not free sign-ups.
var freeDomains = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 256)
	for d, r := range providerDomains() {
		if r.provider != ProviderFastmail {
			m[d] = struct{}{}
		}
	}
	for _, d := range []string{
		"aol.com", "aim.com",
		"gmx.com", "gmx.net", "gmx.de", "gmx.at", "gmx.ch", "gmx.us", "web.de", "mail.com",
		"mail.ru", "inbox.ru", "list.ru", "bk.ru",
		"qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sohu.com",
		"naver.com", "daum.net", "hanmail.net", "kakao.com",
		"tutanota.com", "tutanota.de", "tutamail.com", "tuta.io", "tuta.com", "keemail.me",
		"zohomail.com", "rambler.ru", "ukr.net", "seznam.cz",
		"wp.pl", "o2.pl", "onet.pl", "interia.pl", "libero.it", "rediffmail.com",
	} {
		m[d] = struct{}{}
	}
	for d := range m {
		if _, ok := disposableData().block[d]; ok {
			delete(m, d)
		}
	}
	return m
})

// isFree reports whether domain is a free consumer mailbox provider.
func isFree(domain string) bool {
	_, ok := freeDomains()[domain]
	return ok
}

// roleLocal reports whether a local part (lower-cased, without its "+tag") names a
// function rather than a person: the mailbox names of RFC 2142 §3–5 (info, marketing,
// sales, support, abuse, noc, security, postmaster, hostmaster, usenet, news,
// webmaster, www, uucp, ftp), as shared/reference/fraud-rules.md §3.3 lists them, plus
// the conventional no-reply, administrator and system names that section adds (noreply,
// no-reply, admin, root) and their common spellings.
func roleLocal(local string) bool {
	switch local {
	case "info", "marketing", "sales", "support",
		"abuse", "noc", "security",
		"postmaster", "hostmaster", "usenet", "news", "webmaster", "www", "uucp", "ftp",
		"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
		"admin", "administrator", "root", "mailer-daemon":
		return true
	}
	return false
}
