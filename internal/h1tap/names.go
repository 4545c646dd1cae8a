package h1tap

// commonNames are the header names the tap interns: a recorded name whose raw bytes
// equal one of them is stored as a one-byte index instead of a copy. Matching is
// exact, case included, so the table lists the spellings clients actually send:
// Title-Case (browsers, curl, Go, Python) and lowercase (Chrome's sec-ch-ua*, Node,
// HTTP/2-minded clients). At most 127 entries: an index is stored as 1..127.
var commonNames = [...]string{
	"Host", "host",
	"Connection", "connection",
	"Keep-Alive", "keep-alive",
	"Cache-Control", "cache-control",
	"Pragma", "pragma",
	"Upgrade-Insecure-Requests", "upgrade-insecure-requests",
	"User-Agent", "user-agent",
	"Accept", "accept",
	"Accept-Encoding", "accept-encoding",
	"Accept-Language", "accept-language",
	"Accept-Charset",
	"Cookie", "cookie",
	"Referer", "referer",
	"Origin", "origin",
	"Content-Type", "content-type",
	"Content-Length", "content-length",
	"Transfer-Encoding", "transfer-encoding",
	"Authorization", "authorization",
	"If-None-Match", "if-none-match",
	"If-Modified-Since", "if-modified-since",
	"If-Match", "If-Unmodified-Since", "If-Range",
	"Range", "range",
	"Priority", "priority",
	"DNT", "dnt",
	"Sec-Fetch-Site", "sec-fetch-site",
	"Sec-Fetch-Mode", "sec-fetch-mode",
	"Sec-Fetch-User", "sec-fetch-user",
	"Sec-Fetch-Dest", "sec-fetch-dest",
	"sec-ch-ua", "Sec-Ch-Ua",
	"sec-ch-ua-mobile", "Sec-Ch-Ua-Mobile",
	"sec-ch-ua-platform", "Sec-Ch-Ua-Platform",
	"sec-ch-ua-platform-version",
	"sec-ch-ua-full-version-list",
	"sec-ch-ua-full-version",
	"sec-ch-ua-arch",
	"sec-ch-ua-bitness",
	"sec-ch-ua-model",
	"sec-ch-ua-wow64",
	"sec-ch-prefers-color-scheme",
	"Sec-GPC", "sec-gpc",
	"Sec-Purpose", "sec-purpose", "Purpose",
	"Upgrade", "upgrade",
	"Sec-WebSocket-Key", "sec-websocket-key",
	"Sec-WebSocket-Version", "sec-websocket-version",
	"Sec-WebSocket-Extensions", "sec-websocket-extensions",
	"Sec-WebSocket-Protocol", "sec-websocket-protocol",
	"Expect", "expect",
	"TE", "te",
	"Trailer",
	"X-Requested-With", "x-requested-with",
	"X-Forwarded-For", "x-forwarded-for",
	"X-Forwarded-Proto", "x-forwarded-proto",
	"X-Forwarded-Host", "x-forwarded-host",
	"X-Real-IP", "x-real-ip",
	"Forwarded", "Via",
	"Proxy-Connection", "Proxy-Authorization",
	"Content-Encoding",
}

// maxCommonLen is the length of the longest entry of commonNames; longer names are
// never looked up.
const maxCommonLen = 32

// The fields whose presence or value the tap records, whatever their case.
type special uint8

const (
	spNone special = iota
	spHost
	spContentLength
	spTransferEncoding
	spUserAgent
	spUpgrade
	spCookie
	spReferer
	spAcceptLanguage
)

// specialNames are the canonical spellings of the special fields, by special.
var specialNames = [...]string{
	spHost:             "Host",
	spContentLength:    "Content-Length",
	spTransferEncoding: "Transfer-Encoding",
	spUserAgent:        "User-Agent",
	spUpgrade:          "Upgrade",
	spCookie:           "Cookie",
	spReferer:          "Referer",
	spAcceptLanguage:   "Accept-Language",
}

// internTable is an open-addressing hash table over commonNames: slot i holds the
// commonNames index plus one, or 0 when empty. It is filled once from the literal
// above and never written again.
type internTable struct {
	slots   [256]uint8
	special [len(commonNames)]special
}

var interned = newInternTable()

func newInternTable() *internTable {
	t := new(internTable)
	for i, name := range commonNames {
		if len(name) > maxCommonLen {
			panic("h1tap: common name longer than maxCommonLen: " + name)
		}
		h := nameHash([]byte(name))
		for t.slots[h] != 0 {
			h++
		}
		t.slots[h] = uint8(i + 1)
		t.special[i] = specialOf([]byte(name))
	}
	return t
}

// nameHash mixes the length and four bytes of a non-empty name.
func nameHash(b []byte) uint8 {
	n := len(b)
	return uint8(uint(n)*7 + uint(b[0])*3 + uint(b[n-1])*5 + uint(b[n/2])*11 + uint(b[n*3/4])*13)
}

// lookup returns the commonNames index of b, exact case, or -1.
func (t *internTable) lookup(b []byte) int {
	if len(b) == 0 || len(b) > maxCommonLen {
		return -1
	}
	for h := nameHash(b); ; h++ {
		e := t.slots[h]
		if e == 0 {
			return -1
		}
		if string(b) == commonNames[e-1] {
			return int(e - 1)
		}
	}
}

// specialOf classifies a field name the way net/http does after canonicalising it:
// ASCII case is ignored.
func specialOf(b []byte) special {
	var s special
	switch len(b) {
	case 4:
		s = spHost
	case 6:
		s = spCookie
	case 7:
		s = spReferer
		if b[0]|0x20 == 'u' {
			s = spUpgrade
		}
	case 10:
		s = spUserAgent
	case 14:
		s = spContentLength
	case 15:
		s = spAcceptLanguage
	case 17:
		s = spTransferEncoding
	default:
		return spNone
	}
	if !equalFold(b, specialNames[s]) {
		return spNone
	}
	return s
}

// equalFold reports whether b equals s ignoring ASCII case. s is a letter-and-hyphen
// name, so folding with 0x20 cannot make a non-letter match.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c, d := b[i], s[i]
		if c == d {
			continue
		}
		if c|0x20 != d|0x20 || c|0x20 < 'a' || c|0x20 > 'z' {
			return false
		}
	}
	return true
}
