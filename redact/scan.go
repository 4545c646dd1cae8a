package redact

import (
	"encoding/base64"
	"math"
	"strings"
)

// Character classes, one bit each, looked up in the class table.
const (
	cUpper  = 1 << iota // A-Z
	cLower              // a-z
	cDigit              // 0-9
	cChunk              // characters of a "chunk": alphanumerics and _-+/.~%@
	cLocal              // e-mail local part: alphanumerics and ._%+-
	cDomain             // e-mail domain: alphanumerics and .-
	cToken              // credential token (RFC 6750 b64token minus '='): alphanumerics and -._~+/
	cB64URL             // base64url: alphanumerics and -_
)

const cAlnum = cUpper | cLower | cDigit

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		var b uint8
		switch {
		case c >= 'A' && c <= 'Z':
			b = cUpper
		case c >= 'a' && c <= 'z':
			b = cLower
		case c >= '0' && c <= '9':
			b = cDigit
		}
		if b != 0 {
			b |= cChunk | cLocal | cDomain | cToken | cB64URL
		}
		switch c {
		case '_':
			b |= cChunk | cLocal | cB64URL
		case '-':
			b |= cChunk | cLocal | cDomain | cToken | cB64URL
		case '.':
			b |= cChunk | cLocal | cDomain | cToken
		case '+':
			b |= cChunk | cLocal | cToken
		case '/':
			b |= cChunk | cToken
		case '~':
			b |= cChunk | cToken
		case '%':
			b |= cChunk | cLocal
		case '@':
			b |= cChunk
		}
		t[c] = b
	}
	return t
}()

func is(c byte, mask uint8) bool { return class[c]&mask != 0 }

// match is one finding of the scanner: the bytes s[start:end] are replaced. kind is the
// placeholder kind, or one of the pii values.
type match struct {
	start, end int
	kind       string
}

// Pseudo-kinds of matches that are transformed by the e-mail and phone modes rather
// than replaced by a placeholder.
const (
	piiEmail = "email"
	piiPhone = "phone"
)

// String returns s with every secret it finds replaced by a placeholder, and every
// e-mail address and phone number masked, hashed or kept as the configuration says. See
// the package documentation for what is found. When nothing is found, String returns s
// itself without allocating.
func (r *Redactor) String(s string) string {
	m, ok := r.next(s, 0)
	if !ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	last := 0
	for ok {
		b.WriteString(s[last:m.start])
		b.WriteString(r.replacement(s[m.start:m.end], m.kind))
		last = m.end
		m, ok = r.next(s, last)
	}
	b.WriteString(s[last:])
	return b.String()
}

func (r *Redactor) replacement(v, kind string) string {
	switch kind {
	case piiEmail:
		return r.Email(v)
	case piiPhone:
		return r.Phone(v)
	}
	return placeholder(kind, v)
}

// next returns the first finding in s at or after i.
func (r *Redactor) next(s string, i int) (match, bool) {
	for i < len(s) {
		c := s[i]
		if !is(c, cChunk) {
			switch c {
			case '[':
				if n := placeholderLen(s[i:]); n > 0 {
					i += n
					continue
				}
			case '(':
				if boundaryBefore(s, i) {
					if e := phoneAt(s, i); e > 0 && r.phones != Keep {
						return match{i, e, piiPhone}, true
					} else if e > 0 {
						i = e
						continue
					}
				}
			case ':':
				if m, ok := userinfo(s, i); ok {
					return m, true
				}
			}
			i++
			continue
		}
		j := i + 1
		at := c == '@' || c == '%'
		for j < len(s) && is(s[j], cChunk) {
			at = at || s[j] == '@' || s[j] == '%'
			j++
		}
		m, ok, skip := r.chunk(s, i, j, at)
		if ok {
			return m, true
		}
		if skip > j {
			j = skip
		}
		i = j
	}
	return match{}, false
}

// boundaryBefore reports whether s[i] starts a number: it does not continue a word,
// a decimal or an identifier.
func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := s[i-1]
	// Not after ']' either: a placeholder's end must not make a number of what
	// followed the secret it replaced, or redacting twice would differ from once.
	return !is(c, cAlnum) && c != '.' && c != '-' && c != '_' && c != '+' && c != ']'
}

