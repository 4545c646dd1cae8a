package bot

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync/atomic"
)

// The crawler patterns of crawler-user-agents 1.60.0 with their MIT licence; see
// data/README.md for the source and data/refresh.sh to update them.
//
//go:embed data/crawler-user-agents.json data/LICENSE
var dataFS embed.FS

// rules is the parsed, immutable classification data of one Detector.
type rules struct {
	patterns []pattern                       // crawler patterns in file order, RE2-compatible ones only
	text     string                          // expr, name and detail of every pattern, end to end
	res      []atomic.Pointer[regexp.Regexp] // patterns[i] compiled, set on first use
	skipped  int                             // patterns RE2 could not compile
	always   []int                           // patterns without a literal of minLiteral bytes: run on every scan
	tokens   []token                         // curated tokens, highest priority first
	m        *matcher                        // ids [0, len(patterns)) are patterns, then tokens
	words    int                             // uint64 words of a hit bitset
}

// pattern is one crawler-user-agents entry. It holds no pointer: its strings are spans of
// rules.text and its category an index into categories, so that the garbage collector
// does not scan 1,500 of them on every cycle. Its regular expression is compiled on
// first use (rules.res): most traffic is browsers, which never reach the crawler
// patterns, and 1,500 compiled programs held from the start would be a megabyte or two
// of pointers for every garbage collection to mark.
type pattern struct {
	expr, name, detail span
	kind               Kind
	category           uint8 // index into categories
}

// span is a substring of rules.text.
type span struct{ off, n uint32 }

// categories are the Class.Category values of the crawler patterns (see kindOf).
var categories = [...]string{"library", "automation", "ai", "search", "ads", "social", "feed",
	"archiver", "academic", "scanner", "monitor", "seo", "other"}

func (rs *rules) str(sp span) string { return rs.text[sp.off : sp.off+sp.n] }

// patternClass returns the Class of a User-Agent that pattern id matches.
func (rs *rules) patternClass(ua string, id int) Class {
	p := &rs.patterns[id]
	name := rs.str(p.name)
	return Class{Kind: p.kind, Category: categories[p.category], Name: name, detail: rs.str(p.detail),
		Major: versionAfter(ua, name)}
}

type entry struct {
	Pattern string   `json:"pattern"`
	Tags    []string `json:"tags"`
}

func loadRules() (*rules, error) {
	b, err := dataFS.ReadFile("data/crawler-user-agents.json")
	if err != nil {
		return nil, err
	}
	var es []entry
	if err := json.Unmarshal(b, &es); err != nil {
		return nil, fmt.Errorf("crawler patterns: %w", err)
	}
	return buildRules(es, curatedTokens())
}

func buildRules(es []entry, toks []token) (rs *rules, err error) {
	rs = &rules{tokens: toks}
	var lits [][]string
	var text strings.Builder
	add := func(s string) span {
		sp := span{uint32(text.Len()), uint32(len(s))}
		text.WriteString(s)
		return sp
	}
	for _, e := range es {
		if _, err := syntax.Parse(e.Pattern, syntax.Perl); err != nil {
			// Written for JavaScript/PCRE; RE2 lacks look-around and back-references.
			rs.skipped++
			continue
		}
		kind, cat := kindOf(e.Tags)
		name := patternName(e.Pattern)
		ci := slices.Index(categories[:], cat)
		if ci < 0 {
			return nil, fmt.Errorf("category %q is not in the category table", cat)
		}
		p := pattern{expr: add(e.Pattern), name: add(name), kind: kind, category: uint8(ci)}
		p.detail = span{p.name.off, p.name.n + uint32(len(" ("+cat+")"))}
		text.WriteString(" (" + cat + ")")
		rs.patterns = append(rs.patterns, p)
		l := requiredLiterals(e.Pattern)
		if l == nil {
			rs.always = append(rs.always, len(rs.patterns)-1)
		}
		lits = append(lits, l)
	}
	if text.Len() > math.MaxUint32 {
		return nil, fmt.Errorf("%d bytes of pattern text exceed 32-bit offsets", text.Len())
	}
	rs.text = text.String()
	rs.res = make([]atomic.Pointer[regexp.Regexp], len(rs.patterns))
	for i := range rs.tokens {
		t := &rs.tokens[i]
		if t.lit != strings.ToLower(t.lit) {
			return nil, fmt.Errorf("token %q is not lower case", t.lit)
		}
		t.detail = t.name
		if t.kind != Scanner {
			t.detail = t.name + " (" + t.category + ")"
		}
		lits = append(lits, []string{t.lit})
	}
	if len(lits) > 1<<16 {
		return nil, fmt.Errorf("%d literals exceed the matcher's 16-bit ids", len(lits))
	}
	if rs.m, err = newMatcher(lits); err != nil {
		return nil, err
	}
	rs.words = (len(lits) + 63) / 64
	return rs, nil
}

// match reports whether pattern id matches ua, compiling the pattern on first use. Two
// goroutines may both compile it; one result is kept.
func (rs *rules) match(id int, ua string) bool {
	re := rs.res[id].Load()
	if re == nil {
		var err error
		if re, err = regexp.Compile(rs.str(rs.patterns[id].expr)); err != nil {
			return false // parsed, so only a program too large to compile gets here
		}
		if !rs.res[id].CompareAndSwap(nil, re) {
			re = rs.res[id].Load()
		}
	}
	return re.MatchString(ua)
}

// kindOf maps crawler-user-agents tags to a Kind and Category. A pattern with several tags
// takes the first of this order.
func kindOf(tags []string) (Kind, string) {
	order := [...]struct {
		tag  string
		kind Kind
		cat  string
	}{
		{"http-library", Library, "library"},
		{"browser-automation", Automation, "automation"},
		{"ai-crawler", Crawler, "ai"},
		{"search-engine", Crawler, "search"},
		{"advertising", Crawler, "ads"},
		{"social-preview", Crawler, "social"},
		{"feed-reader", Crawler, "feed"},
		{"archiver", Crawler, "archiver"},
		{"academic", Crawler, "academic"},
		{"scanner", Crawler, "scanner"},
		{"monitoring", Crawler, "monitor"},
		{"seo", Crawler, "seo"},
	}
	for _, o := range order {
		for _, t := range tags {
			if t == o.tag {
				return o.kind, o.cat
			}
		}
	}
	return Crawler, "other"
}

// patternName derives a short stable name from a pattern: the first of the literals that
// every match must contain, lower-cased, with runs of other characters turned into single
// hyphens ("Ahrefs(Bot|SiteAudit)" is "ahrefs", "[wW]get" is "wget").
func patternName(p string) string {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return "other"
	}
	set := need(re.Simplify())
	if len(set) == 0 {
		return "other"
	}
	var b strings.Builder
	dash := false
	for _, c := range []byte(set[0]) {
		switch {
		case isAlnum(c) || c == '.' || c == '_':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteByte(c)
		case c == '\'', c >= 0x80:
		default:
			dash = true
		}
	}
	name := strings.Trim(b.String(), "._")
	if name == "" {
		return "other"
	}
	return name
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
