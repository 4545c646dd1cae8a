package knownclients

import "strings"

// MaxInserted is the number of names a tolerant header-order match accepts besides the
// template's own (Cookie, Referer, Cache-Control, a custom header, ...). A tolerant
// match also needs at least as many of the template's names as inserted ones.
const MaxInserted = 6

// A RequestKind says which requests a header template describes, or what the
// caller knows about a request.
type RequestKind string

// The request kinds. RequestUnknown is only meaningful in [Evidence]; RequestAny only
// in templates.
const (
	RequestUnknown    RequestKind = ""           // the caller does not know
	RequestNavigation RequestKind = "navigation" // a top-level navigation (Sec-Fetch-Mode: navigate)
	RequestOther      RequestKind = "other"      // subresource, XHR/fetch, preflight, ...
	RequestAny        RequestKind = "any"        // every request of the family (libraries)
)

// A CaseStyle describes the spelling of a list of header names.
type CaseStyle string

// The case styles.
const (
	CaseLower CaseStyle = "lower" // every name lowercase: undici, and every HTTP/2 client
	CaseTitle CaseStyle = "title" // every name Title-Case per hyphenated word: Go, curl, Firefox
	CaseMixed CaseStyle = "mixed" // anything else, such as Chrome's HTTP/1.1 Title-Case with lowercase sec-ch-ua
)

// CaseOf returns the case style of names: [CaseLower] when no name has an uppercase
// letter, [CaseTitle] when every name has an uppercase letter at its start and after
// each '-' and lowercase letters elsewhere, [CaseMixed] otherwise, and "" for no names.
// A name without letters counts as both lowercase and Title-Case.
func CaseOf(names []string) CaseStyle {
	if len(names) == 0 {
		return ""
	}
	lower, title := true, true
	for _, n := range names {
		start := true
		for i := 0; i < len(n); i++ {
			c := n[i]
			isUpper, isLower := 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z'
			if isUpper {
				lower = false
			}
			if start && isLower || !start && isUpper {
				title = false
			}
			start = c == '-'
		}
	}
	switch {
	case lower:
		return CaseLower
	case title:
		return CaseTitle
	}
	return CaseMixed
}

// template is one header-order template of a family.
type template struct {
	proto     proto
	request   RequestKind
	caseStyle CaseStyle
	binding   bool
	names     []string
	lower     []string
	optional  []bool
	nCore     int // names not optional
	maxObs    int // the most names a tolerant match can have
	owner     string
}

// regularCount returns the number of names that are not HTTP/2 pseudo-headers.
func regularCount(p proto, names []string) int {
	if p != protoH2 {
		return len(names)
	}
	n := 0
	for _, name := range names {
		if !isPseudo(p, name) {
			n++
		}
	}
	return n
}

// key identifies templates that match exactly the same name lists.
func (tm *template) key() string {
	var b strings.Builder
	b.WriteString(tm.proto.String())
	for i, n := range tm.names {
		b.WriteByte(0)
		if tm.optional[i] {
			b.WriteByte('?')
		}
		b.WriteString(n)
	}
	return b.String()
}

// applies reports whether the template describes a request of kind k for the purpose
// of contradicting an observed order: "any" templates always do, navigation templates
// only when the caller says the request is a navigation.
func (tm *template) applies(k RequestKind) bool {
	return tm.request == RequestAny || tm.request == k
}

// find returns the index of the template name equal to n ignoring case, or -1.
func (tm *template) find(n string) int {
	if n == "" {
		return -1
	}
	last := toLower(n[len(n)-1]) // names sharing a prefix (Sec-Fetch-*) differ at the end
	for i, l := range tm.lower {
		if len(l) == len(n) && l[len(l)-1] == last && strings.EqualFold(l, n) {
			return i
		}
	}
	return -1
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isPseudo(p proto, n string) bool { return p == protoH2 && len(n) > 0 && n[0] == ':' }

// equal reports whether names, of which nObs are not pseudo-headers, are exactly the
// template's names: the same names, spelled the same, in the same order, nothing else.
func (tm *template) equal(names []string, nObs int) bool {
	if nObs != len(tm.names) {
		return false
	}
	j := 0
	for _, n := range names {
		if isPseudo(tm.proto, n) {
			continue
		}
		if n != tm.names[j] {
			return false
		}
		j++
	}
	return true
}

// match compares names, of which nObs are not pseudo-headers, with the template (see
// the package documentation). It returns ok with cost 0 for an exact match, ok with the
// cost of a tolerant match, or !ok.
func (tm *template) match(names []string, nObs int) (cost int, ok bool) {
	// A tolerant match has every core name and at most as many inserted names as
	// template names: nCore <= nObs <= 2 * len(names), and MaxInserted more at most.
	if nObs < tm.nCore || nObs > tm.maxObs {
		return 0, false
	}
	j := 0 // the next template position
	inserted, absent := 0, 0
	for _, n := range names {
		if isPseudo(tm.proto, n) {
			continue
		}
		if j < len(tm.names) && n == tm.names[j] {
			j++
			continue
		}
		k := tm.find(n)
		if k < 0 {
			inserted++
			if inserted > MaxInserted {
				return 0, false
			}
			continue
		}
		if k < j || tm.names[k] != n {
			return 0, false // out of order, repeated, or spelled differently
		}
		for ; j < k; j++ {
			if !tm.optional[j] {
				return 0, false
			}
			absent++
		}
		j = k + 1
	}
	for ; j < len(tm.names); j++ {
		if !tm.optional[j] {
			return 0, false
		}
		absent++
	}
	if inserted > len(tm.names)-absent {
		return 0, false // more of the request is foreign to the template than from it
	}
	return inserted + absent, true
}

// contradiction looks for the first observed name that the template lists with another
// spelling (when checkCase) or that comes before a name it follows in the template (when
// checkOrder). It returns that name and what the template says instead: its spelling,
// or the name it should follow.
func (tm *template) contradiction(names []string, checkCase, checkOrder bool) (rule Rule, name, want string) {
	last := -1
	for _, n := range names {
		if isPseudo(tm.proto, n) {
			continue
		}
		k := tm.find(n)
		if k < 0 {
			continue
		}
		if checkCase && tm.names[k] != n {
			return RuleHeaderCase, n, tm.names[k]
		}
		if checkOrder && k < last {
			return RuleHeaderOrder, n, tm.names[last]
		}
		last = max(last, k)
	}
	return "", "", ""
}
