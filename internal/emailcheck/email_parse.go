package emailcheck

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Length limits of RFC 5321 §4.5.3.1 and RFC 3696 (errata 1690).
const (
	maxLocalLen   = 64  // octets in the local part
	maxDomainLen  = 253 // octets in the domain, without a trailing dot
	maxLabelLen   = 63  // octets in a domain label
	maxAddressLen = 254 // octets in local@domain (a 256-octet path minus "<" and ">")
)

// emailAddr is a syntactically valid address, split and normalised for matching.
type emailAddr struct {
	addr   string // the address trimmed
	local  string // the local part as typed, quotes kept
	key    string // the local part lower-cased for matching; unquoted when it can be
	quoted bool   // key is a quoted string (its content is not a dot-atom)
	utf8   bool   // the local part holds non-ASCII characters (RFC 6531)
	domain string // lower-case ASCII, IDNA applied, no trailing dot
}

// syntaxError says which rule an address breaks: a stable code and a text.
type syntaxError struct {
	code, detail string
}

// parseEmail checks addr against the subset of RFC 5321/5322 that mailbox providers
// issue: a dot-atom or quoted-string local part (RFC 6531 UTF-8 allowed), "@", and a
// host name (IDNA allowed). Surrounding white space is trimmed. Comments, folding white
// space, display names, obsolete forms and address literals are refused.
func parseEmail(addr string) (emailAddr, syntaxError) {
	s := strings.TrimSpace(addr)
	if s == "" {
		return emailAddr{}, syntaxError{"email_empty", "the address is empty"}
	}
	if !utf8.ValidString(s) {
		return emailAddr{}, syntaxError{"email_invalid_utf8", "the address is not valid UTF-8"}
	}
	a := emailAddr{addr: s}
	var rest string
	var err syntaxError
	if s[0] == '"' {
		a.local, rest, err = scanQuoted(s)
	} else {
		a.local, rest, err = scanDotAtom(s)
	}
	if err.code != "" {
		return emailAddr{}, err
	}
	if strings.IndexByte(rest, '@') >= 0 {
		return emailAddr{}, syntaxError{"email_multiple_at", "more than one @ outside a quoted local part"}
	}
	a.key, a.quoted, a.utf8 = localKey(a.local)
	if a.key == "" || a.key == `""` {
		return emailAddr{}, syntaxError{"email_local_empty", "the local part is empty"}
	}
	if len(a.local) > maxLocalLen || len(a.key) > maxLocalLen {
		return emailAddr{}, syntaxError{"email_local_too_long", "the local part is longer than 64 octets (RFC 5321 §4.5.3.1.1)"}
	}
	a.domain, err = parseDomain(rest)
	if err.code != "" {
		return emailAddr{}, err
	}
	if max(len(a.local), len(a.key))+1+len(a.domain) > maxAddressLen {
		return emailAddr{}, syntaxError{"email_too_long", "the address is longer than 254 octets (RFC 3696 errata 1690)"}
	}
	return a, syntaxError{}
}

// isAtext reports whether c is an RFC 5322 atext character (ASCII only).
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// scanDotAtom reads an unquoted local part up to the first "@" and returns it and the
// text after the "@".
func scanDotAtom(s string) (local, rest string, err syntaxError) {
	at := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '@' {
			at = i
			break
		}
		if c == '.' || isAtext(c) {
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
				return "", "", syntaxError{"email_local_char", "the local part holds a control, format or space character"}
			}
			i += n - 1
			continue
		}
		return "", "", syntaxError{"email_local_char", "the local part holds a space, a control character or one of ()<>[]:;@\\,\" outside quotes"}
	}
	if at < 0 {
		return "", "", syntaxError{"email_no_at", "the address has no @"}
	}
	local = s[:at]
	if local == "" {
		return "", "", syntaxError{"email_local_empty", "the local part is empty"}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", "", syntaxError{"email_local_dot", "the local part starts or ends with a dot or has two dots in a row"}
	}
	return local, s[at+1:], syntaxError{}
}

