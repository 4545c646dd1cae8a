// Package decode normalises untrusted request input so that detectors see what the
// application will eventually see, whatever encoding an attacker wrapped it in.
//
// [String] is the full pipeline. It repeats, at most [MaxRounds] times and only while
// the text keeps changing, one round of:
//
//   - percent-decoding ([Percent]): %XX, IIS-style %uHHHH, and '+' as a space in the
//     first round of the [Query] context only (a "%2B" that decodes to '+' stays a plus);
//   - HTML character references ([HTML]): named, decimal and hex, with or without the
//     trailing semicolon, as a browser reads them in text;
//   - Unicode normalisation ([Unicode]): overlong UTF-8 encodings of ASCII become that
//     ASCII byte, NUL bytes are removed, and NFKC folds compatibility forms such as
//     fullwidth letters ("ｓｃｒｉｐｔ" → "script").
//
// In the [Path] context it then applies [CleanPath]: backslashes become slashes, and
// duplicate slashes and "." segments collapse. ".." segments are kept, because they are
// what a detector looks for.
//
// [Escapes] decodes JavaScript and JSON backslash escapes (\u0041, \x41). It is not
// part of String, because a backslash means nothing in most contexts (Windows paths);
// callers apply it where such escapes are plausible.
//
// Every function returns its input unchanged, without allocating, when the input holds
// none of the bytes that function acts on, so clean input costs one scan. Output is
// bounded: no function returns a string longer than [MaxGrowth] times its input (plus
// a few bytes for very short inputs), whatever the input. Invalid encodings are left
// as they are; nothing here panics or returns an error. The functions are safe for
// concurrent use.
package decode

import (
	"html"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxRounds is the largest number of decoding rounds [String] applies. Three rounds undo
// double and triple encoding ("%25252e" → "%252e" → "%2e" → "."), which is as deep as
// real servers and frameworks decode; deeper nesting is left partly encoded.
const MaxRounds = 3

// MaxGrowth bounds output length: for any input s, len(String(s, ctx)) ≤
// MaxGrowth*len(s) + growthSlack. Only NFKC can lengthen text (one code point can
// expand to many); a round whose NFKC step would break the bound skips that step.
const MaxGrowth = 2

// growthSlack lets a single short input expand (one 3-byte rune can become 18 runes
// under NFKC) without making the bound useless for long inputs.
const growthSlack = 16

// Context says where a string came from, which decides the context-specific rules.
type Context uint8

const (
	// Text is a header, cookie, JSON string or raw body: '+' is literal.
	Text Context = iota
	// Query is a query-string or form value: '+' in the raw input is a space.
	Query
	// Path is a URL path: '+' is literal, backslashes are separators, and duplicate
	// slashes and "." segments collapse.
	Path
)

// String applies the full normalisation pipeline for ctx; see the package
// documentation. It returns s itself, with no allocation, when s needs no decoding.
func String(s string, ctx Context) string {
	out, _ := normalize(s, ctx)
	return out
}

// NeedsDecoding reports whether [String] could change s in context ctx. It is the
// fast-path test String itself uses.
func NeedsDecoding(s string, ctx Context) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' || c == '&' || c == 0 || c >= utf8.RuneSelf:
			return true
		case c == '+' && ctx == Query:
			return true
		}
	}
	return ctx == Path && pathNeedsClean(s)
}

// normalize is String that also reports whether the result is a fixpoint: whether a
// further round would change nothing. Only then is String idempotent on s.
func normalize(s string, ctx Context) (string, bool) {
	if !NeedsDecoding(s, ctx) {
		return s, true
	}
	limit := MaxGrowth*len(s) + growthSlack
	cur := s
	fixpoint := false
	for round := 0; round < MaxRounds; round++ {
		next := Percent(cur, ctx == Query && round == 0)
		next = HTML(next)
		if u := Unicode(next); len(u) <= limit {
			next = u
		} else {
			next = stripControl(next)
		}
		if next == cur {
			fixpoint = true
			break
		}
		cur = next
	}
	if !fixpoint {
		// The rounds ran out while the text was still changing; one more look tells
		// whether the last round happened to reach the fixpoint.
		fixpoint = Percent(cur, false) == cur && HTML(cur) == cur && Unicode(cur) == cur
	}
	if ctx == Path {
		cur = CleanPath(cur)
	}
	return cur, fixpoint
}

