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
	rules    []Rule
	routes   []Route
	weights  map[string]float64
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
// that is not canonical.
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
}

func newPathSet(list []string, fold bool) (pathSet, error) {
	ps := pathSet{fold: fold}
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
			continue
		}
		if ps.first == nil {
			ps.first = make(map[string][]glob.Pattern)
		}
		ps.first[first] = append(ps.first[first], g)
	}
	return ps, nil
}

// maxFoldSegment is the longest first segment that is folded in a stack buffer for the
// index look-up; longer ones, far longer than any pattern's, are folded on the heap.
const maxFoldSegment = 64

func (ps *pathSet) match(p string) bool {
	if len(ps.first) > 0 && len(p) > 0 {
		seg, _, _ := strings.Cut(p[1:], "/")
		var group []glob.Pattern
		switch {
		case !ps.fold || !hasUpper(seg):
			group = ps.first[seg]
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
			group = ps.first[string(b)] // no allocation: map index by converted bytes
		default:
			group = ps.first[asciiLower(seg)]
		}
		for i := range group {
			if group[i].Match(p) {
				return true
			}
		}
	}
	for i := range ps.rest {
		if ps.rest[i].Match(p) {
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

func hasUpper(s string) bool {
	for i := range len(s) {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
