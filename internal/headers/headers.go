// Package headers reads a request's header map once for every detector that needs it.
//
// Iterating an http.Header costs as much as a detector's own work on a browser request,
// and the DNA, bot and attack detectors all need to see every header. A [Set] is one pass
// over the map: it notes which names of a fixed vocabulary are present with their first
// values, and lists the other names. Detectors then index the Set instead of iterating
// or probing the map again.
package headers

import "net/http"

// Name is a header of the vocabulary. Values are stable: the first [NumDNA] names are the
// presence vector of request DNA, whose bit indices must not change, so new names are
// only ever appended.
type Name uint8

// The vocabulary, in index order.
const (
	Accept Name = iota
	AcceptEncoding
	AcceptLanguage
	CacheControl
	Connection
	Cookie
	Dnt
	Origin
	Pragma
	Priority
	Referer
	SecChUa
	SecChUaMobile
	SecChUaPlatform
	SecFetchDest
	SecFetchMode
	SecFetchSite
	SecFetchUser
	Te
	UpgradeInsecureRequests
	UserAgent
	ContentType
	ContentLength
	Authorization
	XRequestedWith
	IfNoneMatch
	IfModifiedSince
	Range

	// NumDNA is the number of names in the DNA presence vector: the ones above.
	NumDNA = iota
)

// canonical holds the canonical form (as net/http stores it) of every Name.
var canonical = [NumDNA]string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection",
	"Cookie", "Dnt", "Origin", "Pragma", "Priority", "Referer",
	"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest",
	"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Te",
	"Upgrade-Insecure-Requests", "User-Agent", "Content-Type", "Content-Length",
	"Authorization", "X-Requested-With", "If-None-Match", "If-Modified-Since", "Range",
}

// Vocabulary returns the canonical names of the vocabulary in index order. The caller
// must not modify the slice.
func Vocabulary() []string { return canonical[:] }

// String returns n's canonical header name.
func (n Name) String() string { return canonical[n] }

// Lookup returns the Name of a canonical header name. It hashes the name's length, first
// byte and second-to-last byte into a slot of a table in which the vocabulary has no
// collisions, then compares one string: a request's dozen headers cost a few
// nanoseconds each, where a switch over the names costs a binary search of string
// comparisons.
func Lookup(name string) (Name, bool) {
	if len(name) < 2 {
		return 0, false
	}
	e := &index[slot(name)]
	if e.name != name || e.name == "" {
		return 0, false
	}
	return e.n, true
}

// slot is the perfect hash of the vocabulary (TestLookupMatchesVocabulary and
// buildIndex check that no two names share a slot). name has at least two bytes.
func slot(name string) int {
	return (len(name)*8 + int(name[0]) + int(name[len(name)-2])*15) & (indexSize - 1)
}

const indexSize = 64

type indexEntry struct {
	name string
	n    Name
}

// index maps slots to names. It is built once and never written again.
var index = buildIndex()

func buildIndex() (t [indexSize]indexEntry) {
	for i, name := range canonical {
		e := &t[slot(name)]
		if e.name != "" {
			panic("headers: " + name + " and " + e.name + " share a slot; change slot")
		}
		*e = indexEntry{name: name, n: Name(i)}
	}
	return t
}

// Field is a header outside the vocabulary: its name as the map holds it and its
// values.
type Field struct {
	Name   string
	Values []string
}

// inlineOthers is how many names outside the vocabulary a Set holds without
// allocating.
const inlineOthers = 8

// Set is one pass over a header map. Build it with Read; the zero value is the Set of
// an empty header map. A Set refers to the map's strings and slices without copying
// them, so it is valid while the map is not modified. It is meant to live on the stack
// for the duration of one request; it is not safe for concurrent modification.
type Set struct {
	h       http.Header
	present uint64         // bit n: name n is in the map
	multi   uint64         // bit n: name n has more than one value
	first   [NumDNA]string // first value of each present name
	nOthers int            // names outside the vocabulary
	inline  [inlineOthers]Field
	spill   []Field // the names past inlineOthers
}

// Read fills s from h, replacing what s held.
func (s *Set) Read(h http.Header) {
	s.h, s.present, s.multi, s.nOthers, s.spill = h, 0, 0, 0, nil
	for name, vals := range h {
		n, ok := Lookup(name)
		if !ok {
			if s.nOthers < inlineOthers {
				s.inline[s.nOthers] = Field{Name: name, Values: vals}
			} else {
				s.spill = append(s.spill, Field{Name: name, Values: vals})
			}
			s.nOthers++
			continue
		}
		s.present |= 1 << n
		first := ""
		if len(vals) > 0 {
			first = vals[0]
		}
		s.first[n] = first
		if len(vals) > 1 {
			s.multi |= 1 << n
		}
	}
}

// Header returns the map s was read from.
func (s *Set) Header() http.Header { return s.h }

// Present returns the presence vector: bit n is set when name n is in the map, even
// with no values.
func (s *Set) Present() uint64 { return s.present }

// Has reports whether name n is in the map.
func (s *Set) Has(n Name) bool { return s.present&(1<<n) != 0 }

// Get returns the first value of name n, and whether the map holds n at all.
func (s *Set) Get(n Name) (string, bool) {
	if s.present&(1<<n) == 0 {
		return "", false
	}
	return s.first[n], true
}

// Values returns every value of name n, nil when absent.
func (s *Set) Values(n Name) []string {
	if s.present&(1<<n) == 0 {
		return nil
	}
	return s.h[canonical[n]]
}

// Multiple reports whether name n has more than one value.
func (s *Set) Multiple(n Name) bool { return s.multi&(1<<n) != 0 }

// NumOthers returns how many names outside the vocabulary the map holds.
func (s *Set) NumOthers() int { return s.nOthers }

// Other returns the i-th name outside the vocabulary, 0 ≤ i < NumOthers, in the map's
// iteration order.
func (s *Set) Other(i int) Field {
	if i < inlineOthers {
		return s.inline[i]
	}
	return s.spill[i-inlineOthers]
}
