package bot

import (
	"hash/maphash"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/headers"
)

// Detector name and finding scores; the package documentation lists them.
const (
	detectorName = "bot"

	scoreMissing      = 40
	scoreMalformed    = 50
	scoreBot          = 40
	scoreLibrary      = 40
	scoreAutomation   = 60
	scoreScanner      = 95
	scoreCHMismatch   = 35
	scoreCHForeign    = 35
	scoreCHMissing    = 30
	scoreFetchMissing = 30
	scoreNoLanguage   = 25
	scoreNoEncoding   = 25
	scoreNoBrotli     = 20
)

func finding(code string, score int, detail string) detect.Finding {
	return detect.Finding{Detector: detectorName, Code: code, Score: score, Detail: detail}
}

// Inspect appends findings about r's User-Agent and about cheap inconsistencies between
// the browser it names and r's headers, and returns dst. c must be the Class that
// [Detector.Classify] returned for r's User-Agent. Inspect does not verify crawler claims
// (see [Detector.Verify]) and does not allocate for a browser request whose headers are
// consistent. It is safe for concurrent use. It reads r's headers through hs, which
// must have been read from r.Header (see [headers.Set]); InspectRequest reads them
// itself.
//
// Checks that depend on TLS (client hints, Fetch Metadata, br) run only when r.TLS is
// set, because browsers send those headers only to secure origins; behind a
// TLS-terminating proxy they are skipped. CORS preflights (OPTIONS) are not checked for
// inconsistencies.
func (d *Detector) Inspect(dst []detect.Finding, r *http.Request, hs *headers.Set, c Class) []detect.Finding {
	ua, _ := hs.Get(headers.UserAgent)
	if blank(ua) {
		return append(dst, finding("ua_missing", scoreMissing, "no user-agent"))
	}
	switch {
	case hs.Multiple(headers.UserAgent):
		dst = append(dst, finding("ua_malformed", scoreMalformed, "several user-agent headers"))
	case c.flags&flagMalformed != 0:
		dst = append(dst, finding("ua_malformed", scoreMalformed, malformedReason(ua)))
	}
	detail := c.detail
	if detail == "" {
		detail = c.Name
	}
	switch c.Kind {
	case Crawler:
		dst = append(dst, finding("bot", scoreBot, detail))
	case Library:
		dst = append(dst, finding("automation", scoreLibrary, detail))
	case Automation:
		dst = append(dst, finding("automation", scoreAutomation, detail))
	case Scanner:
		dst = append(dst, finding("scanner_ua", scoreScanner, detail))
	case Browser:
		if r.Method != http.MethodOptions {
			dst = d.inconsistencies(dst, r, hs, c)
		}
	}
	return dst
}

// InspectRequest is Inspect for a caller that has not read r's headers into a Set.
func (d *Detector) InspectRequest(dst []detect.Finding, r *http.Request, c Class) []detect.Finding {
	var hs headers.Set
	hs.Read(r.Header)
	return d.Inspect(dst, r, &hs, c)
}

func malformedReason(ua string) string {
	if len(ua) > maxUALen {
		return "user-agent longer than 1 KiB"
	}
	for i := 0; i < len(ua); i++ {
		if c := ua[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return "control character in user-agent"
		}
	}
	return "user-agent is not product/comment grammar"
}

// inconsistencies appends one ua_inconsistent finding per header that the browser c
// names would have sent differently.
func (d *Detector) inconsistencies(dst []detect.Finding, r *http.Request, h *headers.Set, c Class) []detect.Finding {
	tls := r.TLS != nil
	chua, hasCHUA := first(h, headers.SecChUa)
	switch {
	case hasCHUA && c.flags&flagBlink != 0:
		if !d.brandsAgreeCached(chua, int(c.engine), c.Major) {
			dst = append(dst, finding("ua_inconsistent", scoreCHMismatch, "sec-ch-ua version differs from the user-agent's chromium version"))
		}
	case hasCHUA && c.flags&flagLenient == 0 && c.flags&(flagGecko|flagWebKit) != 0:
		dst = append(dst, finding("ua_inconsistent", scoreCHForeign, "sec-ch-ua sent under a non-chromium user-agent"))
	case !hasCHUA && tls && c.flags&flagClientHints != 0:
		dst = append(dst, finding("ua_inconsistent", scoreCHMissing, "chromium 89+ over tls without sec-ch-ua"))
	}
	if c.flags&flagLenient != 0 {
		return dst
	}
	if tls && c.flags&flagFetchMeta != 0 {
		if _, ok := first(h, headers.SecFetchSite); !ok {
			dst = append(dst, finding("ua_inconsistent", scoreFetchMissing, "no sec-fetch-site from a browser that sends fetch metadata"))
		} else if _, ok := first(h, headers.SecFetchMode); !ok {
			dst = append(dst, finding("ua_inconsistent", scoreFetchMissing, "no sec-fetch-mode from a browser that sends fetch metadata"))
		}
	}
	if _, ok := first(h, headers.AcceptLanguage); !ok {
		dst = append(dst, finding("ua_inconsistent", scoreNoLanguage, "browser user-agent without accept-language"))
	}
	ae, ok := first(h, headers.AcceptEncoding)
	switch {
	case !ok:
		dst = append(dst, finding("ua_inconsistent", scoreNoEncoding, "browser user-agent without accept-encoding"))
	case tls && c.flags&flagBrotli != 0 && !hasToken(ae, "br") && !h.Has(headers.Range):
		dst = append(dst, finding("ua_inconsistent", scoreNoBrotli, "browser user-agent over tls without br in accept-encoding"))
	}
	return dst
}