// chunk looks for findings in the chunk s[i:j] (a run of chunk characters) and in what
// follows it where the chunk names a context (a credential scheme, a sensitive key).
// skip, when beyond j, is where scanning resumes because a kept e-mail or phone number
// extends past the chunk.
// at says whether the chunk holds an '@' or a '%'.
func (r *Redactor) chunk(s string, i, j int, at bool) (m match, ok bool, skip int) {
	c := s[i]
	// Numbers: card numbers and phone numbers may span spaces.
	if (is(c, cDigit) || c == '+') && boundaryBefore(s, i) {
		if is(c, cDigit) {
			if e := cardAt(s, i); e > 0 {
				return match{i, e, "CARD"}, true, 0
			}
		}
		if e := phoneAt(s, i); e > 0 {
			if r.phones != Keep {
				return match{i, e, piiPhone}, true, 0
			}
			return match{}, false, e
		}
	}
	// A card number as a path segment ("/checkout/4111111111111111"): findings before
	// it in the chunk come first.
	for p := i + 1; p < j; p++ {
		if s[p-1] == '/' && is(s[p], cDigit) {
			if e := cardAt(s, p); e > 0 {
				if m, ok, _ := r.chunk(s, i, p-1, at && strings.ContainsAny(s[i:p-1], "@%")); ok {
					return m, true, 0
				}
				return match{p, e, "CARD"}, true, 0
			}
		}
	}
	// Context words: "Bearer <token>", "Basic <base64>", "password=<value>".
	if is(c, cUpper|cLower) && j-i <= 40 && j < len(s) {
		w := s[i:j]
		if s[j] == ' ' {
			if strings.EqualFold(w, "bearer") || strings.EqualFold(w, "basic") {
				if m, ok := credentialAfter(s, j, w); ok {
					return m, true, 0
				}
			}
		}
		if vs, ve, ok := valueAfter(s, j); ok && !(s[j] == ':' && vs == j+1 && r.fieldKind(w, true) == "SECRET") {
			// (A secret-like name glued to what follows by a colon, "cookie:theme" or
			// "header:x-token", is a label naming a field, as Vigil's own findings write
			// them, not a "name: value" pair; a password name still counts.)
			if kind := r.fieldKind(w, true); kind != "" && kind != piiEmail && kind != piiPhone {
				v := s[vs:ve]
				if !isPlaceholder(v) {
					if k := credentialKind(v); k != "" {
						kind = k
					}
					return match{vs, ve, kind}, true, 0
				}
			}
		}
	}
	if c == '-' && strings.HasPrefix(s[i:], "-----BEGIN ") {
		if e := pemAt(s, i); e > 0 {
			return match{i, e, "PRIVATE_KEY"}, true, 0
		}
	}
	if !at {
		m, ok := segment(s, i, j)
		return m, ok, 0
	}
	// E-mail addresses, then shapes in the parts around them.
	pos := i
	for pos < j {
		k, atLen := indexAt(s[pos:j])
		if k < 0 {
			m, ok := segment(s, pos, j)
			return m, ok, 0
		}
		k += pos
		if ls, de := emailAt(s, pos, k, atLen); de > 0 {
			if m, ok := segment(s, pos, ls); ok {
				return m, true, 0
			}
			if r.emails != Keep {
				return match{ls, de, piiEmail}, true, 0
			}
			pos = de
			if pos > j {
				return match{}, false, pos
			}
			continue
		}
		if m, ok := segment(s, pos, k); ok {
			return m, true, 0
		}
		pos = k + atLen
	}
	return match{}, false, 0
}

// indexAt returns the index of the first "@" or "%40" in s and its length.
func indexAt(s string) (int, int) {
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			return i, 1
		}
		if s[i] == '%' && i+2 < len(s) && s[i+1] == '4' && s[i+2] == '0' {
			return i, 3
		}
	}
	return -1, 0
}

