// Package glob compiles and matches the path patterns used throughout a Vigil policy
// (exclude_paths, honeypot paths, rule and route paths).
//
// Syntax, matched against a cleaned, decoded request path:
//
//   - A pattern starts with "/" and is split into "/"-separated segments.
//   - "*" inside a segment matches any run of characters except "/", including none.
//   - "**" as a whole segment matches zero or more whole segments:
//     "/a/**" matches "/a", "/a/b" and "/a/b/c"; "/**/x" matches "/x" and "/a/b/x".
//   - A pattern ending in "/" matches that directory and everything below it:
//     "/static/" means "/static/**". The pattern "/" alone matches only "/".
//   - Everything else matches itself, byte for byte (case-sensitive).
//
// A pattern may not contain empty, "." or ".." segments (a cleaned path has none), a "**"
// that is not a whole segment, "?" or "#" (a path carries no query or fragment), "%"
// (patterns match decoded paths: write the character itself), control characters or
// invalid UTF-8.
//
// Matching never backtracks exponentially: a general pattern costs at most
// O(segments(path) × segments(pattern)) segment comparisons, each linear in the segment,
// and common shapes (exact, "/dir/**", "/**/name", "/**/name/**") are a single string
// comparison.
package glob

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLen is the longest pattern Compile accepts, in bytes.
const MaxLen = 1024

type kind uint8

const (
	kindExact   kind = iota // lit == path
	kindSubtree             // path == lit or path has prefix lit+"/"; lit "" matches every path
	kindLastSeg             // last segment == lit[1:]: path == lit or has suffix lit
	kindAnySeg              // some segment == lit[1:]
	kindGeneral             // segment-wise match
)

// segment is one compiled pattern segment.
type segment struct {
	globstar bool     // "**"
	lit      string   // the segment when it has no "*"
	parts    []string // the segment split at "*" when it has one (len ≥ 2)
	minLen   int      // sum of len(parts)
}

// Pattern is a compiled glob. The zero value matches nothing. A Pattern is immutable and
// safe for concurrent use.
type Pattern struct {
	src     string
	fold    bool
	kind    kind
	lit     string
	litSl   string // kindSubtree: lit + "/"; kindAnySeg: lit + "/"
	segs    []segment
	literal int
	valid   bool
}

// Compile parses pattern. The error says what is wrong without repeating the pattern.
func Compile(pattern string) (Pattern, error) {
	return compile(pattern, false)
}

// CompileFold is Compile for a pattern that ignores ASCII case: "/.env" matches "/.ENV".
// Matching does not allocate, as with Compile.
func CompileFold(pattern string) (Pattern, error) {
	return compile(pattern, true)
}

func compile(pattern string, fold bool) (Pattern, error) {
	if err := check(pattern); err != nil {
		return Pattern{}, err
	}
	p := Pattern{src: pattern, fold: fold, valid: true}
	body := pattern
	if fold {
		body = lower(body)
	}
	if len(body) > 1 && strings.HasSuffix(body, "/") {
		body += "**"
	}
	raw := strings.Split(body[1:], "/")
	if body == "/" {
		raw = []string{""}
	}
	p.segs = make([]segment, len(raw))
	wild := false
	for i, s := range raw {
		switch {
		case s == "**":
			p.segs[i] = segment{globstar: true}
			wild = true
			continue // "**" may match no segment, so its "/" is not literal
		case strings.Contains(s, "*"):
			parts := strings.Split(s, "*")
			n := 0
			for _, pt := range parts {
				n += len(pt)
			}
			p.segs[i] = segment{parts: parts, minLen: n}
			p.literal += n
			wild = true
		default:
			p.segs[i] = segment{lit: s}
			p.literal += len(s)
		}
		p.literal++ // the "/" before the segment
	}
	p.kind = kindGeneral
	segs := p.segs
	plain := func(ss []segment) bool {
		for _, s := range ss {
			if s.globstar || s.parts != nil {
				return false
			}
		}
		return true
	}
	join := func(ss []segment) string {
		var b strings.Builder
		for _, s := range ss {
			b.WriteByte('/')
			b.WriteString(s.lit)
		}
		return b.String()
	}
	n := len(segs)
	switch {
	case !wild:
		p.kind, p.lit = kindExact, body
	case segs[n-1].globstar && plain(segs[:n-1]):
		p.kind, p.lit = kindSubtree, join(segs[:n-1])
		p.litSl = p.lit + "/"
	case n == 2 && segs[0].globstar && plain(segs[1:]):
		p.kind, p.lit = kindLastSeg, join(segs[1:])
	case n == 3 && segs[0].globstar && segs[2].globstar && plain(segs[1:2]):
		p.kind, p.lit = kindAnySeg, join(segs[1:2])
		p.litSl = p.lit + "/"
	}
	if p.kind != kindGeneral {
		p.segs = nil
	}
	return p, nil
}