// first returns the first non-blank value of header n.
func first(h *headers.Set, n headers.Name) (string, bool) {
	if v, ok := h.Get(n); !ok || !blank(v) {
		return v, ok
	}
	if !h.Multiple(n) {
		return "", false
	}
	for _, v := range h.Values(n) {
		if !blank(v) {
			return v, true
		}
	}
	return "", false
}

// blank reports whether v is empty or white space only, as strings.TrimSpace sees it.
// Almost every value starts with a printable ASCII byte, which settles it at once.
func blank(v string) bool {
	if v != "" && v[0] > ' ' && v[0] < utf8.RuneSelf {
		return false
	}
	return strings.TrimSpace(v) == ""
}

// hasToken reports whether the comma-separated list v (parameters after ";" ignored)
// holds tok, ignoring ASCII case.
func hasToken(v, tok string) bool {
	for v != "" {
		var item string
		item, v, _ = strings.Cut(v, ",")
		item, _, _ = strings.Cut(item, ";")
		if strings.EqualFold(strings.TrimSpace(item), tok) {
			return true
		}
	}
	return false
}

// brandsAgreeCached is brandsAgree remembering its answers: a browser sends the same
// sec-ch-ua list on every request, and parsing it costs more than a look-up. Lists
// longer than 256 bytes are not remembered; a flood of distinct lists only evicts.
func (d *Detector) brandsAgreeCached(v string, engine, major int) bool {
	if len(v) > 256 {
		return brandsAgree(v, engine, major)
	}
	slot := &d.brands[(maphash.String(d.seed, v)+uint64(engine)<<16+uint64(major))&(brandSlots-1)]
	if e := slot.Load(); e != nil && e.list == v && e.engine == engine && e.major == major {
		return e.agree
	}
	agree := brandsAgree(v, engine, major)
	slot.Store(&brandEntry{list: strings.Clone(v), engine: engine, major: major, agree: agree})
	return agree
}

// brandsAgree reports whether a sec-ch-ua brand list fits a User-Agent whose Chromium
// major is engine and whose family major is major: the "Chromium" brand, when present,
// must equal engine; otherwise some brand must equal engine or major. An empty or
// unparseable list does not agree.
func brandsAgree(v string, engine, major int) bool {
	chromium, n, match := -1, 0, false
	for v != "" {
		// An item is "brand";v="major"; GREASE brands may hold ";" or "=" inside the quotes.
		// Hand-rolled cuts: this runs on every Chromium request, and strings.TrimLeft
		// with a cut set builds that set on each call.
		i := 0
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
			i++
		}
		v = v[i:]
		if v == "" {
			break
		}
		if v[0] != '"' {
			v = afterByte(v, ',')
			continue
		}
		end := strings.IndexByte(v[1:], '"')
		if end < 0 {
			break
		}
		brand, rest := v[1:1+end], v[2+end:]
		params := rest
		if c := strings.IndexByte(rest, ','); c >= 0 {
			params, v = rest[:c], rest[c+1:]
		} else {
			v = ""
		}
		at := strings.Index(params, "v=")
		if brand == "" || at < 0 {
			continue
		}
		ver := strings.Trim(strings.TrimSpace(params[at+2:]), `"`)
		if ver == "" || ver[0] < '0' || ver[0] > '9' {
			continue
		}
		n++
		maj := leadingInt(ver)
		if brand == "Chromium" {
			chromium = maj
		}
		match = match || maj == engine || maj == major
	}
	switch {
	case n == 0:
		return false
	case chromium >= 0:
		return chromium == engine
	}
	return match
}

// afterByte returns what follows the first c in s, or "" when s has none.
func afterByte(s string, c byte) string {
	if i := strings.IndexByte(s, c); i >= 0 {
		return s[i+1:]
	}
	return ""
}