// emailAt checks for an e-mail address whose "@" (or "%40", atLen 3) is at s[k], with
// the local part starting no earlier than lo. It returns the address's bounds, or
// de == 0.
func emailAt(s string, lo, k, atLen int) (ls, de int) {
	ls = k
	for ls > lo && is(s[ls-1], cLocal) {
		ls--
	}
	for ls < k && !is(s[ls], cAlnum) {
		ls++
	}
	if ls == k {
		return 0, 0
	}
	ds := k + atLen
	de = ds
	for de < len(s) && is(s[de], cDomain) {
		de++
	}
	if de < len(s) && s[de] == '[' && s[de-1] == '.' && placeholderLen(s[de:]) > 0 {
		// The domain went on into a secret that was redacted: what is left is not the
		// whole domain, and its last label is not the top-level one.
		return 0, 0
	}
	for de > ds && (s[de-1] == '.' || s[de-1] == '-') {
		de--
	}
	d := s[ds:de]
	if d == "" || !is(d[0], cAlnum) || strings.Contains(d, "..") {
		return 0, 0
	}
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 {
		return 0, 0
	}
	tld := d[dot+1:]
	if len(tld) < 2 {
		return 0, 0
	}
	for i := 0; i < len(tld); i++ {
		if !is(tld[i], cUpper|cLower) {
			return 0, 0
		}
	}
	return ls, de
}

// credentialAfter reads the credential after an authorization scheme word that ends at
// s[j] (a space).
func credentialAfter(s string, j int, scheme string) (match, bool) {
	ts := j
	for ts < len(s) && s[ts] == ' ' {
		ts++
	}
	te := ts
	for te < len(s) && is(s[te], cToken) {
		te++
	}
	te = padEnd(s, te)
	tok := s[ts:te]
	if strings.EqualFold(scheme, "basic") {
		if isBasic(tok) {
			return match{ts, te, "BASIC"}, true
		}
		return match{}, false
	}
	if isJWT(tok) {
		return match{ts, te, "JWT"}, true
	}
	if looksLikeCredential(tok) {
		return match{ts, te, "BEARER"}, true
	}
	return match{}, false
}

// looksLikeCredential tells an opaque bearer token from an English word after
// "Bearer": at least 8 characters with a digit or a symbol, or at least 20.
func looksLikeCredential(tok string) bool {
	if len(tok) < 8 {
		return false
	}
	if len(tok) >= 20 {
		return true
	}
	for i := 0; i < len(tok); i++ {
		if !is(tok[i], cUpper|cLower) {
			return true
		}
	}
	return false
}

// isBasic reports whether tok is base64 of "user:password".
func isBasic(tok string) bool {
	if len(tok) < 4 || len(tok) > 1024 {
		return false
	}
	var buf [768]byte
	enc := base64.StdEncoding
	if !strings.HasSuffix(tok, "=") && len(tok)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	n, err := enc.Decode(buf[:], []byte(tok))
	if err != nil {
		return false
	}
	for _, c := range buf[:n] {
		if c == ':' {
			return true
		}
	}
	return false
}

// credentialKind is the kind of a credential value by its shape: a JWT, a known
// provider key, a Basic or Bearer credential with its scheme, or "" when none.
func credentialKind(v string) string {
	if sp := strings.IndexByte(v, ' '); sp > 0 {
		scheme, rest := v[:sp], strings.TrimLeft(v[sp:], " ")
		switch {
		case strings.EqualFold(scheme, "basic"):
			return "BASIC"
		case strings.EqualFold(scheme, "bearer"), strings.EqualFold(scheme, "token"):
			if k := credentialKind(rest); k != "" {
				return k
			}
			return "BEARER"
		}
		return ""
	}
	if isJWT(v) {
		return "JWT"
	}
	if e, kind := prefixAt(v, 0, len(v)); e == len(v) {
		return kind
	}
	return ""
}

