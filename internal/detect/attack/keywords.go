package attack

import (
	"fmt"
	"sort"
)

// kwFlag tells the matcher where a keyword may match.
type kwFlag uint8

const (
	// kwStart requires a word boundary before the keyword: it must not follow a
	// letter, digit or '_'.
	kwStart kwFlag = 1 << iota
	// kwEnd requires a word boundary after the keyword.
	kwEnd
	// kwWord is kwStart|kwEnd.
	kwWord = kwStart | kwEnd
)

// keyword is one needle: lower-case ASCII text, the group it reports and where it may
// match.
type keyword struct {
	text  string
	group group
	flags kwFlag
}

// group is a bit in a keyword hit set; detectors gate on groups.
type group uint64

// hit is one keyword match: which keyword and at which byte offset.
type hit struct {
	kw  uint16
	pos int32
}

// maxHits bounds the hits one value records; later hits still set their group bit.
const maxHits = 48

// hits is the per-value match result. It lives on the caller's stack.
type hits struct {
	groups group
	n      int
	list   [maxHits]hit
}

// matcher finds many lower-case keywords in one pass over a string, ASCII
// case-insensitively. It indexes keywords by their first two bytes: a bitset says which
// byte pairs start a keyword, so most positions cost one table lookup. It is immutable
// after construction and safe for concurrent use.
type matcher struct {
	kws   []keyword
	pairs [1 << 16 / 64]uint64 // bit set for every lower-cased first-two-byte pair
	start map[uint16][2]uint16 // pair → [first, end) index range into kws (sorted by pair)
}

func newMatcher(kws []keyword) (*matcher, error) {
	m := &matcher{kws: append([]keyword(nil), kws...), start: map[uint16][2]uint16{}}
	for _, k := range m.kws {
		if k.text == "" || len(k.text) > 64 {
			return nil, fmt.Errorf("keyword %q: length must be 1–64", k.text)
		}
		for i := 0; i < len(k.text); i++ {
			if c := k.text[i]; 'A' <= c && c <= 'Z' {
				return nil, fmt.Errorf("keyword %q: not lower case", k.text)
			}
		}
	}
	if len(m.kws) >= 1<<16 {
		return nil, fmt.Errorf("%d keywords: too many", len(m.kws))
	}
	sort.SliceStable(m.kws, func(i, j int) bool { return pairOf(m.kws[i].text) < pairOf(m.kws[j].text) })
	for i := 0; i < len(m.kws); {
		j := i
		p := pairOf(m.kws[i].text)
		for j < len(m.kws) && pairOf(m.kws[j].text) == p {
			j++
		}
		if len(m.kws[i].text) == 1 {
			return nil, fmt.Errorf("keyword %q: single-byte keywords are not supported", m.kws[i].text)
		}
		m.pairs[p/64] |= 1 << (p % 64)
		m.start[p] = [2]uint16{uint16(i), uint16(j)}
		i = j
	}
	return m, nil
}

func pairOf(s string) uint16 {
	if len(s) < 2 {
		return uint16(s[0]) << 8
	}
	return uint16(s[0])<<8 | uint16(s[1])
}

// lower maps ASCII upper case to lower case and leaves every other byte alone.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// scan records every keyword occurrence in s into h.
func (m *matcher) scan(s string, h *hits) {
	if len(s) < 2 {
		return
	}
	prev := lower(s[0])
	for i := 1; i < len(s); i++ {
		c := lower(s[i])
		p := uint16(prev)<<8 | uint16(c)
		prev = c
		if m.pairs[p/64]&(1<<(p%64)) == 0 {
			continue
		}
		at := i - 1
		r := m.start[p]
		for k := r[0]; k < r[1]; k++ {
			kw := &m.kws[k]
			if !hasPrefixFold(s[at:], kw.text) {
				continue
			}
			if kw.flags&kwStart != 0 && at > 0 && isWordByte(s[at-1]) {
				continue
			}
			if end := at + len(kw.text); kw.flags&kwEnd != 0 && end < len(s) && isWordByte(s[end]) {
				continue
			}
			h.groups |= kw.group
			if h.n < maxHits {
				h.list[h.n] = hit{kw: k, pos: int32(at)}
				h.n++
			}
		}
	}
}

// hasPrefixFold reports whether s starts with the lower-case prefix, ASCII
// case-insensitively.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// indexFold returns the index of the first occurrence of the lower-case needle in s,
// ASCII case-insensitively, or -1.
func indexFold(s, needle string) int {
	if len(needle) == 0 {
		return 0
	}
	first := needle[0]
	for i := 0; i+len(needle) <= len(s); i++ {
		if lower(s[i]) == first && hasPrefixFold(s[i:], needle) {
			return i
		}
	}
	return -1
}

func containsFold(s, needle string) bool { return indexFold(s, needle) >= 0 }
