package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mode says what happens to e-mail addresses or phone numbers.
type Mode string

// The modes. The zero Mode is Mask.
const (
	// Mask keeps a hint of the value: the first character of an address's local part
	// and domain and its top-level domain ("j***@g***.com"); the "+", the punctuation
	// and the last two digits of a phone number ("+* (***) ***-**71").
	Mask Mode = "mask"
	// Hash replaces the value with a keyed hash, "email:hmac:<12 hex>" or
	// "phone:hmac:<12 hex>": the first 48 bits of HMAC-SHA256 under Config.Key of the
	// lower-cased address (with a "%40" read as "@"), or of the phone number's leading
	// "+" and digits. Equal values give
	// equal hashes under one key, so events can be correlated without revealing them.
	Hash Mode = "hash"
	// Keep leaves the value as it is.
	Keep Mode = "keep"
)

// minKeyLen is the shortest Config.Key accepted for Hash: 128 bits.
const minKeyLen = 16

// Config configures a Redactor. The zero Config masks e-mail addresses and phone
// numbers and redacts everything else the package finds.
type Config struct {
	// Emails is what happens to e-mail addresses; "" is Mask.
	Emails Mode `json:"emails,omitempty" yaml:"emails,omitempty"`
	// Phones is what happens to phone numbers; "" is Mask.
	Phones Mode `json:"phones,omitempty" yaml:"phones,omitempty"`
	// Key is the HMAC-SHA256 key of Hash mode, at least 16 bytes; required when Emails
	// or Phones is Hash, ignored otherwise. Use one key per tenant and keep it secret:
	// whoever has it can confirm a guessed address against a hash.
	Key []byte `json:"key,omitempty" yaml:"key,omitempty"`
	// Headers are more header names whose values are redacted whole, in addition to
	// the built-in list (see the package documentation). Case is ignored.
	Headers []string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// Fields are more JSON member, form and query parameter names whose values are
	// redacted whole, in addition to the built-in list. Case, '-', '_', '.' and spaces
	// are ignored: "api-key" also names "API_KEY" and "apiKey".
	Fields []string `json:"fields,omitempty" yaml:"fields,omitempty"`
}

// Redactor removes secrets and personal data from text, headers, URLs, query strings,
// form bodies and JSON. It is immutable and safe for concurrent use. The zero Redactor
// behaves as one made from the zero Config.
type Redactor struct {
	emails, phones Mode
	key            []byte
	headers        map[string]bool // lower-cased
	fields         map[string]bool // normalized
}

// New checks cfg and returns a Redactor.
func New(cfg Config) (*Redactor, error) {
	r := &Redactor{}
	var err error
	if r.emails, err = checkMode("emails", cfg.Emails); err != nil {
		return nil, err
	}
	if r.phones, err = checkMode("phones", cfg.Phones); err != nil {
		return nil, err
	}
	if r.emails == Hash || r.phones == Hash {
		if len(cfg.Key) < minKeyLen {
			return nil, fmt.Errorf("redact: hash mode needs a key of at least %d bytes, have %d", minKeyLen, len(cfg.Key))
		}
		r.key = append([]byte(nil), cfg.Key...)
	}
	for _, h := range cfg.Headers {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			return nil, errors.New("redact: empty header name")
		}
		if r.headers == nil {
			r.headers = map[string]bool{}
		}
		r.headers[h] = true
	}
	for _, f := range cfg.Fields {
		n := normalize(f)
		if n == "" {
			return nil, fmt.Errorf("redact: field name %q is empty", f)
		}
		if r.fields == nil {
			r.fields = map[string]bool{}
		}
		r.fields[n] = true
	}
	return r, nil
}

func checkMode(what string, m Mode) (Mode, error) {
	switch m {
	case "", Mask:
		return Mask, nil
	case Hash, Keep:
		return m, nil
	}
	return "", fmt.Errorf("redact: %s mode %q is not mask, hash or keep", what, m)
}

// placeholder is the replacement of the secret v of the given kind.
func placeholder(kind, v string) string {
	return "[REDACTED:" + kind + ":" + strconv.Itoa(utf8.RuneCountInString(v)) + "_chars]"
}

// placeholderLen returns the length of the placeholder at the start of s, or 0.
func placeholderLen(s string) int {
	const pre, suf = "[REDACTED:", "_chars]"
	if !strings.HasPrefix(s, pre) {
		return 0
	}
	i := len(pre)
	k := i
	for k < len(s) && (is(s[k], cUpper|cDigit) || s[k] == '_') {
		k++
	}
	if k == i || k >= len(s) || s[k] != ':' {
		return 0
	}
	k++
	d := k
	for k < len(s) && is(s[k], cDigit) {
		k++
	}
	if k == d || !strings.HasPrefix(s[k:], suf) {
		return 0
	}
	return k + len(suf)
}

func isPlaceholder(s string) bool { return s != "" && placeholderLen(s) == len(s) }

// Email returns the e-mail address s masked, hashed or kept as the configuration says.
// s is treated as an address even when it is not one: a value without "@" is masked to
// its first character and "***". Values that are already masked or hashed come back
// unchanged.
func (r *Redactor) Email(s string) string {
	switch r.emails {
	case Keep:
		return s
	case Hash:
		if strings.HasPrefix(s, "email:hmac:") {
			return s
		}
		addr := strings.ToLower(strings.TrimSpace(s))
		if !strings.Contains(addr, "@") {
			addr = strings.Replace(addr, "%40", "@", 1)
		}
		return "email:hmac:" + r.hash(addr)
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		local, domain, ok = strings.Cut(s, "%40")
	}
	m := firstRune(local) + "***"
	if !ok {
		return m
	}
	host, tld := domain, ""
	if dot := strings.LastIndexByte(domain, '.'); dot >= 0 {
		host, tld = domain[:dot], domain[dot:]
	}
	if strings.HasPrefix(host, "*") {
		host = ""
	}
	return m + "@" + firstRune(host) + "***" + tld
}