// valueAfter finds the value of a "key: value" or "key=value" pair whose key ends at
// s[j]: an optional closing quote or bracket, spaces, ':' or '=', spaces, then a quoted
// string (to its closing quote or the end of s) or an unquoted run up to a delimiter. An
// unquoted alphabetic word followed by a space and a token (an authorization scheme and
// its credential) is taken whole.
func valueAfter(s string, j int) (vs, ve int, ok bool) {
	p := j
	if p < len(s) && (s[p] == '"' || s[p] == '\'' || s[p] == ']') {
		p++
	}
	for p < len(s) && s[p] == ' ' {
		p++
	}
	if p >= len(s) || (s[p] != ':' && s[p] != '=') {
		return 0, 0, false
	}
	if s[p] == ':' && p+2 < len(s) && s[p+1] == '/' && s[p+2] == '/' {
		return 0, 0, false // a URL scheme
	}
	p++
	for p < len(s) && s[p] == ' ' {
		p++
	}
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		q := s[p]
		vs = p + 1
		ve = vs
		for ve < len(s) && s[ve] != q {
			if s[ve] == '\\' && ve+1 < len(s) {
				ve++
			}
			ve++
		}
		if ve > len(s) {
			ve = len(s)
		}
		return vs, ve, ve > vs
	}
	vs = p
	ve = unquotedEnd(s, vs)
	if ve > vs && ve < len(s) && s[ve] == ' ' {
		word := true
		for i := vs; i < ve; i++ {
			if !is(s[i], cUpper|cLower) {
				word = false
				break
			}
		}
		if word && ve-vs <= 20 {
			ts := ve
			for ts < len(s) && s[ts] == ' ' {
				ts++
			}
			if te := unquotedEnd(s, ts); te > ts {
				ve = te
			}
		}
	}
	return vs, ve, ve > vs
}

// unquotedEnd is the end of an unquoted value starting at s[i].
func unquotedEnd(s string, i int) int {
	for i < len(s) {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n', '&', ',', ';', '"', '\'', '}', ')', ']', '>', '<':
			return i
		case '[':
			if placeholderLen(s[i:]) > 0 {
				return i
			}
		}
		i++
	}
	return i
}

// userinfo finds the password of a URL's user information when s[i:] starts with
// "://".
func userinfo(s string, i int) (match, bool) {
	if !strings.HasPrefix(s[i:], "://") {
		return match{}, false
	}
	a := i + 3
	e := a
	colon, at := -1, -1
	for e < len(s) {
		c := s[e]
		if c == '/' || c == '?' || c == '#' || c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '[' || c == ']' {
			break
		}
		if c == ':' && colon < 0 && at < 0 {
			colon = e
		}
		if c == '@' {
			at = e
		}
		e++
	}
	if at < 0 || colon < 0 || colon > at || colon+1 == at {
		return match{}, false
	}
	return match{colon + 1, at, "PASSWORD"}, true
}

// pemAt returns the end of a PEM private key block starting at s[i], or 0. A block
// without its END line runs to the end of s.
func pemAt(s string, i int) int {
	head := s[i:]
	nl := strings.IndexAny(head, "\r\n")
	line := head
	if nl >= 0 {
		line = head[:nl]
	}
	if !strings.Contains(line, "PRIVATE KEY-----") {
		return 0
	}
	end := strings.Index(head, "-----END ")
	if end < 0 {
		return len(s)
	}
	rest := head[end+len("-----END "):]
	k := strings.Index(rest, "-----")
	if k < 0 {
		return len(s)
	}
	return i + end + len("-----END ") + k + len("-----")
}

// segment looks for provider keys, JWTs and high-entropy tokens in s[a:b], a run of
// chunk characters without '@'.
func segment(s string, a, b int) (match, bool) {
	if b-a < minPrefixed {
		return match{}, false
	}
	ps := a // start of the current dot-separated piece
	for p := a; p <= b; p++ {
		if p == b || s[p] == '.' {
			if m, ok := generic(s, ps, p); ok {
				return m, true
			}
			ps = p + 1
			continue
		}
		if p == a || !is(s[p-1], cAlnum) {
			if e, kind := prefixAt(s, p, b); e > 0 {
				if p > ps {
					if m, ok := generic(s, ps, p-1); ok {
						return m, true
					}
				}
				return match{p, e, kind}, true
			}
		}
	}
	return match{}, false
}

// runEnd returns the end of the run of characters of class mask starting at s[i],
// looking no further than b.
func runEnd(s string, i, b int, mask uint8) int {
	for i < b && is(s[i], mask) {
		i++
	}
	return i
}

// minPrefixed is the length of the shortest key prefixAt finds; shorter runs are
// skipped at once.
const minPrefixed = 8

