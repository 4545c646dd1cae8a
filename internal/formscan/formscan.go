// Package formscan finds the values of named fields, such as an e-mail address or a
// username, in a bounded prefix of an HTTP request body, and leaves the body for the
// application exactly as the client sent it.
//
// [Read] reads at most a given number of bytes of a request body once and puts back
// a body that delivers the original byte stream. [Find] looks, in one pass over those
// bytes, for several groups of candidate field names at once and returns one value
// per group.
//
// # Formats
//
// Find understands three media types (parameters and case ignored):
//
//   - application/json and any type ending in +json: the top-level value must be an
//     object. Its members are searched, and the members of objects that are directly
//     the values of top-level members ({"user":{"email":…}}); that is the depth limit:
//     objects nested deeper, and anything inside an array, are not searched. A member
//     holding a string gives the string (escapes decoded); one holding a number gives
//     the number's literal text ({"phone":4915112345678} gives "4915112345678"), since
//     phone numbers and numeric usernames arrive as JSON numbers. Objects, arrays,
//     true, false and null give nothing. A body that is not valid JSON (as
//     [encoding/json.Valid] decides; this includes trailing data) gives nothing.
//   - application/x-www-form-urlencoded: pairs separated by '&', decoded as
//     [net/url.ParseQuery] decodes them. A pair that ParseQuery drops (a ';' in it, an
//     invalid %-escape in its name or value) is skipped and the others still count,
//     as they do for [net/http.Request.FormValue].
//   - multipart/form-data with a boundary parameter: the parts that
//     [mime/multipart.Reader.ReadForm] would keep as values: a form-data disposition
//     with a name and no (or an empty) filename. File parts are skipped without being
//     copied. Quoted-printable parts are decoded, as ReadForm does. At most 1000 parts
//     are examined, ReadForm's own default limit, so that a body Find stops in is one
//     a Go application rejects. Nothing is written to disk. A part's headers take at
//     most what the body holds, which Read bounds. A truncated or malformed body
//     keeps the values of the parts that were complete before the damage.
//
// Any other media type, including a missing Content-Type, gives nothing.
//
// # Which value wins
//
// A field name matches exactly or, failing that, ignoring case (Unicode simple
// folding, as [strings.EqualFold] and encoding/json's struct decoding do). For each
// group the candidates are ranked, best first:
//
//  1. depth: a top-level member before a member of a nested object;
//  2. an exact name before a case-insensitive one;
//  3. the order of the names in the group.
//
// An empty value counts as absent, so a lower-ranked candidate may win over it.
// Between equally ranked candidates (a repeated field name) the format decides, each
// choosing what the common parser of that format does so that the value found is
// the one an application most likely uses:
//
//   - JSON: the last one, as encoding/json, JavaScript's JSON.parse and Python's json
//     module keep the last of duplicate keys. Taking the first would let a client
//     hide a value behind a decoy: {"email":"decoy","email":"real"}.
//   - urlencoded and multipart: the first one, as [net/http.Request.FormValue]
//     returns. Frameworks differ here (PHP and Django keep the last); a client that
//     repeats a form field is ambiguous to every parser.
//
// Find never panics and never returns an error: input it cannot read gives "".
package formscan

import (
	"bytes"
	"io"
	"net/http"
	"strings"
)

// maxPrealloc bounds the buffer Read allocates up front on the strength of a
// declared Content-Length: a client can claim any length and then send nothing.
const maxPrealloc = 64 << 10

// Read reads at most max bytes of r's body and replaces r.Body with a body that
// delivers the original byte stream: the bytes read, then the unread rest of the
// original body as it arrives, then the original's end or read error. Closing the
// new body closes the original. Nothing else in r changes.
//
// ok reports that the whole body fit in max bytes; body then holds all of it (nil
// for no body). When the body is larger than max, or reading it failed, body is nil
// and ok is false: the caller should record that the body was not examined. A
// Content-Length above max is believed and the body is not read at all. A max below
// zero is treated as zero. err is the original body's read error, which the new
// body also returns to whoever reads it next.
//
// The returned bytes are shared with the new r.Body and must not be modified.
func Read(r *http.Request, max int64) (body []byte, ok bool, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true, nil
	}
	if max < 0 {
		max = 0
	}
	if r.ContentLength > max {
		return nil, false, nil
	}
	limit := max + 1
	size := int64(512)
	if r.ContentLength >= 0 {
		size = r.ContentLength + 1
	}
	buf := make([]byte, 0, min(size, limit, maxPrealloc))
	var rerr error
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := min(int64(cap(buf)), limit)
		var n int
		n, rerr = r.Body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if rerr != nil {
			break
		}
	}
	r.Body = &replay{buf: buf, rest: r.Body, err: rerr}
	switch {
	case rerr == io.EOF:
		return buf, true, nil
	case rerr != nil:
		return nil, false, rerr
	}
	return nil, false, nil
}

