package bot

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// The crawler patterns of crawler-user-agents 1.60.0 with their MIT licence; see
// data/README.md for the source and data/refresh.sh to update them.
//
//go:embed data/crawler-user-agents.json data/LICENSE
var dataFS embed.FS

// rules is the parsed, immutable classification data of one Detector.
type rules struct {
	patterns []pattern // crawler patterns in file order, RE2-compatible ones only
	skipped  int       // patterns RE2 could not compile
	always   []int     // patterns without a literal of minLiteral bytes: run on every scan
	tokens   []token   // curated tokens, highest priority first
	m        *matcher  // ids [0, len(patterns)) are patterns, then tokens
	words    int       // uint64 words of a hit bitset
}

// pattern is one crawler-user-agents entry. Its regular expression is compiled on first
// use: most traffic is browsers, which never reach the crawler patterns, and 1,500
// compiled programs held from the start would be a megabyte or two of pointers for every
// garbage collection to mark.
type pattern struct {
	expr     string
	re       func() *regexp.Regexp // compiled on first call; nil if it cannot be
	kind     Kind
	category string
	name     string
	detail   string
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
	for _, e := range es {
		if _, err := syntax.Parse(e.Pattern, syntax.Perl); err != nil {
			// Written for JavaScript/PCRE; RE2 lacks look-around and back-references.
			rs.skipped++
			continue
		}
		kind, cat := kindOf(e.Tags)
		name := patternName(e.Pattern)
		expr := e.Pattern
		p := pattern{expr: expr, kind: kind, category: cat, name: name, detail: name + " (" + cat + ")",
			re: sync.OnceValue(func() *regexp.Regexp {
				re, err := regexp.Compile(expr)
				if err != nil {
					return nil // parsed, so only a program too large to compile gets here
				}
				return re
			})}
		rs.patterns = append(rs.patterns, p)
		l := requiredLiterals(e.Pattern)
		if l == nil {
			rs.always = append(rs.always, len(rs.patterns)-1)
		}
		lits = append(lits, l)
	}
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

// match reports whether the pattern matches ua, compiling it on first use.
func (p *pattern) match(ua string) bool {
	re := p.re()
	return re != nil && re.MatchString(ua)
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
