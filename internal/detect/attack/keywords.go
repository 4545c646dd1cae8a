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
	// p4 and m4 hold the first (up to) four bytes of text and the mask of the bytes
	// that exist, for a one-compare candidate test.
	p4, m4 uint32
}

// group is a bit in a keyword hit set; detectors gate on groups.
type group uint64

// hit is one keyword match: which keyword (its group is in the matcher's table) and at
// which byte offset. It is 8 bytes: a hits lives on the stack of every value the engine
// examines, and zeroing it is a measurable part of a clean value's cost.
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
// case-insensitively. It indexes keywords by their first two bytes, so most positions
// cost one table lookup. It is immutable
// after construction and safe for concurrent use.
type matcher struct {
	kws []keyword
	// row maps a lower-cased first byte to its row in span (0: no keyword starts
	// with it); span[row][second byte] is the range of kws (sorted by their first two
	// bytes) that start with that pair, packed as third<<32 | first<<16 | end, 0 for
	// none. The two levels keep the table small enough to stay in cache.
	row  [256]uint8
	span [][256]uint64
	// third[span>>32] is the set of third bytes (lower-cased) that keywords starting
	// with a pair continue with; all bits are set when a two-byte keyword starts
	// with it. It rejects most pair matches without touching kws.
	third [][4]uint64
	// lower maps ASCII upper case to lower case and every other byte to itself.
	lower [256]byte
}

func newMatcher(kws []keyword) (*matcher, error) {
	m := &matcher{kws: append([]keyword(nil), kws...)}
	for i := range m.lower {
		m.lower[i] = lower(byte(i))
	}
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
	for i := range m.kws {
		k := &m.kws[i]
		for j := 0; j < 4 && j < len(k.text); j++ {
			k.p4 |= uint32(k.text[j]) << (8 * j)
			k.m4 |= 0xff << (8 * j)
		}
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
		b0, b1 := byte(p>>8), byte(p)
		if m.row[b0] == 0 {
			if len(m.span) == 0 {
				m.span = append(m.span, [256]uint64{}) // row 0 stays empty
			}
			if len(m.span) == 255 {
				return nil, fmt.Errorf("too many keyword first bytes")
			}
			m.row[b0] = uint8(len(m.span))
			m.span = append(m.span, [256]uint64{})
		}
		var mask [4]uint64
		for _, k := range m.kws[i:j] {
			if len(k.text) == 2 {
				mask = [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
				break
			}
			c := k.text[2]
			mask[c/64] |= 1 << (c % 64)
		}
		m.span[m.row[b0]][b1] = uint64(len(m.third))<<32 | uint64(i)<<16 | uint64(j)
		m.third = append(m.third, mask)
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
	// win holds the lower-cased bytes s[i], s[i+1], s[i+2], s[i+3] (zero past the
	// end); its low 16 bits are the pair that indexes span.
	win := m.window4(s, 0)
	for i := 0; i+1 < len(s); i++ {
		if r := m.row[byte(win)]; r != 0 {
			b1, b2 := byte(win>>8), byte(win>>16)
			if sp := m.span[r][b1]; sp != 0 && m.third[sp>>32][b2/64]&(1<<(b2%64)) != 0 {
				m.check(s, i, win, uint32(sp), h)
			}
		}
		win >>= 8
		if i+4 < len(s) {
			win |= uint32(m.lower[s[i+4]]) << 24
		}
	}
}

// check tests the keywords in span sp against s at i.
func (m *matcher) check(s string, at int, win, sp uint32, h *hits) {
	for k := uint16(sp >> 16); k < uint16(sp); k++ {
		kw := &m.kws[k]
		if win&kw.m4 != kw.p4 || len(kw.text) > 4 && !hasPrefixFold(s[at+4:], kw.text[4:]) {
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

// window4 returns the (up to) four bytes of s at i, lower-cased, packed little-endian.
// Bytes past the end are zero, which no keyword byte matches.
func (m *matcher) window4(s string, i int) uint32 {
	var w uint32
	for j := 0; j < 4 && i+j < len(s); j++ {
		w |= uint32(m.lower[s[i+j]]) << (8 * j)
	}
	return w
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
