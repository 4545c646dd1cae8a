package attack

import (
	"math/bits"
	"net/http"
	"strings"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/detect/decode"
	"github.com/vigilhq/vigil/internal/headers"
)

// headerRole says how a header is examined.
type headerRole uint8

const (
	hdrGeneric     headerRole = iota // scanned with the generic engine
	hdrSkip                          // structured, browser-set or credential: not scanned
	hdrCookie                        // parsed into cookie names and values
	hdrUA                            // scanner signatures plus the generic engine
	hdrReferer                       // a URL the browser sets: no SSRF rules
	hdrFilename                      // an upload file name
	hdrContentType                   // content-type confusion, OGNL, charset tricks
)

// roleOf classifies a header by its canonical name. Headers that are not listed
// here are application- or proxy-defined (X-Api-Version, X-Forwarded-Host, Test) and
// are scanned: Log4Shell and header injection live there. Headers a browser or proxy
// sets with a fixed grammar (Accept, Sec-CH-UA, Cache-Control) and credentials
// (Authorization) are skipped: scanning them only finds false positives.
func roleOf(name string) headerRole {
	switch name {
	case "User-Agent":
		return hdrUA
	case "Referer", "Origin":
		return hdrReferer
	case "Cookie":
		return hdrCookie
	case "Content-Type":
		return hdrContentType
	case "X-Filename", "X-File-Name", "X.filename", "X_filename", "X-Upload-Filename":
		return hdrFilename
	case "Accept", "Accept-Encoding", "Accept-Language", "Accept-Charset", "Accept-Datetime",
		"Authorization", "Proxy-Authorization", "Cache-Control", "Connection", "Content-Length",
		"Content-Encoding", "Content-Language", "Content-Md5", "Content-Range", "Date", "Dnt", "Expect",
		"Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since",
		"Keep-Alive", "Max-Forwards", "Pragma", "Priority", "Proxy-Connection", "Range", "Request-Range",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Upgrade-Insecure-Requests", "Via", "Warning",
		"Traceparent", "Tracestate", "Baggage", "X-Request-Id", "X-Correlation-Id", "X-Amzn-Trace-Id",
		"X-Cloud-Trace-Context", "X-B3-Traceid", "X-B3-Spanid", "X-B3-Parentspanid", "X-B3-Sampled",
		"B3", "Cdn-Loop", "Cf-Ray", "Cf-Visitor", "Cf-Connecting-Ip", "Cf-Ipcountry", "True-Client-Ip",
		"X-Requested-With", "Save-Data", "Device-Memory", "Downlink", "Ect", "Rtt", "Viewport-Width",
		"Dpr", "Width", "Purpose", "X-Purpose", "X-Moz", "X-Csrf-Token", "X-Xsrf-Token",
		"X-Csrftoken", "Early-Data", "Alt-Used", "X-Forwarded-Proto", "X-Forwarded-Port",
		"X-Forwarded-Scheme", "X-Forwarded-Ssl", "Front-End-Https", "Access-Control-Request-Method",
		"Access-Control-Request-Headers", "Access-Control-Request-Private-Network", "Last-Event-Id",
		"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions",
		"Sec-Websocket-Protocol", "Content-Security-Policy", "X-Client-Data", "X-Wap-Profile",
		"Service-Worker", "Service-Worker-Navigation-Preload", "Attribution-Reporting-Eligible",
		"Sec-Browsing-Topics", "Sec-Gpc", "Http2-Settings", "Ttl", "X-Vigil-Action":
		return hdrSkip
	}
	if strings.HasPrefix(name, "Sec-") {
		// Sec-CH-UA, Sec-Fetch-*: browser-set with a fixed grammar (fastapi-guard#32
		// flagged sec-ch-ua as an attack).
		return hdrSkip
	}
	return hdrGeneric
}

