package replay

import (
	"encoding/json"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/policy"
)

// The detection report (eval/, `cd eval && go run .`) and the dataset floors of this
// package replay fragments of the shared reference data (attack payloads, scanner
// paths, User-Agent strings) as whole requests. The helpers below build those requests
// and the guard configuration they run under, so that the report and the floors measure
// the same bytes under the same configuration.

// Start is the clock the detection report's runners start at, so that reruns give
// the same verdicts (a record without a time runs a millisecond after the one before).
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ClientSignals are the codes that judge the client rather than the request: the bot
// detector's User-Agent classification and header-consistency checks and the
// behaviour detector. DetectionConfig weighs them 0, because the CRS regression rows
// are sent by a test harness ("OWASP CRS test agent", no Accept-Language) that every
// one of them flags, which would turn a measurement of attack detection into one of
// bot detection (shared/data/README.md, "User agent"). The bot detector's scanner_ua
// (an attack tool's User-Agent) and ua_malformed, and every attack code, keep their
// weights.
var ClientSignals = []string{"bot", "automation", "ua_missing", "ua_inconsistent", "automated_behaviour"}

// DetectionConfig returns the configuration attack rows are replayed with: the default
// policy, offline, ClientSignals weighed 0, and the per-IP rate limit out of reach (each
// record runs as a client of its own anyway). Honeypot paths, the block threshold (80)
// and every attack detector are the defaults.
func DetectionConfig() vigil.Config {
	cfg := vigil.Config{Offline: true}
	w := maps.Clone(cfg.Policy.Weights)
	if w == nil {
		w = map[string]float64{}
	}
	for _, c := range ClientSignals {
		w[c] = 0
	}
	cfg.Policy.Weights = w
	cfg.Policy.RateLimit.PerIP = policy.Limit{Rate: 1e9, Period: policy.Duration(time.Second), Burst: 1e9}
	return cfg
}

// BrowserUA is the User-Agent of the requests the templates build: a current Firefox,
// which sends no client hints, so that the bot detector has nothing to say about it.
const BrowserUA = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"

// browserHeaders are the headers every template sends after Host, in Firefox's order.
func browserHeaders(b *strings.Builder, ua, accept string) {
	b.WriteString("Host: shop.example\r\nUser-Agent: " + ua + "\r\nAccept: " + accept +
		"\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n")
}

// QueryRecord is a GET whose query parameter q holds payload, percent-encoded as a
// browser's form submission would.
func QueryRecord(payload string) Record {
	var b strings.Builder
	b.WriteString("GET /search?q=" + url.QueryEscape(payload) + " HTTP/1.1\r\n")
	browserHeaders(&b, BrowserUA, "*/*")
	b.WriteString("\r\n")
	return Record{Raw: []byte(b.String())}
}

// JSONRecord is a POST of {"comment": payload} as application/json.
func JSONRecord(payload string) Record {
	body, _ := json.Marshal(map[string]string{"comment": payload}) // a string always marshals
	var b strings.Builder
	b.WriteString("POST /api/comments HTTP/1.1\r\n")
	browserHeaders(&b, BrowserUA, "*/*")
	b.WriteString("Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.Write(body)
	return Record{Raw: []byte(b.String())}
}

// PathRecord is a GET of path as a scanner sends it: with a leading "/" added when it
// has none, and the bytes a request line cannot carry raw (space, controls, "#",
// non-ASCII, a "%" that starts no escape) percent-encoded. A "?" keeps its meaning.
func PathRecord(path string) Record {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	var b strings.Builder
	b.WriteString("GET " + escapeTarget(path) + " HTTP/1.1\r\n")
	browserHeaders(&b, BrowserUA, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	b.WriteString("\r\n")
	return Record{Raw: []byte(b.String())}
}

// UARecord is a browser's page request with ua as its User-Agent. Control characters
// in ua, which no header value can carry, are dropped.
func UARecord(ua string) Record {
	ua = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, ua)
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\n")
	browserHeaders(&b, ua, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	b.WriteString("\r\n")
	return Record{Raw: []byte(b.String())}
}

// escapeTarget percent-encodes the bytes of a request target that a request line
// cannot carry raw.
func escapeTarget(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		case c <= ' ' || c >= 0x7f || c == '#' || c == '%':
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
