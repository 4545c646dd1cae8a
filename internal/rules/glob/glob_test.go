package glob

import (
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// matchCases feeds TestMatch, the FuzzGlob seeds and BenchmarkMatch.
var matchCases = []struct {
	name    string
	pattern string
	path    string
	want    bool
}{
	{"exact_hit", "/healthz", "/healthz", true},
	{"exact_miss_prefix", "/healthz", "/healthz2", false},
	{"exact_miss_child", "/healthz", "/healthz/x", false},
	{"exact_case_sensitive", "/healthz", "/HEALTHZ", false},
	{"root_only_root", "/", "/", true},
	{"root_not_child", "/", "/a", false},
	{"star_in_segment", "/static/*.css", "/static/site.css", true},
	{"star_empty", "/static/*.css", "/static/.css", true},
	{"star_not_across_slash", "/static/*.css", "/static/a/site.css", false},
	{"star_whole_segment", "/users/*/avatar", "/users/42/avatar", true},
	{"star_whole_segment_empty", "/users/*/avatar", "/users//avatar", true},
	{"star_whole_segment_two", "/users/*/avatar", "/users/4/2/avatar", false},
	{"star_many", "/a/*b*c*d", "/a/xbycbzdd", true},
	{"star_many_miss", "/a/*b*c*d", "/a/xbydc", false},
	{"star_overlap_prefix_suffix", "/ab*ba", "/aba", false},
	{"star_overlap_prefix_suffix_ok", "/ab*ba", "/abba", true},
	{"subtree_dir_itself", "/static/**", "/static", true},
	{"subtree_child", "/static/**", "/static/css/site.css", true},
	{"subtree_sibling_prefix", "/static/**", "/staticx", false},
	{"trailing_slash_is_subtree", "/.git/", "/.git", true},
	{"trailing_slash_child", "/.git/", "/.git/config", true},
	{"trailing_slash_not_sibling", "/.git/", "/.github", false},
	{"globstar_all", "/**", "/", true},
	{"globstar_all_deep", "/**", "/a/b/c", true},
	{"last_segment", "/**/.env", "/.env", true},
	{"last_segment_deep", "/**/.env", "/api/v1/.env", true},
	{"last_segment_not_suffix_only", "/**/.env", "/x.env", false},
	{"last_segment_not_middle", "/**/.env", "/.env/x", false},
	{"any_segment_middle", "/**/.git/**", "/repo/.git/config", true},
	{"any_segment_last", "/**/.git/**", "/repo/.git", true},
	{"any_segment_miss", "/**/.git/**", "/repo/.gitignore", false},
	{"middle_globstar_zero", "/a/**/b", "/a/b", true},
	{"middle_globstar_many", "/a/**/b", "/a/x/y/b", true},
	{"middle_globstar_miss", "/a/**/b", "/a/x/y/c", false},
	{"two_globstars", "/**/x/**/y", "/a/x/b/c/y", true},
	{"two_globstars_order", "/**/x/**/y", "/a/y/b/x", false},
	{"globstar_then_star", "/api/**/*.json", "/api/v1/users/list.json", true},
	{"globstar_then_star_root", "/api/**/*.json", "/api/list.json", true},
	{"globstar_then_star_miss", "/api/**/*.json", "/api/v1/list.xml", false},
	{"backtrack_needed", "/**/a/b", "/a/a/b", true},
	{"unicode_literal", "/café/*", "/café/menu", true},
	{"relative_path_never", "/**", "a/b", false},
	{"empty_path_never", "/**", "", false},
}

func TestMatch(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.pattern)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.pattern, err)
			}
			if got := p.Match(tc.path); got != tc.want {
				t.Errorf("Compile(%q).Match(%q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
			}
			if got, want := p.Match(tc.path), reference(t, tc.pattern, tc.path); got != want {
				t.Errorf("Match(%q) = %v but the reference regexp says %v", tc.path, got, want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string
	}{
		{"empty", "", "empty pattern"},
		{"relative", "static/**", `must start with "/"`},
		{"double_slash", "/a//b", "empty segment"},
		{"double_slash_trailing", "/a//", "empty segment"},
		{"dot_segment", "/a/./b", `"." segment`},
		{"dotdot_segment", "/a/../b", `".." segment`},
		{"globstar_in_segment", "/a/**.php", "whole segment"},
		{"triple_star", "/a/***", "whole segment"},
		{"query", "/search?q=1", "no query"},
		{"fragment", "/a#b", "no query or fragment"},
		{"percent", "/%2e%65nv", "decoded paths"},
		{"control", "/a\x00b", "control character"},
		{"invalid_utf8", "/a\xffb", "UTF-8"},
		{"too_long", "/" + strings.Repeat("a", MaxLen), "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.pattern)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile(%q) error = %v, want it to contain %q", tc.pattern, err, tc.want)
			}
		})
	}
}