// scanHeaders examines the headers an application may read, cookies, and the
// request-level protocol anomalies net/http leaves visible. Names outside the
// vocabulary come first: they are where injected headers live, and they are seldom
// long, so a large Cookie cannot spend the budget before them.
func (s *Scanner) scanHeaders(dst []detect.Finding, st *reqState, r *http.Request, hs *headers.Set) []detect.Finding {
	if hs.Has(headers.ContentLength) && (len(r.Header["Transfer-Encoding"]) > 0 || len(r.TransferEncoding) > 0) {
		// net/http's own server drops Content-Length when it honours chunked
		// encoding; this shows only when something in front kept both.
		dst = append(dst, finding(CodeProtocol, 90, loc{kind: "header", name: "Transfer-Encoding"}, "both Content-Length and Transfer-Encoding"))
	}
	for i := range hs.NumOthers() {
		f := hs.Other(i)
		if role := roleOf(f.Name); role != hdrSkip {
			for _, val := range f.Values {
				dst = s.scanHeader(dst, st, role, f.Name, val)
			}
		}
	}
	for p := hs.Present() & s.scanVocab; p != 0; p &= p - 1 {
		n := headers.Name(bits.TrailingZeros64(p))
		if !hs.Multiple(n) {
			val, _ := hs.Get(n)
			dst = s.scanHeader(dst, st, s.vocabRole[n], n.String(), val)
			continue
		}
		for _, val := range hs.Values(n) {
			dst = s.scanHeader(dst, st, s.vocabRole[n], n.String(), val)
		}
	}
	return dst
}

// scanHeader examines one value of the header name, whose role is role.
func (s *Scanner) scanHeader(dst []detect.Finding, st *reqState, role headerRole, name, val string) []detect.Finding {
	where := loc{kind: "header", name: name}
	switch role {
	case hdrCookie:
		return s.scanCookiesCached(dst, st, val)
	case hdrUA:
		return s.examineCached(dst, st, where, val, kindUA)
	case hdrReferer:
		return s.examineCached(dst, st, where, val, kindReferer)
	case hdrFilename:
		return s.examine(dst, st, where, val, kindFilename)
	case hdrContentType:
		if v, ok := st.take(val, where); ok {
			return s.scanContentType(dst, name, v)
		}
		return dst
	}
	return s.examine(dst, st, where, val, kindHeader)
}

// scanCookiesCached is scanCookies for a Cookie header that may have scanned clean
// before: a client sends the same cookies on every request of a visit. A remembered
// header is charged to the budget as a whole but not examined again.
func (s *Scanner) scanCookiesCached(dst []detect.Finding, st *reqState, header string) []detect.Finding {
	if s.clean.has(header, kindCookies) {
		st.take(header, loc{kind: "header", name: "Cookie"})
		return dst
	}
	n, skipped, cut := len(dst), st.skipped, st.cut
	dst = s.scanCookies(dst, st, header)
	if len(dst) == n && st.skipped == skipped && st.cut == cut {
		s.clean.add(header, kindCookies)
	}
	return dst
}

// scanCookies examines each name and value of one Cookie header. Values are
// percent-decoded, as most frameworks do, before the engine normalises them further.
func (s *Scanner) scanCookies(dst []detect.Finding, st *reqState, header string) []detect.Finding {
	for header != "" {
		var pair string
		pair, header, _ = strings.Cut(header, ";")
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, val, _ := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		dst = s.examine(dst, st, loc{kind: "cookie-name", name: name}, name, kindKey)
		if val != "" {
			dst = s.examine(dst, st, loc{kind: "cookie", name: name}, decode.Percent(val, false), kindParam)
		}
	}
	return dst
}

