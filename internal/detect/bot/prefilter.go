package bot

import (
	"fmt"
	"regexp/syntax"
	"slices"
)

// minLiteral is the shortest required literal worth indexing. A pattern whose best literal
// is shorter runs on every non-browser miss instead. maxLiteral truncates literals: a
// prefix of a required literal is required too, and shorter literals keep the automaton
// small (about 9,000 states for the 1,500 patterns).
const (
	minLiteral = 3
	maxLiteral = 8
)

// requiredLiterals returns lower-case byte strings of which every match of the pattern
// contains at least one (ASCII letters folded), or nil when it finds none of at least
// minLiteral bytes. The result is a prefilter: it may let through strings the pattern
// does not match, never the reverse.
func requiredLiterals(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	set := need(re.Simplify())
	if len(set) == 0 || setScore(set) < minLiteral {
		return nil
	}
	for i, l := range set {
		set[i] = l[:min(len(l), maxLiteral)]
	}
	slices.Sort(set)
	return slices.Compact(set)
}

// setScore ranks a literal set by its shortest member: the longer, the fewer false hits.
func setScore(set []string) int {
	if len(set) == 0 {
		return 0
	}
	n := len(set[0])
	for _, s := range set[1:] {
		n = min(n, len(s))
	}
	return n
}

func better(a, b []string) []string {
	if setScore(b) > setScore(a) || (setScore(b) == setScore(a) && len(b) > 0 && len(b) < len(a)) {
		return b
	}
	return a
}

// need returns a set of literals one of which every match of re contains.
func need(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral, syntax.OpCharClass:
		if b, ok := exactBytes(re); ok {
			return []string{string(b)}
		}
		if re.Op == syntax.OpLiteral {
			return longestSafeRun(re)
		}
	case syntax.OpCapture, syntax.OpPlus:
		return need(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return need(re.Sub[0])
		}
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			n := need(sub)
			if len(n) == 0 {
				return nil
			}
			all = append(all, n...)
		}
		return all
	case syntax.OpConcat:
		var best []string
		var run []byte
		flush := func() {
			if len(run) > 0 {
				best = better(best, []string{string(run)})
				run = nil
			}
		}
		for _, sub := range re.Sub {
			if b, ok := exactBytes(sub); ok {
				run = append(run, b...)
				continue
			}
			flush()
			best = better(best, need(sub))
		}
		flush()
		return best
	}
	return nil
}

// exactBytes reports the lower-cased bytes that re matches when it matches exactly one
// string up to ASCII case: a literal, or a class such as [wW].
func exactBytes(re *syntax.Regexp) ([]byte, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		var b []byte
		for _, r := range re.Rune {
			c, ok := safeRune(r, re.Flags&syntax.FoldCase != 0)
			if !ok {
				return nil, false
			}
			b = append(b, c...)
		}
		return b, true
	case syntax.OpCharClass:
		// Ranges come in pairs lo, hi. Accept one rune, or one ASCII letter in both cases.
		rs := re.Rune
		switch {
		case len(rs) == 2 && rs[0] == rs[1]:
			return safeRune(rs[0], false)
		case len(rs) == 4 && rs[0] == rs[1] && rs[2] == rs[3] &&
			isUpper(rs[0]) && rs[2] == rs[0]+'a'-'A':
			return []byte{byte(rs[2])}, true
		}
	case syntax.OpCapture:
		return exactBytes(re.Sub[0])
	}
	return nil, false
}

// longestSafeRun splits a literal at runes that cannot be folded byte-wise and returns the
// longest remaining run.
func longestSafeRun(re *syntax.Regexp) []string {
	var best, cur []byte
	for _, r := range re.Rune {
		c, ok := safeRune(r, re.Flags&syntax.FoldCase != 0)
		if !ok {
			cur = nil
			continue
		}
		cur = append(cur, c...)
		if len(cur) > len(best) {
			best = slices.Clone(cur)
		}
	}
	if len(best) == 0 {
		return nil
	}
	return []string{string(best)}
}

// safeRune returns r as lower-case UTF-8 when ASCII lower-casing of the input preserves
// it. Case-folded runes outside ASCII, and k and s (which fold to the Kelvin sign and the
// long s), are not safe.
func safeRune(r rune, fold bool) ([]byte, bool) {
	if r < 0x80 {
		c := byte(r)
		if isUpper(r) {
			c += 'a' - 'A'
		}
		if fold && (c == 'k' || c == 's') {
			return nil, false
		}
		return []byte{c}, true
	}
	if fold || r == 0xFFFD {
		return nil, false
	}
	return []byte(string(r)), true
}

