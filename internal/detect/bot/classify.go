package bot

import (
	"math/bits"
	"strings"
)

// classify computes the Class of full without the cache. full is non-empty and at most
// maxUALen+1 bytes long; the class is read from its first classifyWindow bytes (real
// User-Agents stay under 400), the malformation check reads it all.
//
// Order: attack tools, driven browsers and verifiable crawlers (curated tokens); then a
// browser whose User-Agent has nothing but a known browser's tokens; then the crawler
// patterns; then HTTP libraries; then any other browser (web views, in-app browsers); then
// generic crawler words. The crawler patterns never run on a clean browser User-Agent,
// and run only when the scan found a literal they require.
func (rs *rules) classify(full string) Class {
	var c Class
	ua := full[:min(len(full), classifyWindow)]
	if lib, ok := exactLibrary(ua); ok {
		c = Class{Kind: Library, Category: "library", Name: lib}
		c.detail = lib + " (library)"
		return c
	}

	var buf [32]uint64
	hits := buf[:]
	if rs.words > len(buf) {
		hits = make([]uint64, rs.words)
	}
	hits = hits[:rs.words]
	rs.m.scan(ua, hits)
	np := len(rs.patterns)

	// Curated tokens other than libraries.
	tok, hasTok := rs.firstToken(ua, hits, np, func(t *token) bool { return t.kind != Library })
	if hasTok {
		c = rs.tokenClass(ua, tok)
	} else {
		b, browserish, clean := parseBrowser(ua)
		switch {
		case clean:
			c = b
		default:
			if p, ok := rs.firstPattern(ua, hits, Crawler); ok {
				c = p
			} else if t, ok := rs.firstToken(ua, hits, np, func(t *token) bool { return t.kind == Library }); ok {
				c = rs.tokenClass(ua, t)
			} else if p, ok := rs.firstPattern(ua, hits, Library); ok {
				c = p
			} else if name, ok := genericCrawler(ua, browserish); ok {
				c = Class{Kind: Crawler, Category: "other", Name: name, Major: versionAfter(ua, name)}
				c.detail = name + " (other)"
			} else if browserish {
				c = b
			}
		}
	}
	if c.Kind != Unknown {
		c.Mobile = isMobile(ua)
	}
	if malformed(full) {
		c.flags |= flagMalformed
	}
	return c
}

// firstToken returns the highest-priority token found whose kind keep accepts.
func (rs *rules) firstToken(ua string, hits []uint64, np int, keep func(*token) bool) (*token, bool) {
	for w := np / 64; w < len(hits); w++ {
		word := hits[w]
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			id := w*64 + b
			if id < np {
				continue
			}
			if t := &rs.tokens[id-np]; keep(t) && (!t.prefix || indexFold(ua[:min(len(ua), len(t.lit))], t.lit) == 0) {
				return t, true
			}
		}
	}
	return nil, false
}

func (rs *rules) tokenClass(ua string, t *token) Class {
	c := Class{Kind: t.kind, Category: t.category, Name: t.name, Claimed: t.claimed, detail: t.detail}
	if i := indexFold(ua, t.lit); i >= 0 {
		c.Major = leadingInt(ua[i+len(t.lit):])
		if !strings.HasSuffix(t.lit, "/") && i+len(t.lit) < len(ua) && ua[i+len(t.lit)] == '/' {
			c.Major = leadingInt(ua[i+len(t.lit)+1:])
		}
	}
	return c
}

// firstPattern runs, in file order, the patterns of the wanted kind group whose literals
// the scan found (plus those without a literal) and returns the first that matches. The
// Crawler group is every kind but Library; the Library group is Library only.
func (rs *rules) firstPattern(ua string, hits []uint64, group Kind) (Class, bool) {
	want := func(id int) bool { return (rs.patterns[id].kind == Library) == (group == Library) }
	ai := 0
	np := len(rs.patterns)
	for w := 0; w*64 < np; w++ {
		word := hits[w]
		// Merge the always-run patterns of this word.
		for ai < len(rs.always) && rs.always[ai] < (w+1)*64 {
			word |= 1 << (rs.always[ai] - w*64)
			ai++
		}
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			id := w*64 + b
			if id >= np {
				break
			}
			if want(id) && rs.match(id, ua) {
				return rs.patternClass(ua, id), true
			}
		}
	}
	return Class{}, false
}

// genericCrawler reports a User-Agent that is no clean browser but names itself a bot,
// crawler or spider, or carries a URL or an e-mail address (crawlers give a contact;
// browsers and apps do not), and returns a name for it. For a browser-like User-Agent
// the platform comment is left out: device names ("CUBOT"), build tags with "@" and
// embedding toolkits' URLs live there.
func genericCrawler(ua string, browserish bool) (string, bool) {
	words := ua
	if browserish {
		words = withoutFirstComment(ua)
	}
	if name, ok := crawlerWord(words); ok {
		return name, true
	}
	if indexFold(words, "http://") < 0 && indexFold(words, "https://") < 0 && indexFold(words, "www.") < 0 && !isEmail(words) {
		return "", false
	}
	if namesBrowser(ua) {
		// "Avant Browser/1.2 (http://www.avantbrowser.com)": a browser giving its
		// home page, not a crawler giving a contact.
		return "", false
	}
	for i := 0; i < len(words); {
		for i < len(words) && !isNameByte(words[i]) {
			i++
		}
		j := i
		for j < len(words) && isNameByte(words[j]) {
			j++
		}
		w := strings.ToLower(strings.Trim(words[i:j], ".-_"))
		i = j
		if w == "" || leadingInt(w) > 0 || w[0] == '0' || isStockWord(w) {
			continue
		}
		return w[:min(len(w), 32)], true
	}
	return "other", true
}

