package formscan

import (
	"bytes"
	"mime"
	"mime/multipart"
)

// findForm records the candidates of an application/x-www-form-urlencoded body,
// pair by pair, skipping the pairs net/url.ParseQuery drops.
func findForm(b []byte, groups [][]string, ms []match) {
	var kbuf [64]byte
	for off := 0; off < len(b); {
		end := bytes.IndexByte(b[off:], '&')
		if end < 0 {
			end = len(b)
		} else {
			end += off
		}
		pair := b[off:end]
		start := off
		off = end + 1
		if len(pair) == 0 || hasByte(pair, ';') {
			continue
		}
		eq := bytes.IndexByte(pair, '=')
		if eq < 0 {
			continue // a name without a value: its value is ""
		}
		rawKey, rawVal := pair[:eq], pair[eq+1:]
		if len(rawVal) == 0 || !validEscapes(rawVal) {
			continue
		}
		key := rawKey
		if hasByte(rawKey, '%') || hasByte(rawKey, '+') {
			if !validEscapes(rawKey) {
				continue
			}
			key = appendUnescape(kbuf[:0], rawKey)
		}
		vs := start + eq + 1
		for g, names := range groups {
			if r := rank(key, names, 0); better(r, &ms[g], false) {
				ms[g] = match{rank: r, start: vs, end: end, enc: encQuery}
			}
		}
	}
}

// validEscapes reports whether every '%' in s starts a two-digit hex escape, which
// is what net/url.QueryUnescape requires.
func validEscapes(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

// appendUnescape appends s decoded as net/url.QueryUnescape decodes it ('+' is a
// space); s has passed validEscapes.
func appendUnescape(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst
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

// maxParts is how many multipart parts Find examines: the default limit of
// mime/multipart.Reader.ReadForm, past which a Go application rejects the body.
const maxParts = 1000

// findMultipart records the candidates of a multipart/form-data body: the value
// parts ReadForm would keep, in order, until the end, a malformed part, or maxParts.
func findMultipart(ct string, b []byte, groups [][]string, ms []match) {
	_, params, err := mime.ParseMediaType(ct)
	boundary := params["boundary"]
	if err != nil || boundary == "" {
		return
	}
	mr := multipart.NewReader(bytes.NewReader(b), boundary)
	var val bytes.Buffer
	for range maxParts {
		p, err := mr.NextPart()
		if err != nil {
			return
		}
		name := p.FormName()
		if name == "" || p.FileName() != "" {
			continue // not a form field, or a file: NextPart skips its content
		}
		wanted := false
		for g, names := range groups {
			if better(rank([]byte(name), names, 0), &ms[g], false) {
				wanted = true
				break
			}
		}
		if !wanted {
			continue
		}
		val.Reset()
		if _, err := val.ReadFrom(p); err != nil {
			return // truncated or malformed: the part's value is not known
		}
		if val.Len() == 0 {
			continue
		}
		text := val.String()
		for g, names := range groups {
			if r := rank([]byte(name), names, 0); better(r, &ms[g], false) {
				ms[g] = match{rank: r, enc: encText, text: text}
			}
		}
	}
}