func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }

// matcher is an Aho–Corasick automaton over ASCII-lower-cased bytes, stored as a dense
// table over byte classes. Each state lists the ids whose literal ends there.
type matcher struct {
	class    [256]uint8 // at most 231 classes: literals are lower case
	nclass   int
	delta    []uint16 // states*nclass transitions; state 0 is the root
	firstOut int      // states from firstOut on have output
	outOff   []int32  // output of state s: outIDs[outOff[s-firstOut]:outOff[s-firstOut+1]]
	outIDs   []uint16
}

// maxStates bounds the automaton so that states fit the uint16 transition table.
const maxStates = 1 << 16

// newMatcher builds a matcher that reports id i when lits[i] (any of its strings) occurs.
func newMatcher(lits [][]string) (*matcher, error) {
	m := &matcher{}
	// Byte classes: 0 for bytes in no literal; upper-case letters share their lower case.
	for _, set := range lits {
		for _, s := range set {
			for i := 0; i < len(s); i++ {
				if m.class[s[i]] == 0 {
					m.nclass++
					m.class[s[i]] = uint8(m.nclass)
				}
			}
		}
	}
	m.nclass++
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}

	type node struct {
		next map[uint8]int32
		out  []uint16
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for id, set := range lits {
		for _, s := range set {
			st := int32(0)
			for i := 0; i < len(s); i++ {
				c := m.class[s[i]]
				nx, ok := nodes[st].next[c]
				if !ok {
					nx = int32(len(nodes))
					nodes = append(nodes, node{next: map[uint8]int32{}})
					nodes[st].next[c] = nx
				}
				st = nx
			}
			nodes[st].out = append(nodes[st].out, uint16(id))
		}
	}

	n := len(nodes)
	if n > maxStates {
		return nil, fmt.Errorf("%d literal states exceed %d", n, maxStates)
	}
	m.delta = make([]uint16, n*m.nclass)
	fail := make([]int32, n)
	queue := make([]int32, 0, n)
	for c := 1; c < m.nclass; c++ {
		if nx, ok := nodes[0].next[uint8(c)]; ok {
			m.delta[c] = uint16(nx)
			queue = append(queue, nx)
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		nodes[s].out = append(nodes[s].out, nodes[fail[s]].out...)
		for c := 1; c < m.nclass; c++ {
			if nx, ok := nodes[s].next[uint8(c)]; ok {
				fail[nx] = int32(m.delta[int(fail[s])*m.nclass+c])
				m.delta[int(s)*m.nclass+c] = uint16(nx)
				queue = append(queue, nx)
			} else {
				m.delta[int(s)*m.nclass+c] = m.delta[int(fail[s])*m.nclass+c]
			}
		}
	}
	// Renumber the states so that those with output come last: the scan then tests one
	// comparison per byte instead of loading the output offsets.
	order := make([]int, 0, n)
	for s := range nodes {
		if len(nodes[s].out) == 0 {
			order = append(order, s)
		}
	}
	m.firstOut = len(order)
	for s := range nodes {
		if len(nodes[s].out) != 0 {
			order = append(order, s)
		}
	}
	if order[0] != 0 {
		return nil, fmt.Errorf("the empty literal cannot be indexed")
	}
	renum := make([]uint16, n)
	for newID, old := range order {
		renum[old] = uint16(newID)
	}
	delta := make([]uint16, len(m.delta))
	m.outOff = make([]int32, n-m.firstOut+1)
	for newID, old := range order {
		for c := 0; c < m.nclass; c++ {
			delta[newID*m.nclass+c] = renum[m.delta[old*m.nclass+c]]
		}
		if newID >= m.firstOut {
			out := nodes[old].out
			slices.Sort(out)
			out = slices.Compact(out)
			m.outIDs = append(m.outIDs, out...)
			m.outOff[newID-m.firstOut+1] = int32(len(m.outIDs))
		}
	}
	m.delta = delta
	return m, nil
}

// scan sets bit id of hits for every id whose literal occurs in s.
func (m *matcher) scan(s string, hits []uint64) {
	st := 0
	for i := 0; i < len(s); i++ {
		st = int(m.delta[st*m.nclass+int(m.class[s[i]])])
		if st >= m.firstOut {
			o := st - m.firstOut
			for _, id := range m.outIDs[m.outOff[o]:m.outOff[o+1]] {
				hits[id>>6] |= 1 << (id & 63)
			}
		}
	}
}
