package rules

import (
	"path"
	"strings"
)

// Path is a request path prepared for matching. Make one with ParsePath. The zero value
// is not canonical, so a Path built by hand without Canonical set never relaxes a check.
type Path struct {
	// Clean is the path percent-decoded once and cleaned with path.Clean: it starts
	// with "/", has no "." or ".." segments, no repeated "/" and no trailing "/"
	// (except "/" itself). Servlet path parameters (";jsessionid=1") are dropped from
	// every segment, as servlet containers do before routing.
	Clean string
	// Canonical reports whether the request sent the path in a form that every router
	// reads the same way: no dot segments or repeated slashes, no backslashes, no ";"
	// (servlet containers drop ";params", so "/..;/" is ".." to Tomcat and
	// "/admin;x/users" is "/admin/users"), no percent-encoding of
	// "/", "\", "%", ".", control characters or unreserved characters, and no invalid
	// percent-encoding. A trailing "/" is canonical. A path that is not canonical is
	// matched by Clean but never relaxes a check (see the package doc).
	Canonical bool
}

// ParsePath prepares the escaped request path for matching: pass r.URL.EscapedPath()
// (not r.URL.Path, which is already decoded). An empty path is "/". ParsePath does not
// allocate for a path that is canonical and contains no percent-encoding.
func ParsePath(escaped string) Path {
	if clean, ok := plainPath(escaped); ok {
		return Path{Clean: clean, Canonical: true}
	}
	canonical := true
	decoded := escaped
	if strings.IndexByte(escaped, '%') >= 0 {
		decoded, canonical = unescape(escaped)
	}
	switch {
	case decoded == "":
		return Path{Clean: "/", Canonical: canonical}
	case decoded[0] != '/':
		decoded = "/" + decoded
		canonical = false
	}
	if strings.IndexByte(decoded, '\\') >= 0 {
		canonical = false
	}
	if strings.IndexByte(decoded, ';') >= 0 {
		// Servlet containers (Tomcat, Jetty) drop ";params" from every segment before
		// routing: "/admin;jsessionid=1/users" is "/admin/users" there. Match the
		// stripped form, so rules that tighten still apply, and never relax.
		decoded = stripParams(decoded)
		canonical = false
	}
	clean := path.Clean(decoded)
	if clean != decoded && (clean == "/" || decoded != clean+"/") {
		canonical = false
	}
	return Path{Clean: clean, Canonical: canonical}
}

// stripParams removes ";params" from every segment of p.
func stripParams(p string) string {
	b := make([]byte, 0, len(p))
	skip := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '/':
			skip = false
			b = append(b, c)
		case c == ';':
			skip = true
		case !skip:
			b = append(b, c)
		}
	}
	return string(b)
}

// plainPath is ParsePath's fast path: it reports whether escaped is a clean path with no
// percent-encoding, backslash or dot-prefixed segment (so no "." or ".." segment, and no
// "..;"), apart perhaps from a trailing slash, and returns its clean form.
func plainPath(escaped string) (string, bool) {
	if escaped == "" || escaped[0] != '/' {
		return "", false
	}
	for i := 0; i < len(escaped); i++ {
		switch escaped[i] {
		case '%', '\\', ';':
			return "", false
		case '/':
			if i+1 < len(escaped) && (escaped[i+1] == '/' || escaped[i+1] == '.') {
				return "", false
			}
		}
	}
	if len(escaped) > 1 && escaped[len(escaped)-1] == '/' {
		return escaped[:len(escaped)-1], true
	}
	return escaped, true
}

// unescape decodes every valid %XX in s. It keeps an invalid escape as it is, and
// reports canonical false if s had one or encoded a byte that must not be encoded in a
// canonical path.
func unescape(s string) (decoded string, canonical bool) {
	canonical = true
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			canonical = false
			b = append(b, c)
			continue
		}
		d := unhex(s[i+1])<<4 | unhex(s[i+2])
		if d < 0x20 || d == 0x7f || d == '/' || d == '\\' || d == '%' || isUnreserved(d) {
			canonical = false
		}
		b = append(b, d)
		i += 2
	}
	return string(b), canonical
}

// isUnreserved reports whether c is an RFC 3986 unreserved character, which a
// normalising client never percent-encodes.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
