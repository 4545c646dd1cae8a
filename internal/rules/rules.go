// Package rules is the compiled form of a policy.Policy that the guard consults on every
// request: path gates (exclusions, honeypot paths, route overrides), IP gates (allow and
// deny lists), custom rules and finding weights.
//
// [Compile] validates a policy and builds a [Set] once; a Set is immutable, so the guard
// keeps the current one in an atomic.Pointer and swaps it when the policy changes. The
// per-request methods do not allocate on the common path.
//
// # Paths and the normalisation trust model
//
// Matching uses the decoded, cleaned path from [ParsePath], so "/a/../.env", "//.env" and
// "/%2e%65nv" all match what "/.env" matches, and a rule on "/admin/**" cannot be
// dodged by spelling the path differently. The reverse is a risk: an application's router
// may read a strangely spelled path differently from Vigil (chi routes on the raw path,
// Tomcat reads "..;" as ".."), so a request could look like "/healthz" to Vigil and reach
// "/admin" in the application. Therefore a path that is not canonical (see
// [Path.Canonical]) never relaxes a check:
//
//   - [Set.Excluded] returns false for it;
//   - [Set.Route] returns the matching route's strict form, which keeps only the settings
//     that tighten the policy (block mode, a lower threshold, a lower rate limit);
//   - [Set.Eval] skips allow rules that test the path, and a "not" that tests the path
//     does not exclude it.
//
// Honeypot paths and rules that tighten still match the cleaned path.
//
// Case is the same kind of difference. Express (by default), ASP.NET and IIS route
// "/ADMIN/users" to the "/admin/users" handler, so a path that matches a pattern only
// when ASCII case is ignored is treated, for that pattern, like a path that is not
// canonical: it may tighten, never relax.
//
//   - Honeypot paths, and the paths of rules that tighten (score-only, block, challenge
//     and ratelimit rules), match ignoring ASCII case: a block rule on "/admin/**"
//     blocks "/Admin/users", and a ratelimit rule on "/login" counts "/LOGIN" in the
//     same bucket.
//   - A "not" lets a request escape a rule, so in a rule that tightens its paths match
//     only in exact case ("/API/public/x" is not excused by "not: {paths:
//     [/api/public/**]}"); in an allow rule, whose "not" tightens, they match ignoring
//     case.
//   - [Set.Excluded] and the paths of allow rules match only in exact case.
//   - [Set.Route] chooses the route ignoring case, and returns its full form only when
//     one of the route's patterns matches the path in exact case; otherwise its strict
//     form, as for a path that is not canonical.
//
// Folding is ASCII only ("É" is not "é"). A path with no upper-case ASCII letter is
// compared in exact case against a pattern that has none, so the common case costs
// what it did before case was considered.
package rules

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gaissmai/bart"

	"github.com/vigilhq/vigil/internal/rules/glob"
	"github.com/vigilhq/vigil/policy"
)

// Set is a compiled policy. Make one with Compile; the zero value is not usable. A Set
// is immutable and safe for concurrent use.
type Set struct {
	pol      policy.Policy
	exclude  pathSet
	honeypot pathSet
	allow    *bart.Lite
	deny     *bart.Lite
	lockdown *bart.Lite // emergency.allow; nil unless the emergency mode is on
	rules    []Rule
	routes   []Route
	weights  map[string]float64

	routeUpper bool // some route pattern has an upper-case ASCII letter
}

// Compile validates p and compiles it. Its error is Validate's.
func Compile(p policy.Policy) (*Set, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	eff := p.WithDefaults()
	s := &Set{pol: eff, weights: eff.Weights}
	var err error
	if s.exclude, err = newPathSet(eff.ExcludePaths, false); err != nil {
		return nil, fmt.Errorf("exclude_paths: %w", err)
	}
	if s.honeypot, err = newPathSet(honeypotPaths(eff.Honeypot), true); err != nil {
		return nil, fmt.Errorf("honeypot: %w", err)
	}
	if s.allow, err = newIPSet(eff.Allow); err != nil {
		return nil, fmt.Errorf("allow: %w", err)
	}
	if s.deny, err = newIPSet(eff.Deny); err != nil {
		return nil, fmt.Errorf("deny: %w", err)
	}
	if eff.Emergency.Enabled {
		if s.lockdown, err = newIPSet(eff.Emergency.Allow); err != nil {
			return nil, fmt.Errorf("emergency.allow: %w", err)
		}
		if s.lockdown == nil {
			s.lockdown = new(bart.Lite) // nobody but the policy's allow list
		}
	}
	s.rules = make([]Rule, len(eff.Rules))
	for i, r := range eff.Rules {
		if err := s.rules[i].compile(i, r); err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
	}
	s.routes = make([]Route, len(eff.Routes))
	for i, r := range eff.Routes {
		if err := s.routes[i].compile(i, r, eff); err != nil {
			return nil, fmt.Errorf("routes[%d]: %w", i, err)
		}
		s.routeUpper = s.routeUpper || s.routes[i].paths.upper
	}
	return s, nil
}