func firstRune(s string) string {
	if s == "" || s[0] == '*' {
		return ""
	}
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

// Phone returns the phone number s masked, hashed or kept as the configuration says.
// s is treated as a phone number even when it is not one. Values that are already
// masked or hashed come back unchanged.
func (r *Redactor) Phone(s string) string {
	switch r.phones {
	case Keep:
		return s
	case Hash:
		if strings.HasPrefix(s, "phone:hmac:") {
			return s
		}
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if is(s[i], cDigit) || (s[i] == '+' && b.Len() == 0) {
				b.WriteByte(s[i])
			}
		}
		return "phone:hmac:" + r.hash(b.String())
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if is(s[i], cDigit) {
			digits++
		}
	}
	if digits <= 2 && strings.Contains(s, "*") {
		return s // already masked
	}
	keep := 2
	if digits <= 4 {
		keep = 0
	}
	b := []byte(s)
	for i := range b {
		if is(b[i], cDigit) {
			if digits > keep {
				b[i] = '*'
			}
			digits--
		}
	}
	return string(b)
}

func (r *Redactor) hash(s string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

// Header returns the value of the header name with secrets removed. Cookie and
// Set-Cookie values keep their cookie names and attributes ([Redactor.Cookie]);
// Referer and Location values are URLs ([Redactor.URL]); the values of sensitive
// headers (see the package documentation and Config.Headers) are replaced whole by one
// placeholder whose kind is the credential's shape (JWT, BEARER, BASIC, a provider
// key) or else SECRET; every other value goes through [Redactor.String].
func (r *Redactor) Header(name, value string) string {
	switch {
	case strings.EqualFold(name, "cookie"):
		return r.Cookie(value)
	case strings.EqualFold(name, "set-cookie"):
		return r.setCookie(value)
	case strings.EqualFold(name, "referer"), strings.EqualFold(name, "location"),
		strings.EqualFold(name, "content-location"):
		return r.URL(value)
	}
	if r.sensitiveHeader(name) {
		v := strings.TrimSpace(value)
		if v == "" || isPlaceholder(v) {
			return value
		}
		kind := credentialKind(v)
		if kind == "" {
			kind = "SECRET"
		}
		return placeholder(kind, v)
	}
	return r.String(value)
}

// Headers returns a copy of h with every value redacted by [Redactor.Header].
func (r *Redactor) Headers(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, vs := range h {
		c := make([]string, len(vs))
		for i, v := range vs {
			c[i] = r.Header(name, v)
		}
		out[name] = c
	}
	return out
}

// sensitiveHeader reports whether the values of the header name are secrets.
func (r *Redactor) sensitiveHeader(name string) bool {
	switch {
	case strings.EqualFold(name, "authorization"), strings.EqualFold(name, "proxy-authorization"),
		strings.EqualFold(name, "x-api-key"), strings.EqualFold(name, "api-key"),
		strings.EqualFold(name, "x-auth"), strings.EqualFold(name, "x-amz-security-token"):
		return true
	}
	for _, sub := range [...]string{"token", "secret", "session", "passw", "apikey", "api-key", "api_key",
		"credential", "signature", "csrf", "xsrf", "private-key", "access-key"} {
		if containsFold(name, sub) {
			return true
		}
	}
	if len(r.headers) > 0 {
		return r.headers[strings.ToLower(name)]
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII sub, ignoring case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// Cookie returns a Cookie header value with every cookie's value replaced and its name
// kept: "sid=[REDACTED:COOKIE:16_chars]; theme=[REDACTED:COOKIE:4_chars]". A value with
// a known shape gets that kind (a JWT session cookie is JWT). Empty values and
// placeholders are kept.
func (r *Redactor) Cookie(value string) string {
	var b strings.Builder
	rest := value
	for {
		pair, tail, more := strings.Cut(rest, ";")
		b.WriteString(r.cookiePair(pair))
		if !more {
			break
		}
		b.WriteByte(';')
		rest = tail
	}
	return b.String()
}

// setCookie redacts a Set-Cookie value: the cookie's value is replaced; its name and
// attributes (Path, Domain, Expires, ...) are kept.
func (r *Redactor) setCookie(value string) string {
	pair, attrs, ok := strings.Cut(value, ";")
	if !ok {
		return r.cookiePair(pair)
	}
	return r.cookiePair(pair) + ";" + attrs
}

func (r *Redactor) cookiePair(pair string) string {
	name, v, ok := strings.Cut(pair, "=")
	if !ok {
		v, name = pair, ""
	}
	lead := len(v) - len(strings.TrimLeft(v, " \t"))
	trail := len(strings.TrimRight(v, " \t"))
	if trail <= lead {
		return pair
	}
	core := v[lead:trail]
	if isPlaceholder(core) {
		return pair
	}
	unq := strings.TrimSuffix(strings.TrimPrefix(core, `"`), `"`)
	kind := credentialKind(unq)
	if kind == "" {
		kind = "COOKIE"
	}
	out := v[:lead] + placeholder(kind, core) + v[trail:]
	if !ok {
		return out
	}
	return name + "=" + out
}
