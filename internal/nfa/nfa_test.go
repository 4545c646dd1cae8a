package nfa

import (
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// exprs are expressions that exercise what the engine must get right: priorities of
// alternations and of greedy against lazy repetition, empty-width assertions at every
// kind of position, case folding (including the Kelvin sign and the long s), classes
// of every size, UTF-8 and invalid bytes, literal prefixes, anchors and empty matches.
var exprs = []string{
	`a`,
	`abc`,
	`(?i)select`,
	`(?i)\bunion\b\s+select\b`,
	`a|ab`,
	`ab|a`,
	`a*`,
	`a*?`,
	`a+?b`,
	`(?:a|b)*c`,
	`x.{0,5}?y`,
	`x.{0,5}y`,
	`[\s\S]{0,3}?z`,
	`^abc`,
	`abc$`,
	`^$`,
	`(?m)^b`,
	`(?m)a$`,
	`\Aa|b\z`,
	`\bfoo\b`,
	`\Bo\B`,
	`(?i)k`,
	`(?i)s+`,
	`(?i)[k-s]+`,
	`[a-cx-z]+`,
	`[^a-z]+`,
	`[\pL\pN_]+`,
	`[^\pL\pN_](?:sleep|benchmark)\s*\(`,
	`é+`,
	`(?i)É`,
	`.`,
	`(?s).+`,
	`\x{FFFD}`,
	`(a)(b)?`,
	`(?:)`,
	`|a`,
	`a{2,4}`,
	`(?U)a+`,
	`foo(?:bar|baz)*qux`,
	`@\{\s*\[[^\]]*\]`,
	`['"]\s*(?:or|and)\b\s*['"]?[\w.]+['"]?\s*(?:=|<>|!=)`,
	`(?i)<\s*script[\s/>]`,
	`[^(]*\)\s*\(`,
	`\$\{[A-Za-z_]\w*(?::-?\d|[#%/^,~][^}]{0,20}\})`,
}

var inputs = []string{
	"",
	"a",
	"ab",
	"abc",
	"xabcx",
	"aaab",
	"b\nab\na",
	"foo bar foobar foo",
	"Select * FROM t union  SELECT 1",
	"1' OR '1'='1",
	"x123y x1234567y",
	"\u212a",  // Kelvin sign, folds to k
	"\u017fS", // long s, folds to s
	"ÉéÉ",
	"\xff\xfe abc \xc3",
	"1 union/**/select 2",
	"@{[ system 'id' ]}",
	"<ScRiPt>alert(1)</script>",
	"name)(uid=*)(",
	"${PATH:-/bin} ${x#y}",
	"time.sleep(1) ; sleep(5)",
	"z",
	"foobarbazqux",
}

func TestMatchesRegexp(t *testing.T) {
	for _, expr := range exprs {
		want := regexp.MustCompile(expr)
		got := MustCompile(expr)
		for _, in := range inputs {
			check(t, want, got, in)
		}
	}
}

// check compares FindStringIndex and MatchString with regexp's, and each of the two
// engines on its own (run picks the backtracker for every input short enough).
func check(t *testing.T, want *regexp.Regexp, got *Regexp, in string) {
	t.Helper()
	w, g := want.FindStringIndex(in), got.FindStringIndex(in)
	if !slices.Equal(w, g) {
		t.Errorf("%q on %q: FindStringIndex %v, regexp says %v", got, in, g, w)
	}
	if wm, gm := want.MatchString(in), got.MatchString(in); wm != gm {
		t.Errorf("%q on %q: MatchString %v, regexp says %v", got, in, gm, wm)
	}
	m := got.machine()
	defer got.pool.Put(m)
	for _, e := range []struct {
		name string
		run  func() (int, int, bool)
	}{
		{"pike", func() (int, int, bool) { return got.pike(m, in, false) }},
		{"pike any", func() (int, int, bool) { return got.pike(m, in, true) }},
		{"backtrack", func() (int, int, bool) { return got.backtrack(m, in) }},
	} {
		if len(in) < got.minLen {
			continue // run does not call either engine
		}
		start, end, ok := e.run()
		switch {
		case ok != (w != nil):
			t.Errorf("%q on %q: %s found a match: %v, regexp %v", got, in, e.name, ok, w)
		case ok && e.name != "pike any" && (start != w[0] || end != w[1]):
			t.Errorf("%q on %q: %s found [%d %d], regexp %v", got, in, e.name, start, end, w)
		}
	}
}

func FuzzMatchesRegexp(f *testing.F) {
	for i := range exprs {
		for _, in := range inputs {
			f.Add(uint8(i), in)
		}
	}
	compiled := make([]*Regexp, len(exprs))
	std := make([]*regexp.Regexp, len(exprs))
	for i, e := range exprs {
		compiled[i], std[i] = MustCompile(e), regexp.MustCompile(e)
	}
	f.Fuzz(func(t *testing.T, i uint8, in string) {
		j := int(i) % len(exprs)
		check(t, std[j], compiled[j], in)
	})
}

func TestCompileError(t *testing.T) {
	for _, expr := range []string{`(`, `a**`, `[z-a]`, `\8`} {
		if _, err := Compile(expr); err == nil {
			t.Errorf("Compile(%q) succeeded", expr)
		} else if _, stdErr := regexp.Compile(expr); stdErr == nil || stdErr.Error() != err.Error() {
			t.Errorf("Compile(%q): %v, regexp says %v", expr, err, stdErr)
		}
	}
}

// TestPointerFree holds the reason for the package: a compiled expression adds next to
// nothing to the heap the collector scans, where regexp's program is all scanned.
func TestPointerFree(t *testing.T) {
	expr := `(?i)\b(?:select|union|insert|update|delete)\b.{0,80}?\b(?:from|into|set|where)\b|(?:sleep|benchmark|pg_sleep)\s*\(\s*\d`
	scannable := func(f func() any) uint64 {
		s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
		runtime.GC()
		metrics.Read(s)
		before := s[0].Value.Uint64()
		keep := make([]any, 50)
		for i := range keep {
			keep[i] = f()
		}
		runtime.GC()
		metrics.Read(s)
		runtime.KeepAlive(keep)
		return (s[0].Value.Uint64() - min(before, s[0].Value.Uint64())) / uint64(len(keep))
	}
	std := scannable(func() any { return regexp.MustCompile(expr) })
	flat := scannable(func() any { return MustCompile(expr) })
	t.Logf("scannable heap per expression: regexp %d bytes, nfa %d bytes", std, flat)
	if std < 8<<10 {
		t.Fatalf("regexp's program should be scanned (%d bytes): the measurement is broken", std)
	}
	if flat > std/20 {
		t.Errorf("nfa adds %d scannable bytes per expression, regexp %d: the program is not pointer-free", flat, std)
	}
}

func TestConcurrent(t *testing.T) {
	const expr, in = `(?i)\bunion\b\s+select\b`, "1 UNION  select 2"
	re, want := MustCompile(expr), regexp.MustCompile(expr).FindStringIndex(in)
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 200 {
				ok = ok && slices.Equal(re.FindStringIndex(in), want) && !re.MatchString("union all")
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("a concurrent match went wrong")
		}
	}
}