func check(pattern string) error {
	switch {
	case pattern == "":
		return errors.New("empty pattern")
	case len(pattern) > MaxLen:
		return fmt.Errorf("pattern longer than %d bytes", MaxLen)
	case pattern[0] != '/':
		return errors.New(`pattern must start with "/"`)
	case !utf8.ValidString(pattern):
		return errors.New("pattern is not valid UTF-8")
	}
	for _, r := range pattern {
		switch {
		case r < 0x20 || r == 0x7f:
			return errors.New("pattern contains a control character")
		case r == '?' || r == '#':
			return fmt.Errorf("pattern contains %q: paths carry no query or fragment", r)
		case r == '%':
			return errors.New(`pattern contains "%": patterns match decoded paths, write the character itself`)
		}
	}
	if pattern == "/" {
		return nil
	}
	body := strings.TrimSuffix(pattern[1:], "/")
	for s := range strings.SplitSeq(body, "/") {
		switch {
		case s == "":
			return errors.New(`pattern contains an empty segment ("//")`)
		case s == "." || s == "..":
			return fmt.Errorf("pattern contains a %q segment", s)
		case s != "**" && strings.Contains(s, "**"):
			return fmt.Errorf(`"**" must be a whole segment, as in "/**/x"; got segment %q`, s)
		}
	}
	return nil
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.src }

// Exact returns the one path p matches and true when p has no wildcard.
func (p *Pattern) Exact() (string, bool) {
	return p.lit, p.valid && p.kind == kindExact
}

// Literal returns the number of bytes of p that match themselves, counting each "/"
// separator. More literal bytes means a more specific pattern.
func (p *Pattern) Literal() int { return p.literal }

// FirstSegment returns the first segment of the paths p can match and true when that
// segment is literal: "api" for "/api/**", "" for "/". It is lower case for a pattern from
// CompileFold. Callers use it to index patterns by the first segment of a path.
func (p *Pattern) FirstSegment() (string, bool) {
	if !p.valid {
		return "", false
	}
	if p.kind == kindGeneral {
		s := p.segs[0]
		return s.lit, !s.globstar && s.parts == nil
	}
	if p.kind == kindLastSeg || p.kind == kindAnySeg || p.lit == "" {
		return "", false // starts with "**"
	}
	first, _, _ := strings.Cut(p.lit[1:], "/")
	return first, true
}

// Segment returns the name that some segment of every path p matches must equal, for a
// pattern that is one literal segment at any depth ("/**/.env", "/**/.git/"), and false
// for any other pattern. The name is lower case for a pattern from CompileFold.
func (p *Pattern) Segment() (string, bool) {
	if !p.valid || (p.kind != kindLastSeg && p.kind != kindAnySeg) || strings.Contains(p.lit[1:], "/") {
		return "", false
	}
	return p.lit[1:], true
}

// Match reports whether path matches p. Path should be a cleaned path starting with "/";
// a path that does not start with "/" matches nothing.
func (p *Pattern) Match(path string) bool {
	if !p.valid || path == "" || path[0] != '/' {
		return false
	}
	if p.fold {
		return p.matchFold(path)
	}
	switch p.kind {
	case kindExact:
		return path == p.lit
	case kindSubtree:
		return path == p.lit || strings.HasPrefix(path, p.litSl)
	case kindLastSeg:
		return strings.HasSuffix(path, p.lit)
	case kindAnySeg:
		return strings.HasSuffix(path, p.lit) || strings.Contains(path, p.litSl)
	}
	return matchSegs(p.segs, path[1:], false)
}

