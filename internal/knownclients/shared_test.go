package knownclients_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/fpdata"
	"github.com/vigilhq/vigil/internal/knownclients"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

func loadRows(t *testing.T, kind string) []fpdata.Row {
	t.Helper()
	f, err := os.Open(vigiltest.SharedData(t, "fingerprints.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := fpdata.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var rows []fpdata.Row
	for _, r := range all {
		if r.Kind == kind {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no %s rows", kind)
	}
	return rows
}

// TestCurlImpersonateSignatures checks every browser signature of curl-impersonate:
// its JA4 (computed here), its cipher hash, its pseudo-header order and its HTTP/2
// header order all map to the signature's browser.
func TestCurlImpersonateSignatures(t *testing.T) {
	tb := knownclients.Default()
	rows := loadRows(t, fpdata.KindSignature)
	if len(rows) != 21 {
		t.Errorf("%d signatures, want 21", len(rows))
	}
	for _, r := range rows {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(r.Name), func(t *testing.T) {
			if _, ok := tb.Family(r.Browser); !ok {
				t.Fatalf("browser %q is not a family", r.Browser)
			}
			ja4, err := r.SignatureJA4()
			if err != nil {
				t.Fatal(err)
			}
			if ms := tb.ByJA4(ja4); !contains(ms, r.Browser) {
				t.Errorf("ByJA4(%s) = %v, want %s", ja4, ms, r.Browser)
			}
			if ms := tb.ByJA4B(ja4[11:23]); !contains(ms, r.Browser) {
				t.Errorf("ByJA4B(%s) = %v, want %s", ja4[11:23], ms, r.Browser)
			}
			pseudo := r.PseudoOrder()
			ms := tb.ByH2("", pseudo)
			if !contains(ms, r.Browser) || ms[0].Confidence != knownclients.ConfidenceH2Pseudo {
				t.Errorf("ByH2(%q) = %v, want %s by pseudo-header order", pseudo, ms, r.Browser)
			}
			names := r.HeaderNames()
			if ms := tb.ByHeaderOrder("h2", names); !contains(ms, r.Browser) || ms[0].Confidence != knownclients.ConfidenceHeaderExact {
				t.Errorf("ByHeaderOrder(h2, %q) = %v, want %s exactly", names, ms, r.Browser)
			}
			a := tb.Compare(knownclients.Claim{Family: r.Browser}, knownclients.Evidence{
				JA4: ja4, PseudoOrder: pseudo, Proto: "h2", HeaderNames: names, RequestKind: knownclients.RequestNavigation,
			})
			if a.Verdict != knownclients.VerdictConsistent || a.Layers[knownclients.LayerTLS].Rule != knownclients.RuleJA4 {
				t.Errorf("Compare: %v, %q; want consistent with an exact JA4", a.Verdict, a.Reasons())
			}
		})
	}
}

// TestFoxIOMapping checks every labelled JA4 of FoxIO's mapping: a value whose labels
// all name one family resolves to it exactly, and a value that any other label
// claims too (row 62's GoLang value is also WinINET's) is not in the table.
func TestFoxIOMapping(t *testing.T) {
	tb := knownclients.Default()
	rows := loadRows(t, fpdata.KindJA4Map)
	fams := map[string]map[string]bool{} // JA4 → families ("" for an unmapped label)
	var order []string
	for _, r := range rows {
		if fams[r.JA4] == nil {
			fams[r.JA4] = map[string]bool{}
			order = append(order, r.JA4)
		}
		fams[r.JA4][fpdata.Family(r.Label())] = true
	}
	mapped := 0
	for _, ja4 := range order {
		t.Run(ja4, func(t *testing.T) {
			ms := tb.ByJA4(ja4)
			if len(fams[ja4]) != 1 || fams[ja4][""] {
				if ms != nil {
					t.Errorf("ByJA4(%s) = %v; its labels %v are not one known family", ja4, ms, fams[ja4])
				}
				return
			}
			mapped++
			for want := range fams[ja4] {
				if len(ms) == 0 || ms[0].Family != want {
					t.Errorf("ByJA4(%s) = %v, want %s first", ja4, ms, want)
				}
			}
		})
	}
	if mapped != 21 {
		t.Errorf("%d FoxIO values mapped, want 21 (Python 3, Chromium 8, Firefox 2, Safari 2, Go 6)", mapped)
	}
}
