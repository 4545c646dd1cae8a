package rules

import (
	"strings"
	"testing"
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
