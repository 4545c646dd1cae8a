package knownclients_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/knownclients"
)

// The lookups and Compare take untrusted input: strings from a forwarded header or a
// client's own bytes. The fuzz targets check that they never panic and that the
// lookups and Compare agree with each other. The seeds are the test tables.

func FuzzByH2(f *testing.F) {
	for _, g := range goldens {
		f.Add(g.akamai, "")
	}
	f.Add(chromeGREASE, "")
	f.Add(firefoxJA4, "m,p,a,s")
	f.Add("1:2;3|4|5|6", "m,a")
	tb := knownclients.Default()
	f.Fuzz(func(t *testing.T, akamai, pseudo string) {
		ms := tb.ByH2(akamai, pseudo)
		// A GREASE setting never changes the outcome.
		if s, rest, ok := strings.Cut(akamai, "|"); ok {
			greased := "2570:1;" + s + "|" + rest
			if s == "" {
				greased = "2570:1|" + rest
			}
			got, gotConf := families(tb.ByH2(greased, pseudo))
			want, wantConf := families(ms)
			if !cmp.Equal(want, got) || !cmp.Equal(wantConf, gotConf) {
				t.Errorf("ByH2(%q) = %v %v, but with a GREASE setting %v %v", akamai, want, wantConf, got, gotConf)
			}
		}
		for _, m := range ms {
			if m.Confidence != knownclients.ConfidenceH2 {
				continue
			}
			a := tb.Compare(knownclients.Claim{Family: m.Family}, knownclients.Evidence{Akamai: akamai, PseudoOrder: pseudo})
			if r := a.Layers[knownclients.LayerH2]; r.Status != knownclients.StatusAgree {
				t.Errorf("ByH2(%q, %q) names %s, but Compare says %v (%s)", akamai, pseudo, m.Family, r.Status, r.Rule)
			}
		}
	})
}

func FuzzByHeaderOrder(f *testing.F) {
	for _, g := range goldens {
		if g.h1 != nil {
			f.Add("h1", strings.Join(g.h1, ","))
		}
		if g.h2 != nil {
			f.Add("h2", strings.Join(g.h2, ","))
		}
	}
	for _, tc := range compareCases {
		if tc.ev.HeaderNames != nil {
			f.Add(tc.ev.Proto, strings.Join(tc.ev.HeaderNames, ","))
		}
	}
	tb := knownclients.Default()
	f.Fuzz(func(t *testing.T, proto, joined string) {
		names := strings.Split(joined, ",")
		for _, m := range tb.ByHeaderOrder(proto, names) {
			a := tb.Compare(knownclients.Claim{Family: m.Family}, knownclients.Evidence{Proto: proto, HeaderNames: names})
			if r := a.Layers[knownclients.LayerHeaders]; r.Status != knownclients.StatusAgree {
				t.Errorf("ByHeaderOrder(%s, %q) names %s (%v), but Compare says %v (%s)", proto, names, m.Family, m.Confidence, r.Status, r.Rule)
			}
		}
	})
}

func FuzzCompare(f *testing.F) {
	for _, tc := range compareCases {
		f.Add(tc.claim.Family, tc.claim.OS, tc.ev.JA4, tc.ev.JA4B, tc.ev.Akamai, tc.ev.PseudoOrder, tc.ev.Proto,
			strings.Join(tc.ev.HeaderNames, ","), string(tc.ev.RequestKind))
	}
	tb := knownclients.Default()
	f.Fuzz(func(t *testing.T, family, os, ja4, ja4b, akamai, pseudo, proto, joined, kind string) {
		var names []string
		if joined != "" {
			names = strings.Split(joined, ",")
		}
		a := tb.Compare(knownclients.Claim{Family: family, OS: os}, knownclients.Evidence{
			JA4: ja4, JA4B: ja4b, Akamai: akamai, PseudoOrder: pseudo, Proto: proto, HeaderNames: names,
			RequestKind: knownclients.RequestKind(kind),
		})
		score, agree, known := 0, false, 0
		for _, r := range a.Layers {
			switch r.Status {
			case knownclients.StatusDisagree:
				score += r.Layer.Weight()
				known++
			case knownclients.StatusAgree:
				agree = true
				known++
			}
		}
		want := knownclients.VerdictUnknown
		switch {
		case score >= 2:
			want = knownclients.VerdictInconsistent
		case score == 1:
			want = knownclients.VerdictSuspicious
		case agree:
			want = knownclients.VerdictConsistent
		}
		if a.Score != score || a.Verdict != want {
			t.Errorf("score %d verdict %v, want %d %v", a.Score, a.Verdict, score, want)
		}
		if n := len(a.Reasons()); n != known {
			t.Errorf("%d reasons for %d known layers", n, known)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(small))
	f.Add([]byte(`{"version": 1}`))
	f.Add([]byte(`{"version": 1, "families": [{"name": "x", "kind": "browser", "source": "s", "like": "x"}]}`))
	tb := knownclients.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		parsed, err := knownclients.Parse(data)
		if err != nil {
			if parsed != nil {
				t.Error("a table and an error")
			}
			return
		}
		for _, name := range parsed.Families() {
			if _, ok := parsed.Family(name); !ok {
				t.Errorf("Families lists %q, Family does not find it", name)
			}
			parsed.Compare(knownclients.Claim{Family: name, OS: "ios"}, knownclients.Evidence{JA4: chromeJA4, Akamai: chromeAkamai, Proto: "h1", HeaderNames: []string{"Host"}})
		}
		merged, err := tb.Merge(data)
		if err != nil {
			return // a valid table can still conflict with the base, e.g. share a JA4_b
		}
		for _, name := range parsed.Families() {
			if _, ok := merged.Family(name); !ok {
				t.Errorf("merged table lacks the overlay's family %q", name)
			}
		}
	})
}
