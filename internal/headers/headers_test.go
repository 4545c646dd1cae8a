package headers

import (
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// TestLookupMatchesVocabulary keeps the switch in Lookup and the name list in step.
func TestLookupMatchesVocabulary(t *testing.T) {
	if len(Vocabulary()) != NumDNA {
		t.Fatalf("%d names, NumDNA = %d", len(Vocabulary()), NumDNA)
	}
	for i, name := range Vocabulary() {
		if n, ok := Lookup(name); !ok || int(n) != i {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", name, n, ok, i)
		}
		if got := Name(i).String(); got != name {
			t.Errorf("Name(%d).String() = %q, want %q", i, got, name)
		}
		if got := http.CanonicalHeaderKey(name); got != name {
			t.Errorf("%q is not canonical (%q): net/http would never store it", name, got)
		}
	}
	for _, name := range []string{"X-Custom", "accept", "user-agent", "", "Accept-"} {
		if n, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %d, true; want false", name, n)
		}
	}
}

// The DNA presence vector depends on these indices; they must never move.
func TestNamesAreStable(t *testing.T) {
	for n, want := range map[Name]int{Accept: 0, Cookie: 5, SecChUa: 11, UserAgent: 20, Range: 27} {
		if int(n) != want {
			t.Errorf("%s = %d, want %d", n, n, want)
		}
	}
}

func TestSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Header
	}{
		{"empty", http.Header{}},
		{"nil", nil},
		{"browser", http.Header{
			"User-Agent": {"Mozilla/5.0"}, "Accept": {"text/html"}, "Sec-Ch-Ua": {`"Chromium";v="142"`},
			"Cookie": {"a=1", "b=2"}, "X-Custom": {"1"},
		}},
		{"empty_values", http.Header{"Accept": {}, "Referer": {""}, "X-Empty": {}}},
		{"many_others", func() http.Header {
			h := http.Header{"Accept": {"*/*"}}
			for _, n := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"} {
				h["X-"+n] = []string{n, n + n}
			}
			return h
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Set
			s.Read(http.Header{"Range": {"stale"}, "X-Stale": {"1"}}) // Read must replace it all
			s.Read(tc.h)
			checkSet(t, &s, tc.h)
		})
	}
}

// checkSet compares everything s reports with h, looked up the slow way.
func checkSet(t *testing.T, s *Set, h http.Header) {
	t.Helper()
	var others []Field
	for name, vals := range h {
		n, ok := Lookup(name)
		if !ok {
			others = append(others, Field{name, vals})
			continue
		}
		if !s.Has(n) || s.Present()&(1<<n) == 0 {
			t.Errorf("%s not present", name)
		}
		got, ok := s.Get(n)
		want := ""
		if len(vals) > 0 {
			want = vals[0]
		}
		if !ok || got != want {
			t.Errorf("Get(%s) = %q, %v; want %q, true", name, got, ok, want)
		}
		if s.Multiple(n) != (len(vals) > 1) {
			t.Errorf("Multiple(%s) = %v with %d values", name, s.Multiple(n), len(vals))
		}
		if !slices.Equal(s.Values(n), vals) {
			t.Errorf("Values(%s) = %q, want %q", name, s.Values(n), vals)
		}
	}
	for i, name := range Vocabulary() {
		if _, ok := h[name]; !ok && s.Has(Name(i)) {
			t.Errorf("%s reported present", name)
		}
		if _, ok := h[name]; !ok && s.Values(Name(i)) != nil {
			t.Errorf("Values(%s) of an absent name is not nil", name)
		}
	}
	var got []Field
	for i := range s.NumOthers() {
		got = append(got, s.Other(i))
	}
	byName := func(f []Field) { sort.Slice(f, func(i, j int) bool { return f[i].Name < f[j].Name }) }
	byName(got)
	byName(others)
	if diff := cmp.Diff(others, got); diff != "" {
		t.Errorf("others (-want +got):\n%s", diff)
	}
	if s.Header() == nil != (h == nil) {
		t.Errorf("Header() = %v, want the map read", s.Header())
	}
}

func TestSetReadDoesNotAllocate(t *testing.T) {
	h := http.Header{"User-Agent": {"x"}, "Accept": {"y"}, "X-A": {"1"}, "X-B": {"2"}}
	var s Set
	if n := vigiltest.AllocsPerRun(100, func() { s.Read(h) }); n != 0 {
		t.Errorf("Read allocated %v times, want 0", n)
	}
}

func BenchmarkRead(b *testing.B) {
	h := http.Header{}
	for _, n := range []string{"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Upgrade-Insecure-Requests",
		"User-Agent", "Accept", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-User", "Sec-Fetch-Dest",
		"Accept-Encoding", "Accept-Language", "Cookie"} {
		h[n] = []string{"v"}
	}
	b.ReportAllocs()
	var s Set
	for b.Loop() {
		s.Read(h)
	}
}

// FuzzLookup holds Lookup to a linear search of the vocabulary.
func FuzzLookup(f *testing.F) {
	for _, name := range Vocabulary() {
		f.Add(name)
	}
	for _, name := range []string{"", "A", "X-Custom", "accept", "Sec-Fetch-Moda", "Te\x00"} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		want := slices.Index(Vocabulary(), name)
		n, ok := Lookup(name)
		if ok != (want >= 0) || ok && int(n) != want {
			t.Fatalf("Lookup(%q) = %d, %v; the vocabulary says %d", name, n, ok, want)
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	names := []string{"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Upgrade-Insecure-Requests",
		"User-Agent", "Accept", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-User", "Sec-Fetch-Dest",
		"Accept-Encoding", "Accept-Language", "Cookie", "X-Custom"}
	for b.Loop() {
		for _, n := range names {
			Lookup(n)
		}
	}
}