// scanContentType looks for content-type confusion: a second media type hidden in a
// parameter (a form body that claims boundary="application/json"), exotic charsets
// used to slip payloads past filters (UTF-7, EBCDIC), and expression-language
// payloads aimed at Struts' Content-Type parsing.
func (s *Scanner) scanContentType(dst []detect.Finding, name, val string) []detect.Finding {
	where := loc{kind: "header", name: name}
	lv := strings.ToLower(val)
	mt, params, _ := strings.Cut(lv, ";")
	mt = strings.TrimSpace(mt)
	if i := strings.Index(lv, "charset"); i >= 0 {
		cs := strings.Trim(strings.TrimLeft(lv[i+7:], " \t="), "\"' ")
		if j := strings.IndexAny(cs, "; ,"); j >= 0 {
			cs = cs[:j]
		}
		if sc := charsetScore(cs); sc > 0 {
			dst = append(dst, finding(CodeProtocol, sc, where, val))
		}
	}
	for _, p := range strings.Split(params, ";") {
		_, pv, ok := strings.Cut(p, "=")
		pv = strings.Trim(strings.TrimSpace(pv), "\"'")
		if !ok {
			continue
		}
		for _, top := range []string{"application/", "text/", "multipart/", "image/", "audio/", "video/"} {
			if strings.HasPrefix(pv, top) {
				dst = append(dst, finding(CodeProtocol, 85, where, val))
				return dst
			}
		}
	}
	if strings.Count(mt, "/") > 1 || strings.Contains(mt, ",") {
		dst = append(dst, finding(CodeProtocol, 85, where, val))
		return dst
	}
	if strings.ContainsAny(val, "%$#{(") {
		// Struts2 CVE-2017-5638 and friends put OGNL in Content-Type.
		dst = s.scan(dst, where, val, kindHeader)
	}
	return dst
}

// charsetScore scores a declared charset: UTF-7 and EBCDIC are filter-evasion tricks
// no browser sends; UTF-16/32 bodies are legal but rare enough to note.
func charsetScore(cs string) int {
	switch {
	case cs == "utf-7" || cs == "utf7" || cs == "csutf7" || cs == "unicode-1-1-utf-7" || cs == "x-utf-7":
		return 90
	case strings.HasPrefix(cs, "ibm0") || strings.HasPrefix(cs, "cp0") || strings.HasPrefix(cs, "ebcdic") || cs == "ibm500" || cs == "cp500" || cs == "ibm1047" || cs == "cp1047" || cs == "cp875" || cs == "ibm875" || cs == "cp1026" || cs == "ibm1026":
		return 90
	case strings.HasPrefix(cs, "utf-16") || strings.HasPrefix(cs, "utf-32") || strings.HasPrefix(cs, "ucs-") || strings.HasPrefix(cs, "utf16") || strings.HasPrefix(cs, "utf32"):
		return 50
	}
	return 0
}

// isSessionIDName reports whether a parameter name is one frameworks use for the
// session identifier. A session ID arriving as a parameter is how session fixation
// plants a known session on a victim.
func isSessionIDName(name string) bool {
	if len(name) < 3 || len(name) > 48 {
		return false
	}
	switch strings.ToLower(name) {
	case "jsessionid", "phpsessid", "asp.net_sessionid", "aspsessionid", "sessionid", "session_id",
		"sessid", "sid", "cfid", "cftoken", "cfsid", "connect.sid", "sails.sid", "laravel_session",
		"ci_session", "next-auth.session-token", "__secure-next-auth.session-token", "play_session",
		"cakephp", "meteor_login_token", "_session_id", "rack.session", "express.sid", "koa.sess",
		"session", "sessiontoken", "session_token", "frontend", "symfony", "zend_session",
		"jsessionidsso", "shiro-session", "wordpress_logged_in", "mod_auth_openidc_session",
		"phpsession", "django_session", "sessionkey", "s_id", "x-session-id":
		return true
	}
	return false
}

// sessionFixation reports a session-ID parameter on a request that came from another
// site (its Referer names another host) or from nowhere (no Referer): a link or form
// planted elsewhere to fix the victim's session.
func sessionFixation(dst []detect.Finding, r *http.Request, param string) []detect.Finding {
	where := loc{kind: "query-name", name: param}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return append(dst, finding(CodeSessionFixation, 60, where, param+" parameter without Referer"))
	}
	host := hostOf(strings.TrimPrefix(strings.TrimPrefix(ref, "https://"), "http://"))
	own := r.Host
	if h, _, ok := strings.Cut(own, ":"); ok && !strings.Contains(h, "]") {
		own = h
	}
	if host != "" && !strings.EqualFold(host, strings.Trim(own, "[]")) {
		return append(dst, finding(CodeSessionFixation, 85, where, param+" parameter from "+host))
	}
	return dst
}
