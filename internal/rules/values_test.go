package rules

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// valueCases feeds TestValues and the FuzzValues seeds.
var valueCases = []struct {
	name   string
	query  string
	cookie string
	key    string
}{
	{"plain", "a=1&b=2&a=3", "a=1; b=2; a=3", "a"},
	{"encoded", "a%20b=x%2By&a+b=z+w", `a="quoted"; a=plain`, "a b"},
	{"empty_values", "a=&a&a=1", "a=; a", "a"},
	{"semicolon_pairs", "a=1;b=2&a=3", "a=1;;a=2", "a"},
	{"bad_escape", "a=%zz&a=ok&%zz=1", "a=bad\\value; a=ok", "a"},
	{"spaces", "a=1&&a=2", "  a = 1 ;a=2  ", "a"},
	{"absent", "b=1", "b=1", "a"},
}

func collectQuery(query, name string) []string {
	var out []string
	for {
		v, rest, ok := nextQuery(query, name)
		if !ok {
			return out
		}
		out = append(out, v)
		query = rest
	}
}

func collectCookies(lines []string, name string) []string {
	var out []string
	line, rest := 0, ""
	for {
		v, nl, nr, ok := nextCookie(lines, line, rest, name)
		if !ok {
			return out
		}
		out = append(out, v)
		line, rest = nl, nr
	}
}

// checkValues compares the in-place readers with the standard library's parsers.
func checkValues(t *testing.T, query, cookie, name string) {
	want, _ := url.ParseQuery(query)
	if got := collectQuery(query, name); !slices.Equal(got, want[name]) {
		t.Errorf("query %q, %q: got %q, url.ParseQuery says %q", query, name, got, want[name])
	}
	if !isCookieName(name) {
		return // policies only name valid cookies
	}
	h := http.Header{"Cookie": strings.Split(cookie, "\n")}
	var wantC []string
	for _, c := range (&http.Request{Header: h}).Cookies() {
		if c.Name == name {
			wantC = append(wantC, c.Value)
		}
	}
	if got := collectCookies(h["Cookie"], name); !slices.Equal(got, wantC) {
		t.Errorf("cookie %q, %q: got %q, Request.Cookies says %q", cookie, name, got, wantC)
	}
}

func isCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c >= 0x7f || c <= ' ' || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func TestValues(t *testing.T) {
	for _, tc := range valueCases {
		t.Run(tc.name, func(t *testing.T) {
			checkValues(t, tc.query, tc.cookie, tc.key)
		})
	}
	if got, want := collectQuery("a=1&b=2&a=3", "a"), []string{"1", "3"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := collectCookies([]string{`a="q"; b=2`, "a=3"}, "a"), []string{"q", "3"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzValues(f *testing.F) {
	for _, tc := range valueCases {
		f.Add(tc.query, tc.cookie, tc.key)
	}
	f.Fuzz(func(t *testing.T, query, cookie, name string) {
		if strings.Count(query, "&") > 1000 || strings.Count(cookie, ";") > 1000 {
			return // past the standard library's limits, which the readers do not copy
		}
		checkValues(t, query, cookie, name)
	})
}