// Percent decodes one round of percent-encoding: "%XX" becomes the byte XX, "%uHHHH"
// (IIS) becomes the UTF-8 encoding of U+HHHH, with a following "%uHHHH" low surrogate
// joined to a high one and lone surrogates becoming U+FFFD. When plus is true, '+'
// becomes a space, as in application/x-www-form-urlencoded. Malformed escapes ("%zz",
// a trailing "%") stay as they are, as PHP and browsers leave them. The result is never
// longer than s.
func Percent(s string, plus bool) string {
	first := -1
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' && (isHexEscape(s, i) || isUnicodeEscape(s, i)) || c == '+' && plus {
			first = i
			break
		}
	}
	if first < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:first])
	for i := first; i < len(s); {
		c := s[i]
		switch {
		case c == '+' && plus:
			b.WriteByte(' ')
			i++
		case c == '%' && isHexEscape(s, i):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 3
		case c == '%' && isUnicodeEscape(s, i):
			r := hex4(s[i+2:])
			i += 6
			if utf16IsHigh(r) && isUnicodeEscape(s, i) {
				if lo := hex4(s[i+2:]); utf16IsLow(lo) {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				}
			}
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isHexEscape(s string, i int) bool {
	return i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])
}

func isUnicodeEscape(s string, i int) bool {
	return i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') &&
		isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func hex4(s string) rune {
	return rune(unhex(s[0]))<<12 | rune(unhex(s[1]))<<8 | rune(unhex(s[2]))<<4 | rune(unhex(s[3]))
}

func utf16IsHigh(r rune) bool { return 0xD800 <= r && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return 0xDC00 <= r && r < 0xE000 }

// HTML decodes HTML character references the way a browser does in text content:
// named references ("&lt;", "&colon;"), decimal ("&#60;") and hex ("&#x3c;")
// references, the semicolon optional where HTML allows it ("&lt", "&#60"), code points
// 0x80–0x9F read as Windows-1252, and invalid code points as U+FFFD. It is
// [html.UnescapeString], whose result is never longer than its input.
func HTML(s string) string {
	return html.UnescapeString(s)
}

// Unicode normalises text for comparison with ASCII patterns: overlong UTF-8
// encodings of ASCII characters (0xC0 0xAE for '.') become the ASCII byte, NUL bytes
// are removed, and the result is put in NFKC form, which among other things maps
// fullwidth forms to ASCII ("％" → "%", "＜" → "<"). Bytes that are not valid UTF-8
// are otherwise kept. ASCII input without NUL is returned unchanged.
func Unicode(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == 0 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	s = stripControl(s)
	if isASCII(s) {
		return s
	}
	return norm.NFKC.String(s)
}

// stripControl removes NUL bytes and replaces overlong UTF-8 encodings of ASCII with
// the ASCII byte. The result is never longer than s.
func stripControl(s string) string {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c == 0 || overlongLen(s, i) > 0 {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c == 0 {
			i++
			continue
		}
		if n := overlongLen(s, i); n > 0 {
			if r := overlongValue(s[i : i+n]); r != 0 {
				b.WriteByte(r)
			}
			i += n
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// overlongLen returns the length of an overlong UTF-8 encoding of an ASCII character
// starting at s[i] (C0/C1 x, E0 80/81 x, F0 80 80/81 x), or 0.
func overlongLen(s string, i int) int {
	switch s[i] {
	case 0xC0, 0xC1:
		if i+1 < len(s) && isCont(s[i+1]) {
			return 2
		}
	case 0xE0:
		if i+2 < len(s) && s[i+1]&0xFE == 0x80 && isCont(s[i+2]) {
			return 3
		}
	case 0xF0:
		if i+3 < len(s) && s[i+1] == 0x80 && s[i+2]&0xFE == 0x80 && isCont(s[i+3]) {
			return 4
		}
	}
	return 0
}

func isCont(c byte) bool { return c&0xC0 == 0x80 }

// overlongValue decodes an overlong sequence found by overlongLen to its ASCII byte.
func overlongValue(seq string) byte {
	last := seq[len(seq)-1] & 0x3F
	prev := seq[len(seq)-2] & 0x3F
	return prev<<6&0x40 | last
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// CleanPath normalises a decoded URL path for matching: backslashes become slashes,
// runs of slashes become one, and "." segments are removed ("/a/./b" → "/a/b",
// "/a/." → "/a/"). ".." segments are kept, so a detector still sees traversal. A path
// that needs none of this is returned unchanged. The result is never longer than s.
func CleanPath(s string) string {
	if !pathNeedsClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	if isSep(s[0]) {
		b.WriteByte('/')
	}
	trailing := false // whether the last segment seen was empty or "."
	for start := 0; start <= len(s); {
		end := start
		for end < len(s) && !isSep(s[end]) {
			end++
		}
		seg := s[start:end]
		trailing = seg == "" || seg == "."
		if !trailing {
			if b.Len() > 0 && !endsWithSlash(&b) {
				b.WriteByte('/')
			}
			b.WriteString(seg)
		}
		start = end + 1
	}
	if trailing && b.Len() > 0 && !endsWithSlash(&b) {
		b.WriteByte('/')
	}
	return b.String()
}

func endsWithSlash(b *strings.Builder) bool {
	s := b.String()
	return s[len(s)-1] == '/'
}

func isSep(c byte) bool { return c == '/' || c == '\\' }

// pathNeedsClean reports whether CleanPath would change s: whether it holds a
// backslash, a doubled slash or a "." segment.
func pathNeedsClean(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			return true
		case '/':
			if i+1 < len(s) && s[i+1] == '/' {
				return true
			}
		case '.':
			if (i == 0 || s[i-1] == '/') && (i+1 == len(s) || s[i+1] == '/') {
				return true
			}
		}
	}
	return false
}

// Escapes decodes the backslash escapes of JavaScript, JSON and many template
// languages, which attackers use to hide keywords from byte matching ("$\u007Bjndi",
// "\x3cscript"): \uHHHH (with surrogate pairs joined), \u{X…} (up to six hex digits)
// and \xXX. Anything else, including a backslash before other text such as a Windows
// path, is left as it is. It is not part of [String], because in most contexts a
// backslash means nothing; callers apply it where such escapes are plausible. The
// result is never longer than s.
func Escapes(s string) string {
	first := -1
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' && escapeLen(s, i) > 0 {
			first = i
			break
		}
	}
	if first < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:first])
	for i := first; i < len(s); {
		n := 0
		if s[i] == '\\' {
			n = escapeLen(s, i)
		}
		if n == 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		var r rune
		switch {
		case s[i+1] == 'x':
			r = rune(unhex(s[i+2])<<4 | unhex(s[i+3]))
		case s[i+2] == '{':
			for _, c := range []byte(s[i+3 : i+n-1]) {
				r = r<<4 | rune(unhex(c))
			}
		default:
			r = hex4(s[i+2:])
			if utf16IsHigh(r) && i+n+5 < len(s) && s[i+n] == '\\' && s[i+n+1] == 'u' && escapeLen(s, i+n) == 6 {
				if lo := hex4(s[i+n+2:]); utf16IsLow(lo) {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					n += 6
				}
			}
		}
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// escapeLen returns the length of the escape starting with the backslash at s[i], or 0.
func escapeLen(s string, i int) int {
	if i+1 >= len(s) {
		return 0
	}
	switch s[i+1] {
	case 'x':
		if i+3 < len(s) && isHex(s[i+2]) && isHex(s[i+3]) {
			return 4
		}
	case 'u', 'U':
		if i+2 < len(s) && s[i+2] == '{' {
			j := i + 3
			for j < len(s) && j-(i+3) < 6 && isHex(s[j]) {
				j++
			}
			if j > i+3 && j < len(s) && s[j] == '}' {
				return j + 1 - i
			}
			return 0
		}
		if i+5 < len(s) && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]) {
			return 6
		}
	}
	return 0
}