// honeypotPaths returns the effective honeypot path list of h.
func honeypotPaths(h policy.Honeypot) []string {
	if h.Disabled {
		return nil
	}
	var out []string
	if !h.SkipDefaults {
		for _, p := range policy.DefaultHoneypotPaths() {
			except := false
			for _, e := range h.Except {
				except = except || strings.EqualFold(e, p)
			}
			if !except {
				out = append(out, p)
			}
		}
	}
	return append(out, h.Paths...)
}

// Policy returns the compiled policy with its defaults filled in (policy.WithDefaults),
// for the settings the guard reads directly, such as the mode and thresholds. Its slices
// and maps are shared with the Set and must not be modified.
func (s *Set) Policy() policy.Policy { return s.pol }

// Excluded reports whether requests for p skip every check. It is false for a path
// that is not canonical, and patterns match in exact case: "/HEALTHZ" is not excluded
// by "/healthz".
func (s *Set) Excluded(p Path) bool {
	return p.Canonical && s.exclude.match(p.Clean)
}

// Honeypot reports whether p is a honeypot path, ignoring ASCII case. It matches the
// cleaned path whether or not it is canonical.
func (s *Set) Honeypot(p Path) bool {
	return s.honeypot.match(p.Clean)
}

// Allowed reports whether ip is on the allow list. IPv4-mapped IPv6 addresses are
// looked up as IPv4, and zones are ignored. The invalid Addr is never allowed.
func (s *Set) Allowed(ip netip.Addr) bool { return contains(s.allow, ip) }

// Denied reports whether ip is on the deny list, as Allowed does for the allow list.
func (s *Set) Denied(ip netip.Addr) bool { return contains(s.deny, ip) }

// LockedOut reports whether the emergency mode is on and ip is not on its allow list.
// (The policy's allow list is checked before, by Allowed.)
func (s *Set) LockedOut(ip netip.Addr) bool { return s.lockdown != nil && !contains(s.lockdown, ip) }

// Weight returns the policy weight of a finding code: 1 when the policy does not list
// it, 0 when the code is turned off.
func (s *Set) Weight(code string) float64 {
	if w, ok := s.weights[code]; ok {
		return w
	}
	return 1
}

func contains(t *bart.Lite, ip netip.Addr) bool {
	if t == nil || !ip.IsValid() {
		return false
	}
	return t.Contains(ip.Unmap().WithZone(""))
}

// newIPSet builds a table from validated addresses and prefixes; nil when list is empty.
func newIPSet(list []string) (*bart.Lite, error) {
	if len(list) == 0 {
		return nil, nil
	}
	t := new(bart.Lite)
	for _, s := range list {
		pfx, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		t.Insert(pfx)
	}
	return t, nil
}

// parsePrefix parses an address or prefix that policy.Validate accepted.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// pathSet matches a path against a list of patterns. Patterns whose first segment is
// literal are indexed by it, so that a path is compared only with the patterns that share
// its first segment and with the few that start with a wildcard.
type pathSet struct {
	fold  bool                      // match ignoring ASCII case; index keys are lower case
	first map[string][]glob.Pattern // by literal first segment
	rest  []glob.Pattern            // patterns that start with a wildcard
	// firstF holds the keys of first and restF the segment names of rest (when
	// restSeg: every pattern in rest is one literal segment at any depth, as the
	// default honeypots "/**/.env" and "/**/.git/" are), so that most paths are
	// turned away without a map look-up or a pattern match.
	firstF, restF segFilter
	restSeg       bool
}

// segFilter is a 256-bit filter of path segments by length and first and last byte,
// ASCII case ignored: it says for certain that a segment is none of the ones added.
type segFilter [4]uint64

func segBit(seg string) uint {
	if seg == "" {
		return 0
	}
	return (uint(len(seg))*131 + uint(seg[0]|0x20)*31 + uint(seg[len(seg)-1]|0x20)) & 255
}

func (f *segFilter) add(seg string) { b := segBit(seg); f[b>>6] |= 1 << (b & 63) }

func (f *segFilter) has(seg string) bool { b := segBit(seg); return f[b>>6]&(1<<(b&63)) != 0 }

// anySegment reports whether some segment of the path p, which starts with "/", may
// be in f.
func (f *segFilter) anySegment(p string) bool {
	for rest := p[1:]; ; {
		seg, after, more := strings.Cut(rest, "/")
		if f.has(seg) {
			return true
		}
		if !more {
			return false
		}
		rest = after
	}
}