// namesBrowser reports whether ua's first product is named "… Browser" ("Avant
// Browser/1.2.789rel1").
func namesBrowser(ua string) bool {
	name, _, ok := strings.Cut(ua, "/")
	return ok && len(name) > len(" browser") && strings.EqualFold(name[len(name)-len(" browser"):], " browser")
}

// isStockWord reports a lower-case word that browser-like User-Agents share, which
// cannot name a crawler.
func isStockWord(w string) bool {
	switch w {
	case "mozilla", "compatible", "applewebkit", "khtml", "like", "gecko", "chrome", "safari",
		"version", "mobile", "firefox", "http", "https", "u":
		return true
	}
	return false
}

// withoutFirstComment returns ua without its first parenthesised comment, nested
// parentheses included (old IE User-Agents nest a whole User-Agent in it).
func withoutFirstComment(ua string) string {
	i := strings.IndexByte(ua, '(')
	if i < 0 {
		return ua
	}
	depth := 0
	for j := i; j < len(ua); j++ {
		switch ua[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return ua[:i] + " " + ua[j+1:]
			}
		}
	}
	return ua[:i]
}

// isEmail reports an "x@y.z" in s.
func isEmail(s string) bool {
	i := strings.IndexByte(s, '@')
	return i > 0 && isNameByte(s[i-1]) && strings.Contains(s[i:], ".")
}

// crawlerWord returns the first word of ua that names a bot, crawler or spider.
func crawlerWord(ua string) (string, bool) {
	for i := 0; i < len(ua); {
		for i < len(ua) && !isNameByte(ua[i]) {
			i++
		}
		j := i
		for j < len(ua) && isNameByte(ua[j]) {
			j++
		}
		word := ua[i:j]
		if isCrawlerWord(word) {
			name := strings.ToLower(strings.Trim(word, ".-_"))
			return name[:min(len(name), 32)], true
		}
		i = j
	}
	return "", false
}

func isNameByte(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' }

func isCrawlerWord(w string) bool {
	for _, suffix := range [...]string{"bot", "crawler", "spider", "robot", "scraper", "fetcher"} {
		if len(w) >= len(suffix) && strings.EqualFold(w[len(w)-len(suffix):], suffix) {
			return true
		}
	}
	for _, infix := range [...]string{"crawl", "spider"} {
		if indexFold(w, infix) >= 0 {
			return true
		}
	}
	return false
}

// versionAfter returns the major version that follows name and "/" (and an optional "v")
// in ua, or 0.
func versionAfter(ua, name string) int {
	i := indexFold(ua, name)
	if i < 0 {
		return 0
	}
	rest := ua[i+len(name):]
	if !strings.HasPrefix(rest, "/") {
		return 0
	}
	rest = rest[1:]
	if strings.HasPrefix(rest, "v") || strings.HasPrefix(rest, "V") {
		rest = rest[1:]
	}
	return leadingInt(rest)
}

// leadingInt parses the decimal digits at the start of s, capped at 1e6.
func leadingInt(s string) int {
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1e6 {
			return 1e6
		}
	}
	return n
}

// indexFold is strings.Index for a lower-case ASCII needle, ignoring ASCII case in s.
func indexFold(s, lowerNeedle string) int {
	n := len(lowerNeedle)
	if n == 0 {
		return 0
	}
	for i := 0; i+n <= len(s); i++ {
		if lower(s[i]) != lowerNeedle[0] {
			continue
		}
		j := 1
		for j < n && lower(s[i+j]) == lowerNeedle[j] {
			j++
		}
		if j == n {
			return i
		}
	}
	return -1
}

// isMobile reports a phone-class User-Agent: "Mobi" (as MDN recommends), iPhone or iPod.
func isMobile(ua string) bool {
	return strings.Contains(ua, "Mobi") || strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPod")
}

// malformed reports a User-Agent that no HTTP client would send: longer than maxUALen,
// with control characters, or outside the RFC 9110 shape of products and comments in
// the ways that injected text is (not starting with a letter or digit, unbalanced
// parentheses, markup, quote or template characters outside comments).
func malformed(ua string) bool {
	if len(ua) > maxUALen || !isAlnum(ua[0]) {
		return true
	}
	depth := 0
	for i := 0; i < len(ua); i++ {
		switch c := ua[i]; {
		case c < 0x20 && c != '\t', c == 0x7f:
			return true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return true
			}
		case c == '\\' && depth > 0:
			i++ // quoted-pair inside a comment
		case depth == 0 && (c == '<' || c == '>' || c == '{' || c == '}' || c == '`' || c == '\\' || c == '"'):
			return true
		}
	}
	return false
}

// OS returns "ios" for a browser on iOS or iPadOS, whose network stack is Safari's
// whatever the browser, and "" otherwise (the other platforms do not change a
// browser's network fingerprints).
func (c Class) OS() string {
	if c.flags&flagIOS != 0 {
		return "ios"
	}
	return ""
}