// prefixAt checks for a provider key, a JWT or a PEM block at s[p], reading no further
// than b (except base64 padding). It returns the key's end and kind, or 0.
func prefixAt(s string, p, b int) (int, string) {
	t := s[p:b]
	if len(t) < minPrefixed {
		return 0, ""
	}
	alnum := func(start, min, max int, mask uint8) int {
		e := runEnd(s, p+start, b, mask)
		if n := e - (p + start); n < min || (max > 0 && n != max && n > max) {
			return 0
		}
		if e < b && is(s[e], cAlnum) {
			return 0
		}
		return e
	}
	switch t[0] {
	case 'e':
		if e := jwtEnd(s, p, b); e > 0 {
			return e, "JWT"
		}
	case 'A':
		if strings.HasPrefix(t, "AIza") {
			if e := alnum(4, 35, 0, cB64URL); e > 0 {
				return e, "GOOGLE_KEY"
			}
		}
		if len(t) >= 20 && isAWSPrefix(t[:4]) {
			if e := alnum(4, 16, 16, cUpper|cDigit); e > 0 && e-p == 20 {
				return e, "AWS_KEY"
			}
		}
	case 'g':
		if len(t) > 4 && t[0] == 'g' && t[1] == 'h' && t[3] == '_' && strings.IndexByte("pousr", t[2]) >= 0 {
			if e := alnum(4, 30, 0, cAlnum); e > 0 {
				return e, "GITHUB_TOKEN"
			}
		}
		if strings.HasPrefix(t, "github_pat_") {
			if e := alnum(11, 20, 0, cAlnum|cB64URL); e > 0 {
				return e, "GITHUB_TOKEN"
			}
		}
		if strings.HasPrefix(t, "glpat-") {
			if e := alnum(6, 20, 0, cB64URL); e > 0 {
				return e, "TOKEN"
			}
		}
	case 's', 'r', 'w':
		for _, pre := range [...]string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"} {
			if strings.HasPrefix(t, pre) {
				if e := alnum(len(pre), 10, 0, cAlnum); e > 0 {
					return e, "STRIPE_KEY"
				}
			}
		}
		if strings.HasPrefix(t, "sk-") {
			if e := alnum(3, 20, 0, cB64URL); e > 0 {
				return e, "OPENAI_KEY"
			}
		}
	case 'x':
		if (strings.HasPrefix(t, "xox") && len(t) > 4 && t[4] == '-' && strings.IndexByte("abposre", t[3]) >= 0) ||
			strings.HasPrefix(t, "xapp-") {
			if e := alnum(5, 10, 0, cAlnum|cB64URL); e > 0 {
				return e, "SLACK_TOKEN"
			}
		}
	case 'y':
		if strings.HasPrefix(t, "ya29.") {
			if e := alnum(5, 20, 0, cB64URL); e > 0 {
				return e, "GOOGLE_KEY"
			}
		}
	case 'n':
		if strings.HasPrefix(t, "npm_") {
			if e := alnum(4, 36, 0, cAlnum); e > 0 {
				return e, "TOKEN"
			}
		}
	case 'S':
		if strings.HasPrefix(t, "SG.") {
			e := runEnd(s, p+3, b, cB64URL)
			if e-p-3 >= 16 && e < b && s[e] == '.' {
				if e2 := runEnd(s, e+1, b, cB64URL); e2-e-1 >= 16 && (e2 == b || !is(s[e2], cAlnum)) {
					return e2, "TOKEN"
				}
			}
		}
	}
	return 0, ""
}

func isAWSPrefix(p string) bool {
	switch p {
	case "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA":
		return true
	}
	return false
}

// jwtEnd returns the end of a JWT (or JWE) starting at s[p]: a base64url header that
// starts with "eyJ" (`{"`), then at least one more base64url part, each after a dot.
// The last part (the signature) may be empty.
func jwtEnd(s string, p, b int) int {
	if !strings.HasPrefix(s[p:b], "eyJ") {
		return 0
	}
	e := runEnd(s, p, b, cB64URL)
	if e-p < 10 || e >= b || s[e] != '.' {
		return 0
	}
	e2 := runEnd(s, e+1, b, cB64URL)
	if e2-e-1 < 2 {
		return 0
	}
	for e2 < b && s[e2] == '.' {
		e2 = runEnd(s, e2+1, b, cB64URL)
	}
	if e2 < b && is(s[e2], cAlnum) {
		return 0
	}
	return e2
}

func isJWT(v string) bool { return v != "" && jwtEnd(v, 0, len(v)) == len(v) }

