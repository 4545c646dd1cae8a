package attack

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/detect/decode"
	"github.com/vigilhq/vigil/internal/nfa"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

var payloadsStride = flag.Int("payloads-stride", 40, "TestExpressionsMatchRegexp compares on every n-th attack payload")

// TestExpressionsMatchRegexp holds the scanner's expressions, run by package nfa, to
// the standard library's results — start and end of the leftmost match — on the shared
// corpus's values and on a sample of the attack payloads, whole and in the lower-cased,
// decoded form the detectors see. `go test -run ExpressionsMatchRegexp -payloads-stride 1`
// compares on every payload (about 40,000; a few minutes).
func TestExpressionsMatchRegexp(t *testing.T) {
	var re regexps
	if err := re.compile(); err != nil {
		t.Fatal(err)
	}
	type pair struct {
		name string
		got  *nfa.Regexp
		want *regexp.Regexp
	}
	var pairs []pair
	for _, e := range re.exprs() {
		name := e.src[:min(len(e.src), 40)]
		if *e.dst == nil {
			t.Fatalf("expression %s not compiled", name)
		}
		pairs = append(pairs, pair{name, *e.dst, regexp.MustCompile(e.src)})
	}

	var values []string
	for _, c := range benignValues {
		values = append(values, c.value)
	}
	for _, c := range attackValues {
		values = append(values, c.value)
	}
	f, err := os.Open(vigiltest.SharedData(t, "payloads.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 0; sc.Scan(); n++ {
		if n%*payloadsStride != 0 {
			continue
		}
		var row struct{ Payload string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		values = append(values, row.Payload)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(values) < 1000 {
		t.Fatalf("%d values: the payloads did not load", len(values))
	}
	matched := 0
	for _, val := range values {
		forms := []string{val}
		if n := decode.String(val, decode.Query); n != val {
			forms = append(forms, n)
		}
		if l := strings.ToLower(forms[len(forms)-1]); l != forms[len(forms)-1] {
			forms = append(forms, l)
		}
		for _, in := range forms {
			for _, p := range pairs {
				got, want := p.got.FindStringIndex(in), p.want.FindStringIndex(in)
				if !slices.Equal(got, want) {
					t.Errorf("%s on %q: %v, regexp says %v", p.name, in, got, want)
				}
				if want != nil {
					matched++
				}
			}
		}
	}
	// The comparison means something only if the expressions match often.
	if matched < len(values)/4 {
		t.Errorf("only %d matches over %d values: the corpus does not exercise the expressions", matched, len(values))
	}
	t.Logf("%d values, %d expressions, %d matches compared", len(values), len(pairs), matched)
}
