package formscan

import (
	"encoding/json"
	"unicode/utf8"
)

// findJSON records the candidates of a JSON body. The body is validated first, so
// the scanner below may assume well-formed JSON and only has to find its way.
func findJSON(b []byte, groups [][]string, ms []match) {
	if !json.Valid(b) {
		return
	}
	i := skipWS(b, 0)
	if b[i] != '{' {
		return
	}
	scanObject(b, i, 0, groups, ms)
}

// scanObject walks the object that starts at b[i] and returns the index after it.
// depth 0 is the top-level object, 1 an object directly under it; deeper objects
// are skipped, so recursion is at most two calls deep.
func scanObject(b []byte, i, depth int, groups [][]string, ms []match) int {
	i = skipWS(b, i+1)
	if b[i] == '}' {
		return i + 1
	}
	for {
		ks := i + 1
		var kesc bool
		i, kesc = skipString(b, i)
		key := b[ks : i-1]
		if kesc || !utf8.Valid(key) {
			// encoding/json decodes the name: "em\u0061il" is "email".
			key = []byte(unquoteJSON(b[ks-1 : i]))
		}
		i = skipWS(b, i)   // ':'
		i = skipWS(b, i+1) // the value
		switch c := b[i]; {
		case c == '"':
			vs := i + 1
			var esc bool
			i, esc = skipString(b, i)
			enc := encRaw
			if esc || !utf8.Valid(b[vs:i-1]) {
				enc = encJSONString
			}
			consider(key, depth, groups, ms, vs, i-1, enc)
		case c == '-' || '0' <= c && c <= '9':
			vs := i
			for i < len(b) && isNumberByte(b[i]) {
				i++
			}
			consider(key, depth, groups, ms, vs, i, encRaw)
		case c == '{' && depth == 0:
			i = scanObject(b, i, 1, groups, ms)
		case c == '{' || c == '[':
			i = skipContainer(b, i)
		default: // true, false, null
			for i < len(b) && 'a' <= b[i] && b[i] <= 'z' {
				i++
			}
		}
		i = skipWS(b, i)
		if b[i] == '}' {
			return i + 1
		}
		i = skipWS(b, i+1) // past ','
	}
}

// consider offers the JSON value b[vs:ve] of member key to every group.
func consider(key []byte, depth int, groups [][]string, ms []match, vs, ve int, enc encoding) {
	if vs == ve {
		return
	}
	for g, names := range groups {
		if r := rank(key, names, depth); better(r, &ms[g], true) {
			ms[g] = match{rank: r, start: vs, end: ve, enc: enc}
		}
	}
}

// skipString returns the index after the string that starts at b[i] == '"' and
// whether it holds an escape.
func skipString(b []byte, i int) (int, bool) {
	esc := false
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, esc
		case '\\':
			esc = true
			i++
		}
	}
	return i, esc
}

// skipContainer returns the index after the object or array that starts at b[i].
func skipContainer(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i, _ = skipString(b, i)
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return i
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// unquoteJSON decodes a JSON string literal, quotes included, as encoding/json does
// (invalid UTF-8 becomes U+FFFD). The literal comes from a validated document.
func unquoteJSON(lit []byte) string {
	var s string
	if json.Unmarshal(lit, &s) != nil {
		return ""
	}
	return s
}