// padEnd extends a base64 token ending at s[e] over up to two '=' of padding, when
// nothing that could continue a word follows them.
func padEnd(s string, e int) int {
	k := e
	for k < len(s) && k-e < 2 && s[k] == '=' {
		k++
	}
	if k == e || (k < len(s) && (is(s[k], cChunk) || s[k] == '=')) {
		return e
	}
	return k
}

// generic checks the piece s[a:b] (no '.' or '@' inside) for a high-entropy token.
// A piece that starts with '/' or does not look random as a whole is split at '/'
// (a path), and each part is checked alone.
func generic(s string, a, b int) (match, bool) {
	for a < b && !is(s[a], cAlnum) && s[a] != '/' {
		a++
	}
	for b > a && !is(s[b-1], cAlnum) {
		b--
	}
	if b-a < minToken {
		return match{}, false
	}
	piece := s[a:b]
	if strings.IndexByte(piece, '/') < 0 || (piece[0] != '/' && isRandom(piece)) {
		if isRandom(piece) && !fileName(s, b) {
			return match{a, padEnd(s, b), "TOKEN"}, true
		}
		return match{}, false
	}
	for x := a; x < b; {
		y := x
		for y < b && s[y] != '/' {
			y++
		}
		if y-x >= minToken && isRandom(s[x:y]) && (y < b || !fileName(s, b)) {
			e := y
			if y == b {
				e = padEnd(s, b)
			}
			return match{x, e, "TOKEN"}, true
		}
		x = y + 1
	}
	return match{}, false
}

// fileName reports whether a piece ending at s[b] is followed by a file extension
// (".png", ".js", ...) that ends the chunk: names of stored files are often random,
// and are kept.
func fileName(s string, b int) bool {
	if b >= len(s) || s[b] != '.' {
		return false
	}
	e := b + 1
	for e < len(s) && is(s[e], cAlnum) {
		e++
	}
	if e < len(s) && is(s[e], cChunk) {
		return false
	}
	switch strings.ToLower(s[b+1 : e]) {
	case "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff",
		"css", "js", "mjs", "map", "json", "xml", "html", "htm", "txt", "pdf", "csv",
		"woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "webm", "ogg", "wav", "mov",
		"zip", "gz", "tar", "wasm":
		return true
	}
	return false
}

// minToken is the shortest high-entropy token the generic rule redacts.
const minToken = 20

// isRandom reports whether t (at least minToken characters of a chunk) looks like a
// random token rather than a word, an identifier or an ID: it has upper- and
// lower-case letters (so hex digests, UUIDs, ULIDs and other single-case IDs are
// kept); the class (upper, lower, digit) changes between at least 30% of its
// adjacent alphanumeric pairs, 40% when it has no digit (random base64: about 60%);
// less than wordyMax percent of it is in word-like runs; and the Shannon entropy of
// its characters is at least 0.8·log2(n) bits, n its length up to 64 (random base64
// of 20 characters has about 4.0 of at most 4.3 bits).
func isRandom(t string) bool {
	if len(t) < minToken {
		return false
	}
	var counts [128]uint16
	var classes uint8
	pairs, changes := 0, 0
	var prev uint8
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= 128 {
			return false
		}
		counts[c]++
		k := class[c] & cAlnum
		classes |= k
		if k != 0 && prev != 0 {
			pairs++
			if k != prev {
				changes++
			}
		}
		prev = k
	}
	if classes&cUpper == 0 || classes&cLower == 0 || pairs == 0 {
		return false
	}
	ratio := float64(changes) / float64(pairs)
	if classes&cDigit == 0 {
		if ratio < 0.40 {
			return false
		}
	} else if ratio < 0.30 {
		return false
	}
	if wordy(t)*100 >= wordyMax*len(t) {
		return false
	}
	n := float64(len(t))
	var h float64
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h >= 0.8*math.Log2(min(n, 64))
}

// wordyMax is the highest share, in percent, of a random token's characters that
// may be in word-like runs (an optional capital and three or more lower-case letters).
// Random base64 has about 15%; identifiers such as "SomeClassName2Helper3Factory" have
// over 50%.
const wordyMax = 55