// scanQuoted reads a quoted-string local part (RFC 5321 §4.1.2: printable ASCII and
// space, with "\" quoting one character; RFC 6532 adds UTF-8) and the "@" after it.
func scanQuoted(s string) (local, rest string, err syntaxError) {
	bad := syntaxError{"email_local_quote", "the quoted local part is unterminated or holds a character that needs no quotes to be invalid"}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || s[i+1] < ' ' || s[i+1] > '~' {
				return "", "", bad
			}
			i++
		case c == '"':
			if i+1 >= len(s) || s[i+1] != '@' {
				return "", "", syntaxError{"email_local_quote", "the quoted local part is not followed by @"}
			}
			return s[:i+1], s[i+2:], syntaxError{}
		case c >= ' ' && c <= '~':
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsGraphic(r) {
				return "", "", bad
			}
			i += n - 1
		default:
			return "", "", bad
		}
	}
	return "", "", bad
}

// localKey returns the matching form of a local part: lower-cased, and for a quoted
// string whose content is a dot-atom, that content without quotes ("john"@x and john@x
// are the same mailbox, RFC 5321 §4.1.2). Other quoted strings keep their quotes, with
// only '"' and '\' escaped.
func localKey(local string) (key string, quoted, nonASCII bool) {
	if local[0] != '"' {
		return lower(local), false, !isASCII(local)
	}
	var b strings.Builder
	content := local[1 : len(local)-1]
	for i := 0; i < len(content); i++ {
		c := content[i]
		if c == '\\' {
			i++
			c = content[i]
		}
		b.WriteByte(c)
	}
	u := b.String()
	nonASCII = !isASCII(u)
	if isDotAtom(u) {
		return lower(u), false, nonASCII
	}
	b.Reset()
	b.WriteByte('"')
	for _, r := range lower(u) {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String(), true, nonASCII
}

// isDotAtom reports whether s is a non-empty RFC 5322 dot-atom (with RFC 6532 UTF-8).
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case r == '.':
		case r < utf8.RuneSelf:
			if !isAtext(byte(r)) {
				return false
			}
		case !unicode.IsGraphic(r) || unicode.IsSpace(r):
			return false
		}
	}
	return true
}

// parseDomain validates the part after "@" and returns it lower-cased, in ASCII
// (IDNA 2008 with UTS #46 mapping, as browsers and mail clients look names up), without
// one trailing dot.
func parseDomain(d string) (string, syntaxError) {
	if d == "" {
		return "", syntaxError{"email_domain_empty", "the domain is empty"}
	}
	if d[0] == '[' {
		return "", syntaxError{"email_ip_literal", "the domain is an address literal; RFC 5321 allows it, but no mailbox provider issues such addresses"}
	}
	d = strings.TrimSuffix(d, ".")
	if !isASCII(d) || hasPunycode(d) {
		a, ierr := idna.Lookup.ToASCII(d)
		if ierr != nil {
			return "", syntaxError{"email_domain_idna", "the domain is not a valid internationalised domain name"}
		}
		d = a
	}
	d = lower(d)
	if len(d) > maxDomainLen {
		return "", syntaxError{"email_domain_too_long", "the domain is longer than 253 octets"}
	}
	labels := 0
	last := ""
	for rest := d; ; {
		label, tail, more := strings.Cut(rest, ".")
		if !validLabel(label) {
			return "", syntaxError{"email_domain_label", "a domain label is empty, longer than 63 octets, starts or ends with a hyphen, or holds a character other than a-z, 0-9 and -"}
		}
		labels++
		last = label
		if !more {
			break
		}
		rest = tail
	}
	if labels < 2 {
		return "", syntaxError{"email_domain_single_label", "the domain has a single label; public mail needs a name with a dot"}
	}
	if isDigits(last) {
		return "", syntaxError{"email_domain_numeric_tld", "the top-level domain is numeric (an IP address needs brackets, which are refused too)"}
	}
	return d, syntaxError{}
}

// validLabel reports whether l is an LDH label of 1 to 63 lower-case octets.
func validLabel(l string) bool {
	if l == "" || len(l) > maxLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// hasPunycode reports whether d has a label that starts with the ACE prefix "xn--",
// which IDNA must check.
func hasPunycode(d string) bool {
	for rest := d; rest != ""; {
		label, tail, _ := strings.Cut(rest, ".")
		if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			return true
		}
		rest = tail
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// lower lower-cases s, without allocating when s has no upper-case ASCII and no
// non-ASCII character.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
	}
	return s
}
