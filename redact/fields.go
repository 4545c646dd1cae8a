package redact

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// normalize lower-cases a field name and drops '-', '_', '.' and spaces.
func normalize(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// fieldKind says how the value of a field (JSON member, form or query parameter, or a
// "key: value" pair in text) is redacted by its name: "PASSWORD" or "SECRET" for a
// placeholder, piiEmail or piiPhone for the e-mail and phone modes, "" for shapes only.
// strict, for free text, leaves out short, ambiguous names (key, code, pin, auth, ...)
// that ordinary messages use ("status code: 500").
func (r *Redactor) fieldKind(name string, strict bool) string {
	if len(name) > 64 || name == "" || strings.Contains(name, "[REDACTED:") {
		return "" // a name that was itself redacted classifies nothing
	}
	var buf [64]byte
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	f := string(buf[:n])
	if r.fields[f] {
		return "SECRET"
	}
	for _, sub := range [...]string{"passw", "passphrase"} {
		if strings.Contains(f, sub) {
			return "PASSWORD"
		}
	}
	for _, sub := range [...]string{"secret", "token", "apikey", "accesskey", "privatekey", "credential",
		"sessionid", "sessid", "authorization", "signature", "cookie", "jwt", "bearer"} {
		if strings.Contains(f, sub) {
			return "SECRET"
		}
	}
	switch f {
	case "pwd", "pass", "newpwd", "oldpwd":
		return "PASSWORD"
	case "session", "sid":
		return "SECRET"
	}
	if strict {
		return ""
	}
	switch f {
	case "pin", "pincode":
		return "PASSWORD"
	case "key", "code", "auth", "authcode", "otp", "totp", "mfa", "mfacode", "otpcode", "smscode",
		"verificationcode", "sig", "cvv", "cvc", "cvv2", "cvc2", "ssn", "secretkey", "clientkey",
		"signingkey", "encryptionkey", "license", "licensekey", "hmac", "nonce":
		return "SECRET"
	case "email", "emailaddress", "mail", "useremail":
		return piiEmail
	case "phone", "phonenumber", "mobile", "mobilephone", "msisdn", "tel", "telephone", "cellphone":
		return piiPhone
	}
	return ""
}

// URL returns the URL (absolute, or a path with an optional query and fragment) with
// secrets removed: the password of user information, shapes in the path
// ([Redactor.String]), and the query and the fragment as [Redactor.Query] does (OAuth
// puts tokens in fragments).
func (r *Redactor) URL(s string) string {
	base, frag, hasFrag := strings.Cut(s, "#")
	path, query, hasQuery := strings.Cut(base, "?")
	out := r.String(path)
	if hasQuery {
		out += "?" + r.Query(query)
	}
	if hasFrag {
		out += "#" + r.Query(frag)
	}
	return out
}

// Query returns a URL query string (without "?") with secrets removed. Parameter names
// are kept. A parameter whose name is sensitive (see the package documentation and
// Config.Fields) has its value replaced by a placeholder; e-mail and phone parameters
// get the e-mail and phone modes; other values are decoded and go through
// [Redactor.String]. Values that change are written back percent-encoded, except the
// characters of placeholders and masks; values that do not change are kept byte for
// byte.
func (r *Redactor) Query(rawQuery string) string {
	var b strings.Builder
	changed := false
	rest := rawQuery
	for {
		part, tail, more := strings.Cut(rest, "&")
		red := r.queryPart(part)
		if red != part {
			changed = true
		}
		b.WriteString(red)
		if !more {
			break
		}
		b.WriteByte('&')
		rest = tail
	}
	if !changed {
		return rawQuery
	}
	return b.String()
}

// Form returns an application/x-www-form-urlencoded body with secrets removed. The
// encoding is a query string's, so Form is [Redactor.Query].
func (r *Redactor) Form(body string) string { return r.Query(body) }

func (r *Redactor) queryPart(part string) string {
	name, v, hasValue := strings.Cut(part, "=")
	if !hasValue {
		return r.queryValue(part)
	}
	dn, err := url.QueryUnescape(name)
	if err != nil {
		dn = name
	}
	outName := r.queryValue(name)
	kind := r.fieldKind(dn, false)
	dv, err := url.QueryUnescape(v)
	if err != nil {
		dv = v
	}
	switch {
	case v == "" || kind == "":
		return outName + "=" + r.queryValue(v)
	case isPlaceholder(dv):
		return outName + "=" + v
	case kind == piiEmail:
		return outName + "=" + queryEscape(r.String(r.Email(dv)))
	case kind == piiPhone:
		return outName + "=" + queryEscape(r.String(r.Phone(dv)))
	}
	if k := credentialKind(dv); k != "" {
		kind = k
	}
	return outName + "=" + placeholder(kind, dv)
}

// queryValue redacts shapes in one encoded query value.
func (r *Redactor) queryValue(v string) string {
	if v == "" {
		return v
	}
	d, err := url.QueryUnescape(v)
	if err != nil {
		d = v
	}
	red := r.String(d)
	if red == d {
		return v
	}
	return queryEscape(red)
}

// queryEscape percent-encodes what a query value cannot hold: '%', '&', '+', '=',
// '#', spaces, control characters and bytes beyond ASCII. The characters of
// placeholders and masks ("[]:*@") are written as they are.
func queryEscape(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f || c == '%' || c == '&' || c == '+' || c == '=' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\':
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// JSON returns the JSON document doc with secrets removed; the result is valid JSON.
// Members whose names are sensitive have their string and number values replaced by
// placeholder strings, and so do the strings and numbers inside their objects and
// arrays; e-mail and phone members get the e-mail and phone modes; other strings and
// numbers, and member names, go through [Redactor.String]. Structure, order, white
// space and unchanged values are kept byte for byte. A doc that is not valid JSON is
// redacted as text by [Redactor.String].
func (r *Redactor) JSON(doc []byte) []byte {
	if !json.Valid(doc) {
		return []byte(r.String(string(doc)))
	}
	w := jsonWalker{r: r, in: doc, out: make([]byte, 0, len(doc)+32)}
	w.value("")
	w.out = append(w.out, doc[w.i:]...)
	return w.out
}

// jsonWalker copies a valid JSON document, redacting as it goes.
type jsonWalker struct {
	r   *Redactor
	in  []byte
	out []byte
	i   int
}

func (w *jsonWalker) ws() {
	for w.i < len(w.in) {
		switch w.in[w.i] {
		case ' ', '\t', '\r', '\n':
			w.out = append(w.out, w.in[w.i])
			w.i++
		default:
			return
		}
	}
}

// value copies one value. kind is the field kind of the member holding it, inherited
// by the values inside objects and arrays when it is a secret kind.
func (w *jsonWalker) value(kind string) {
	w.ws()
	if w.i >= len(w.in) {
		return
	}
	switch c := w.in[w.i]; c {
	case '{':
		w.out = append(w.out, '{')
		w.i++
		for {
			w.ws()
			if w.in[w.i] == '}' {
				w.out = append(w.out, '}')
				w.i++
				return
			}
			raw := w.stringToken()
			key := decodeJSONString(raw)
			w.writeString(raw, key, w.r.String(key))
			w.ws()
			w.out = append(w.out, ':')
			w.i++
			child := w.r.fieldKind(key, false)
			if isSecretKind(kind) && !isSecretKind(child) {
				child = kind
			}
			w.value(child)
			w.ws()
			if w.in[w.i] == ',' {
				w.out = append(w.out, ',')
				w.i++
			}
		}
	case '[':
		w.out = append(w.out, '[')
		w.i++
		if !isSecretKind(kind) {
			kind = ""
		}
		for {
			w.ws()
			if w.in[w.i] == ']' {
				w.out = append(w.out, ']')
				w.i++
				return
			}
			w.value(kind)
			w.ws()
			if w.in[w.i] == ',' {
				w.out = append(w.out, ',')
				w.i++
			}
		}
	case '"':
		raw := w.stringToken()
		v := decodeJSONString(raw)
		w.writeString(raw, v, w.redactValue(kind, v))
	default:
		s := w.i
		for w.i < len(w.in) && !strings.ContainsRune(" \t\r\n,]}", rune(w.in[w.i])) {
			w.i++
		}
		tok := string(w.in[s:w.i])
		red := tok
		if c == '-' || (c >= '0' && c <= '9') {
			red = w.redactValue(kind, tok)
		}
		if red == tok {
			w.out = append(w.out, tok...)
		} else {
			w.out = appendJSONString(w.out, red)
		}
	}
}

func isSecretKind(k string) bool { return k != "" && k != piiEmail && k != piiPhone }

// redactValue redacts one string or number of a member of the given field kind.
func (w *jsonWalker) redactValue(kind, v string) string {
	switch {
	case v == "" || isPlaceholder(v):
		return v
	case kind == piiEmail:
		return w.r.String(w.r.Email(v))
	case kind == piiPhone:
		return w.r.String(w.r.Phone(v))
	case kind != "":
		if k := credentialKind(v); k != "" {
			kind = k
		}
		return placeholder(kind, v)
	}
	return w.r.String(v)
}

// stringToken returns the raw string token (with quotes) at the cursor and moves past
// it.
func (w *jsonWalker) stringToken() []byte {
	s := w.i
	w.i++
	for w.in[w.i] != '"' {
		if w.in[w.i] == '\\' {
			w.i++
		}
		w.i++
	}
	w.i++
	return w.in[s:w.i]
}

// writeString writes the string whose raw token is raw and decoded value v as red:
// the raw token when nothing changed.
func (w *jsonWalker) writeString(raw []byte, v, red string) {
	if red == v {
		w.out = append(w.out, raw...)
		return
	}
	w.out = appendJSONString(w.out, red)
}

func decodeJSONString(raw []byte) string {
	inner := raw[1 : len(raw)-1]
	if !strings.ContainsRune(string(inner), '\\') && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(inner) // unreachable: the document is valid
	}
	return s
}

// appendJSONString appends s as a JSON string, escaping quotes, backslashes and
// control characters and replacing invalid UTF-8 with U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexd[r>>4], hexd[r&15])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