// wordy counts the characters of t in word-like runs: an optional capital letter then
// at least three lower-case letters.
func wordy(t string) int {
	total := 0
	for i := 0; i < len(t); {
		j := i
		if is(t[j], cUpper) {
			j++
		}
		k := j
		for k < len(t) && is(t[k], cLower) {
			k++
		}
		if k-j >= 3 {
			total += k - i
			i = k
			continue
		}
		i = max(k, i+1)
	}
	return total
}

// cardAt returns the end of a payment card number starting at s[i], or 0: 13 to 19
// digits in groups separated by single spaces or dashes, passing the Luhn check, with
// a card network's prefix, not continued by a letter or digit. When more digit groups
// follow (a card then its security code), the longest valid prefix of whole groups is
// taken.
func cardAt(s string, i int) int {
	var digits [19]byte
	n, best := 0, 0
	p := i
	for p < len(s) {
		e := p
		for e < len(s) && is(s[e], cDigit) {
			e++
		}
		if e == p || n+(e-p) > 19 {
			break
		}
		n += copy(digits[n:], s[p:e])
		p = e
		end := p
		if n >= 13 && luhn(digits[:n]) && cardPrefix(digits[:n]) && (end == len(s) || !is(s[end], cUpper|cLower) && s[end] != '_') {
			best = end
		}
		if p+1 < len(s) && (s[p] == ' ' || s[p] == '-') && is(s[p+1], cDigit) {
			p++
			continue
		}
		break
	}
	if best > 0 && best < len(s) && is(s[best], cDigit) {
		return 0
	}
	return best
}

func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// cardPrefix reports whether d starts like a card of a network: 3 (Amex, Diners, JCB),
// 4 (Visa), 5 (Mastercard, Maestro), 6 (Discover, UnionPay, Maestro), or 2221–2720
// (Mastercard).
func cardPrefix(d []byte) bool {
	switch d[0] {
	case '3', '4', '5', '6':
		return true
	case '2':
		v := int(d[1]-'0')*100 + int(d[2]-'0')*10 + int(d[3]-'0')
		return v >= 221 && v <= 720
	}
	return false
}

// phoneAt returns the end of a phone number starting at s[i], or 0. Two forms are
// found in free text: international ("+" then 8 to 15 digits with single spaces, dots,
// dashes or parentheses between them) and North American ("(415) 555-2671",
// "415-555-2671", "415.555.2671"). Bare digit runs are not taken for phone numbers.
func phoneAt(s string, i int) int {
	if s[i] == '+' {
		p := i + 1
		n := 0
		end := 0
		for p < len(s) {
			if is(s[p], cDigit) {
				n++
				p++
				end = p
				continue
			}
			// up to two separators in a row, e.g. ") "
			q := p
			for q < len(s) && q-p < 2 && strings.IndexByte(" .-()", s[q]) >= 0 {
				q++
			}
			if q == p || q >= len(s) || !is(s[q], cDigit) {
				break
			}
			p = q
		}
		if end == 0 || n < 8 || n > 15 || (end < len(s) && is(s[end], cAlnum|cB64URL)) {
			return 0
		}
		return end
	}
	p := i
	paren := s[p] == '('
	if paren {
		p++
	}
	if !digitsAt(s, p, 3) {
		return 0
	}
	p += 3
	if paren {
		if p >= len(s) || s[p] != ')' {
			return 0
		}
		p++
		if p < len(s) && s[p] == ' ' {
			p++
		}
	} else {
		if p >= len(s) || (s[p] != '-' && s[p] != '.' && s[p] != ' ') {
			return 0
		}
		p++
	}
	if !digitsAt(s, p, 3) {
		return 0
	}
	sep := byte(0)
	if p+3 < len(s) {
		sep = s[p+3]
	}
	if sep != '-' && sep != '.' && sep != ' ' {
		return 0
	}
	p += 4
	if !digitsAt(s, p, 4) {
		return 0
	}
	p += 4
	if p < len(s) && (is(s[p], cAlnum|cB64URL) || (s[p] == '.' || s[p] == '-') && p+1 < len(s) && is(s[p+1], cDigit)) {
		return 0
	}
	return p
}

func digitsAt(s string, p, n int) bool {
	if p+n > len(s) {
		return false
	}
	for k := p; k < p+n; k++ {
		if !is(s[k], cDigit) {
			return false
		}
	}
	return true
}