func TestExactAndLiteral(t *testing.T) {
	tests := []struct {
		name      string
		pattern   string
		exact     bool
		literal   int
		moreThanP string // a pattern this one must be more specific than
	}{
		{"exact", "/login", true, 6, "/log*"},
		{"subtree", "/api/v1/**", false, 7, "/api/**"},
		{"star", "/api/*/users", false, 11, "/api/**"},
		{"root", "/", true, 1, "/**"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := p.Exact(); ok != tc.exact {
				t.Errorf("Exact() ok = %v, want %v", ok, tc.exact)
			}
			if p.Literal() != tc.literal {
				t.Errorf("Literal() = %d, want %d", p.Literal(), tc.literal)
			}
			q, err := Compile(tc.moreThanP)
			if err != nil {
				t.Fatal(err)
			}
			if p.Literal() <= q.Literal() {
				t.Errorf("Literal(%q) = %d, not more than Literal(%q) = %d", tc.pattern, p.Literal(), tc.moreThanP, q.Literal())
			}
		})
	}
	var zero Pattern
	if _, ok := zero.FirstSegment(); ok || zero.Match("/") {
		t.Error("zero Pattern matched /")
	}
}

// regexpOf translates a valid glob into the equivalent RE2 expression, independently of
// the matcher: segments joined by "/", "*" → "[^/]*", a "**" segment → any number of
// "/"-prefixed segments.
func regexpOf(t testing.TB, pattern string) *regexp.Regexp {
	t.Helper()
	body := pattern
	if len(body) > 1 && strings.HasSuffix(body, "/") {
		body += "**"
	}
	var b strings.Builder
	b.WriteString(`^`)
	if body == "/" {
		b.WriteString(`/`)
	} else {
		for _, seg := range strings.Split(body[1:], "/") {
			if seg == "**" {
				b.WriteString(`(?:/[^/]*)*`)
				continue
			}
			b.WriteString(`/`)
			for i, part := range strings.Split(seg, "*") {
				if i > 0 {
					b.WriteString(`[^/]*`)
				}
				b.WriteString(regexp.QuoteMeta(part))
			}
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// reference matches p against pattern through regexpOf; paths must start with "/".
func reference(t testing.TB, pattern, p string) bool {
	return strings.HasPrefix(p, "/") && regexpOf(t, pattern).MatchString(p)
}

func FuzzGlob(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.pattern, tc.path)
	}
	f.Fuzz(func(t *testing.T, pattern, p string) {
		g, err := Compile(pattern)
		if err != nil {
			return
		}
		got := g.Match(p)
		if want := reference(t, pattern, p); got != want {
			t.Fatalf("Compile(%q).Match(%q) = %v, reference regexp says %v", pattern, p, got, want)
		}
		// Without "**" and the characters path.Match treats specially, the syntax is
		// path.Match's.
		if !strings.Contains(pattern, "**") && !strings.HasSuffix(pattern, "/") &&
			!strings.ContainsAny(pattern, `[]\`) && strings.HasPrefix(p, "/") {
			if want, err := path.Match(pattern, p); err == nil && got != want {
				t.Fatalf("Compile(%q).Match(%q) = %v, path.Match says %v", pattern, p, got, want)
			}
		}
		if lit, ok := g.Exact(); ok && got != (p == lit) {
			t.Fatalf("exact pattern %q: Match(%q) = %v", pattern, p, got)
		}
		// Only paths with a pattern's literal first segment can match it.
		if first, ok := g.FirstSegment(); ok && got {
			if seg, _, _ := strings.Cut(p[1:], "/"); seg != first {
				t.Fatalf("Compile(%q).Match(%q), but FirstSegment = %q", pattern, p, first)
			}
		}
		// Folding is matching the lower-cased pattern against the lower-cased path.
		gf, err := CompileFold(pattern)
		if err != nil {
			t.Fatalf("CompileFold(%q): %v, but Compile accepted it", pattern, err)
		}
		lp, err := Compile(asciiLower(pattern))
		if err != nil {
			t.Fatalf("Compile(%q): %v", asciiLower(pattern), err)
		}
		if got, want := gf.Match(p), lp.Match(asciiLower(p)); got != want {
			t.Fatalf("CompileFold(%q).Match(%q) = %v, want %v", pattern, p, got, want)
		}
	})
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func TestFirstSegment(t *testing.T) {
	tests := []struct {
		pattern string
		first   string
		ok      bool
	}{
		{"/", "", true},
		{"/api", "api", true},
		{"/api/**", "api", true},
		{"/api/", "api", true},
		{"/api/*/x", "api", true},
		{"/a*/x", "", false},
		{"/**", "", false},
		{"/**/.env", "", false},
		{"/**/.git/**", "", false},
		{"/**/a/*.b", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := Compile(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if first, ok := p.FirstSegment(); first != tc.first || ok != tc.ok {
				t.Errorf("FirstSegment() = %q, %v; want %q, %v", first, ok, tc.first, tc.ok)
			}
		})
	}
	p, err := CompileFold("/PhpMyAdmin/")
	if err != nil {
		t.Fatal(err)
	}
	if first, _ := p.FirstSegment(); first != "phpmyadmin" {
		t.Errorf("folding FirstSegment() = %q, want lower case", first)
	}
}

func TestMatchFold(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		path    string
		want    bool
	}{
		{"exact_upper_path", "/.env", "/.ENV", true},
		{"exact_upper_pattern", "/HNAP1", "/hnap1", true},
		{"exact_miss", "/.env", "/.envx", false},
		{"subtree_upper", "/phpmyadmin/", "/phpMyAdmin/index.php", true},
		{"subtree_dir", "/phpmyadmin/", "/PHPMYADMIN", true},
		{"subtree_miss", "/phpmyadmin/", "/phpmyadmin2", false},
		{"last_segment", "/**/.env", "/Api/.Env", true},
		{"last_segment_miss", "/**/.env", "/api/x.env", false},
		{"any_segment", "/**/.git/**", "/Repo/.GIT/config", true},
		{"any_segment_miss", "/**/.git/**", "/repo/.gitx/config", false},
		{"general", "/backup/*.SQL", "/BACKUP/db.sql", true},
		{"general_miss", "/backup/*.sql", "/BACKUP/x/db.sql", false},
		{"general_middle_part", "/api/v*-*-beta/**", "/API/V1-Users-BETA/x", true},
		{"general_middle_part_miss", "/api/v*-*-beta/**", "/API/V1-Users/x", false},
		{"non_ascii_kept", "/café", "/CAFÉ", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CompileFold(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Match(tc.path); got != tc.want {
				t.Errorf("CompileFold(%q).Match(%q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
			}
			if p.String() != tc.pattern {
				t.Errorf("String() = %q, want the pattern as written", p.String())
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, tc := range matchCases {
		p, err := Compile(tc.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Match(tc.path)
			}
		})
	}
}

func TestMatchAllocs(t *testing.T) {
	for _, tc := range matchCases {
		p, err := Compile(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if n := vigiltest.AllocsPerRun(100, func() { p.Match(tc.path) }); n != 0 {
			t.Errorf("%s: Match allocates %v times, want 0", tc.name, n)
		}
		f, err := CompileFold(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		upper := strings.ToUpper(tc.path)
		if n := vigiltest.AllocsPerRun(100, func() { f.Match(upper) }); n != 0 {
			t.Errorf("%s: folding Match allocates %v times, want 0", tc.name, n)
		}
	}
}

// TestMatchLinear checks that a pathological pattern against a long path finishes: a
// backtracking matcher takes exponential time here, this one O(segments × pattern
// segments), about a millisecond. The bound is three orders of magnitude above that.
func TestMatchLinear(t *testing.T) {
	pattern := "/" + strings.Repeat("**/a/", 20) + "b"
	p, err := Compile(pattern)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("/a", 2000)
	start := time.Now()
	if p.Match(long) {
		t.Error("matched a path without the final b")
	}
	if !p.Match(long + "/b") {
		t.Error("did not match a path ending in /b")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("two matches took %v", d)
	}
}