func newPathSet(list []string, fold bool) (pathSet, error) {
	ps := pathSet{fold: fold, restSeg: true}
	compile := glob.Compile
	if fold {
		compile = glob.CompileFold
	}
	for _, s := range list {
		g, err := compile(s)
		if err != nil {
			return pathSet{}, fmt.Errorf("%q: %w", s, err)
		}
		first, ok := g.FirstSegment()
		if !ok {
			ps.rest = append(ps.rest, g)
			if name, ok := g.Segment(); ok {
				ps.restF.add(name)
			} else {
				ps.restSeg = false
			}
			continue
		}
		if ps.first == nil {
			ps.first = make(map[string][]glob.Pattern)
		}
		ps.first[first] = append(ps.first[first], g)
		ps.firstF.add(first)
	}
	return ps, nil
}

// maxFoldSegment is the longest first segment that is folded in a stack buffer for the
// index look-up; longer ones, far longer than any pattern's, are folded on the heap.
const maxFoldSegment = 64

func (ps *pathSet) match(p string) bool {
	if len(p) == 0 || p[0] != '/' {
		return false // a pattern matches only paths that start with "/"
	}
	if len(ps.first) > 0 {
		seg, _, _ := strings.Cut(p[1:], "/")
		if ps.firstF.has(seg) {
			group := ps.firstGroup(seg)
			for i := range group {
				if group[i].Match(p) {
					return true
				}
			}
		}
	}
	if len(ps.rest) == 0 || ps.restSeg && !ps.restF.anySegment(p) {
		return false
	}
	for i := range ps.rest {
		if ps.rest[i].Match(p) {
			return true
		}
	}
	return false
}

// firstGroup returns the patterns whose first segment is seg.
func (ps *pathSet) firstGroup(seg string) []glob.Pattern {
	switch {
	case !ps.fold || !hasUpper(seg):
		return ps.first[seg]
	case len(seg) <= maxFoldSegment:
		var buf [maxFoldSegment]byte
		b := buf[:len(seg)]
		for i := range len(seg) {
			c := seg[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[i] = c
		}
		return ps.first[string(b)] // no allocation: map index by converted bytes
	default:
		return ps.first[asciiLower(seg)]
	}
}

// pathList is a list of path patterns compiled twice, as written and ignoring ASCII
// case, so that each check can say which of the two a path must match (see the package
// doc). The folded patterns are kept out of line so that the common case, a path that
// matches in exact case or not at all, walks the same compact data as before case was
// considered.
type pathList struct {
	exact []glob.Pattern
	fold  *foldList // nil when exact is empty
	upper bool      // some pattern has an upper-case ASCII letter
}

// foldList is the folded half of a pathList.
type foldList struct {
	patterns []glob.Pattern // patterns[i] is exact[i] compiled with glob.CompileFold
}

func compilePaths(list []string) (pathList, error) {
	if len(list) == 0 {
		return pathList{}, nil
	}
	out := pathList{fold: new(foldList)}
	for _, s := range list {
		exact, err := glob.Compile(s)
		if err != nil {
			return pathList{}, err
		}
		fold, err := glob.CompileFold(s)
		if err != nil {
			return pathList{}, err
		}
		out.exact = append(out.exact, exact)
		out.fold.patterns = append(out.fold.patterns, fold)
		out.upper = out.upper || hasUpper(s)
	}
	return out, nil
}

// needFold reports whether a path that no pattern matches in exact case could match
// one ignoring case: only if the path (up) or a pattern has an upper-case ASCII letter.
func (pl *pathList) needFold(up bool) bool { return up || pl.upper }

// matchExact reports whether path matches a pattern in exact case.
func (pl *pathList) matchExact(path string) bool {
	for i := range pl.exact {
		if pl.exact[i].Match(path) {
			return true
		}
	}
	return false
}

// matchFoldAfterExact reports whether path, which matchExact rejected, matches a pattern
// ignoring ASCII case. Callers first check needFold.
func (pl *pathList) matchFoldAfterExact(path string) bool {
	for i := range pl.fold.patterns {
		if pl.fold.patterns[i].Match(path) {
			return true
		}
	}
	return false
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// hasUpper reports whether s has an upper-case ASCII letter. Every request pays it, so
// it tests eight bytes at a time, the last eight overlapping the others.
func hasUpper(s string) bool {
	if len(s) < 8 {
		for i := range len(s) {
			if s[i]-'A' < 26 {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(s); i += 8 {
		i = min(i, len(s)-8)
		w := s[i : i+8] // of known length, so that the loads combine into one
		if wordHasUpper(uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56) {
			return true
		}
	}
	return false
}

// wordHasUpper reports whether a byte of w is an upper-case ASCII letter. For each byte
// b below 0x80, b+(0x80-'A') has its high bit set when b >= 'A', and b+(0x80-'Z'-1) when
// b > 'Z'; bytes from 0x80 up are excluded by ^w. No sum carries into the next byte.
func wordHasUpper(w uint64) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	low := w &^ high
	return (low+ones*(0x80-'A'))&^(low+ones*(0x80-'Z'-1))&^w&high != 0
}