// replay delivers buf, then either err (the end or read error the first read saw)
// or the rest of the original body, and closes the original.
type replay struct {
	buf  []byte
	off  int
	rest io.ReadCloser
	err  error
}

func (b *replay) Read(p []byte) (int, error) {
	if b.off < len(b.buf) {
		n := copy(p, b.buf[b.off:])
		b.off += n
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *replay) Close() error { return b.rest.Close() }

// Find returns, for each group of candidate field names, the value found for the
// best-ranked candidate in body, or "" (see the package documentation for formats
// and ranking). contentType is the request's Content-Type header value. The result
// has one element per group, in the order of groups.
func Find(contentType string, body []byte, groups ...[]string) []string {
	var arr [8]match
	ms := arr[:0]
	if len(groups) > len(arr) {
		ms = make([]match, 0, len(groups))
	}
	for range groups {
		ms = append(ms, match{rank: none})
	}
	switch kindOf(contentType) {
	case kindJSON:
		findJSON(body, groups, ms)
	case kindForm:
		findForm(body, groups, ms)
	case kindMultipart:
		findMultipart(contentType, body, groups, ms)
	}
	out := make([]string, len(groups))
	for g, m := range ms {
		if m.rank != none {
			out[g] = m.value(body)
		}
	}
	return out
}

type kind uint8

const (
	kindNone kind = iota
	kindJSON
	kindForm
	kindMultipart
)

// kindOf classifies a Content-Type header value by its media type.
func kindOf(ct string) kind {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	switch {
	case strings.EqualFold(mt, "application/json"),
		len(mt) > len("+json") && strings.EqualFold(mt[len(mt)-len("+json"):], "+json"):
		return kindJSON
	case strings.EqualFold(mt, "application/x-www-form-urlencoded"):
		return kindForm
	case strings.EqualFold(mt, "multipart/form-data"):
		return kindMultipart
	}
	return kindNone
}

// none is the rank of a group with no candidate yet.
const none = -1

// A match is the best candidate found so far for one group. Its value is a span of
// the body, decoded on demand, or text already decoded.
type match struct {
	rank       int
	start, end int
	enc        encoding
	text       string
}

// encoding says how a match's span is decoded.
type encoding uint8

const (
	encRaw        encoding = iota // the bytes as they are: a JSON number or plain string
	encJSONString                 // a JSON string body with escapes or non-UTF-8 bytes
	encQuery                      // a %-encoded form value
	encText                       // match.text
)

func (m *match) value(body []byte) string {
	raw := body[m.start:m.end]
	switch m.enc {
	case encJSONString:
		return unquoteJSON(body[m.start-1 : m.end+1])
	case encQuery:
		return string(appendUnescape(make([]byte, 0, len(raw)), raw))
	case encText:
		return m.text
	}
	return string(raw)
}

// rank is where a field name ranks as a candidate for a group of names: depth
// first, then exact before case-insensitive, then the order of names. none when
// it is not a candidate.
func rank(key []byte, names []string, depth int) int {
	base := depth * 2 * len(names)
	for i, n := range names {
		if string(key) == n {
			return base + i
		}
	}
	for i, n := range names {
		if equalFold(key, n) {
			return base + len(names) + i
		}
	}
	return none
}

// better reports whether a candidate ranked r replaces the current match: a better
// rank, or an equal one when later candidates win.
func better(r int, m *match, lastWins bool) bool {
	switch {
	case r == none:
		return false
	case m.rank == none || r < m.rank:
		return true
	}
	return lastWins && r == m.rank
}

// equalFold is strings.EqualFold(string(k), name) without converting k when both
// are ASCII.
func equalFold(k []byte, name string) bool {
	n := min(len(k), len(name))
	for i := 0; i < n; i++ {
		a, b := k[i], name[i]
		if a|b >= 0x80 {
			return strings.EqualFold(string(k[i:]), name[i:])
		}
		if a == b {
			continue
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return len(k) == len(name)
}

// hasByte reports whether b contains c.
func hasByte(b []byte, c byte) bool { return bytes.IndexByte(b, c) >= 0 }