func BenchmarkFindStringIndex(b *testing.B) {
	const expr = `(?i)['"]\s*\)*\s*(?:\b(?:or|and|xor|not|union|select|like|having)\b|[=<>!|&^+*/%-]|;).{0,80}?(?:--|#|/\*)[\s\-+;]*$`
	const in = `1' or 1=1 -- this is a comment that goes on for a while`
	b.Run("nfa", func(b *testing.B) {
		re := MustCompile(expr)
		b.ReportAllocs()
		for b.Loop() {
			re.FindStringIndex(in)
		}
	})
	b.Run("regexp", func(b *testing.B) {
		re := regexp.MustCompile(expr)
		b.ReportAllocs()
		for b.Loop() {
			re.FindStringIndex(in)
		}
	})
}

// TestAllocs holds the ceiling: a match reuses its pooled machine, so MatchString does
// not allocate and FindStringIndex allocates only the slice it returns. Under the race
// detector sync.Pool drops a quarter of what is put back, so the test runs without it
// (make unit).
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes pooled paths allocate; make unit runs the ceilings without it")
	}
	re := MustCompile(`(?i)\bunion\b\s+select\b`)
	short, long := "1 UNION select 2", strings.Repeat("union all, ", 3000)+"union select 1"
	for _, in := range []string{short, long} { // the backtracker, then the Pike VM
		if n := vigiltest.AllocsPerRun(100, func() { re.MatchString(in) }); n != 0 {
			t.Errorf("MatchString on %d bytes: %v allocations, want 0", len(in), n)
		}
		if n := vigiltest.AllocsPerRun(100, func() { sink = re.FindStringIndex(in) }); n > 1 {
			t.Errorf("FindStringIndex on %d bytes: %v allocations, want at most 1", len(in), n)
		}
	}
}

var sink []int
