package rules

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/rules/glob"
	"github.com/vigilhq/vigil/policy"
)

// FuzzHasUpper checks the word-at-a-time hasUpper against a byte loop.
func FuzzHasUpper(f *testing.F) {
	for _, s := range []string{"", "/products/42", "/Products/ABC", "/abcdefgZ", "/abcdefghijklmnoP", "@[`{\x80\xc0\xda", "\xc1\xdaAZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' }) >= 0
		if got := hasUpper(s); got != want {
			t.Fatalf("hasUpper(%q) = %v, want %v", s, got, want)
		}
	})
}

// FuzzPathSetFilter checks that a pathSet's filters never turn away a path that one of
// its patterns matches: match agrees with trying every pattern, in exact case and
// folded, for the default honeypots plus patterns the filters cannot cover.
func FuzzPathSetFilter(f *testing.F) {
	patterns := append(policy.DefaultHoneypotPaths(), "/api/*/debug", "/**/admin/*.php", "/", "/static/**", "/**/x")
	for _, s := range append([]string{"/", "/products", "/.ENV", "/a/b/.git/config", "/A/.Git", "/wp-login.php",
		"/api/v1/debug", "/x/ADMIN/a.php", "/static", "/Static/app.js", "//", "/a//b", ""}, patterns...) {
		f.Add(s)
	}
	var sets [2]pathSet
	for i, fold := range []bool{false, true} {
		ps, err := newPathSet(patterns, fold)
		if err != nil {
			f.Fatal(err)
		}
		sets[i] = ps
	}
	f.Fuzz(func(t *testing.T, p string) {
		for i, fold := range []bool{false, true} {
			compile := glob.Compile
			if fold {
				compile = glob.CompileFold
			}
			want := false
			for _, s := range patterns {
				g, _ := compile(s)
				if g.Match(p) {
					want = true
					break
				}
			}
			if got := sets[i].match(p); got != want {
				t.Fatalf("fold %v: match(%q) = %v, want %v", fold, p, got, want)
			}
		}
	})
}