// matchSegs matches segs against rest, the path without its leading "/", ignoring ASCII
// case when fold is set (the pattern's literals are then lower case). It is the classic
// greedy wildcard algorithm with a single backtrack point, applied to segments: "**" is
// the only variable-length unit, so it is linear in the number of path segments for each
// pattern segment.
func matchSegs(segs []segment, rest string, fold bool) bool {
	end := len(rest) + 1 // position past the last segment
	at := func(i int) (string, int) {
		j := strings.IndexByte(rest[i:], '/')
		if j < 0 {
			return rest[i:], end
		}
		return rest[i : i+j], i + j + 1
	}
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < end {
		if pi < len(segs) {
			if segs[pi].globstar {
				starP, starS = pi, si
				pi++
				continue
			}
			seg, next := at(si)
			var ok bool
			if fold {
				ok = segs[pi].matchFold(seg)
			} else {
				ok = segs[pi].match(seg)
			}
			if ok {
				pi++
				si = next
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, starS = at(starS)
		si = starS
		pi = starP + 1
	}
	for pi < len(segs) && segs[pi].globstar {
		pi++
	}
	return pi == len(segs)
}

// match matches one path segment, which contains no "/".
func (s *segment) match(seg string) bool {
	if s.parts == nil {
		return seg == s.lit
	}
	if len(seg) < s.minLen {
		return false
	}
	first, last := s.parts[0], s.parts[len(s.parts)-1]
	if !strings.HasPrefix(seg, first) || !strings.HasSuffix(seg, last) {
		return false
	}
	seg = seg[len(first) : len(seg)-len(last)]
	for _, part := range s.parts[1 : len(s.parts)-1] {
		i := strings.Index(seg, part)
		if i < 0 {
			return false
		}
		seg = seg[i+len(part):]
	}
	return true
}

// matchFold is match ignoring ASCII case.
func (s *segment) matchFold(seg string) bool {
	if s.parts == nil {
		return equalFold(seg, s.lit)
	}
	if len(seg) < s.minLen {
		return false
	}
	first, last := s.parts[0], s.parts[len(s.parts)-1]
	if !equalFold(seg[:len(first)], first) || !equalFold(seg[len(seg)-len(last):], last) {
		return false
	}
	seg = seg[len(first) : len(seg)-len(last)]
	for _, part := range s.parts[1 : len(s.parts)-1] {
		i := indexFold(seg, part)
		if i < 0 {
			return false
		}
		seg = seg[i+len(part):]
	}
	return true
}

// matchFold is Match ignoring ASCII case; p's literals are lower case.
func (p *Pattern) matchFold(path string) bool {
	switch p.kind {
	case kindExact:
		return equalFold(path, p.lit)
	case kindSubtree:
		return equalFold(path, p.lit) || len(path) >= len(p.litSl) && equalFold(path[:len(p.litSl)], p.litSl)
	case kindLastSeg:
		return len(path) >= len(p.lit) && equalFold(path[len(path)-len(p.lit):], p.lit)
	case kindAnySeg:
		name := p.lit[1:]
		for rest := path[1:]; ; {
			seg, after, more := strings.Cut(rest, "/")
			if equalFold(seg, name) {
				return true
			}
			if !more {
				return false
			}
			rest = after
		}
	}
	return matchSegs(p.segs, path[1:], true)
}

// indexFold is strings.Index ignoring ASCII case; sub is lower case. Segments are short,
// so the naive search is enough.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if equalFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// equalFold reports whether a and b are equal ignoring ASCII case; b is lower case.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

// lower returns s with ASCII letters in lower case, allocating only if it has upper-case
// ones. Other bytes are unchanged, so lengths and "/" positions are kept.
func lower(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for j := i; j < len(b); j++ {
		if c := b[j]; 'A' <= c && c <= 'Z' {
			b[j] = c + 'a' - 'A'
		}
	}
	return string(b)
}
