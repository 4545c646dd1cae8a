package fraud_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigilhq/vigil/fraud"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// validInputs returns the valid addresses of canonicalCases, the benchmark's inputs.
func validInputs() []string {
	var in []string
	for _, tc := range canonicalCases {
		if tc.invalid == "" {
			in = append(in, tc.in)
		}
	}
	return in
}

// BenchmarkAnalyzeEmailOffline measures the offline path (syntax, canonical form,
// lists, signals) per address, over the valid addresses of the canonical table and a
// typical sign-up address.
func BenchmarkAnalyzeEmailOffline(b *testing.B) {
	a := offlineAnalyzer(b)
	ctx := context.Background()
	a.AnalyzeEmail(ctx, "warm@gmail.com") // parse the embedded lists outside the timing
	b.Run("typical", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.AnalyzeEmail(ctx, "Jane.Doe@example.com")
		}
	})
	b.Run("table", func(b *testing.B) {
		in := validInputs()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			a.AnalyzeEmail(ctx, in[i%len(in)])
			i++
		}
	})
	b.Run("subdomain_disposable", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.AnalyzeEmail(ctx, "x@mail.sub.mailinator.com")
		}
	})
}

// BenchmarkCanonicalEmail measures the canonical form alone.
func BenchmarkCanonicalEmail(b *testing.B) {
	in := validInputs()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fraud.CanonicalEmail(in[i%len(in)])
		i++
	}
}

// BenchmarkDetectEmailAbuse measures clustering of 1,000 sign-ups.
func BenchmarkDetectEmailAbuse(b *testing.B) {
	var emails []string
	for i := range 1000 {
		emails = append(emails, fmt.Sprintf("user.%d+tag@gmail.com", i), fmt.Sprintf("shopper%d@corp.example", i%50))
	}
	emails = emails[:1000]
	b.ReportAllocs()
	for b.Loop() {
		fraud.DetectEmailAbuse(emails)
	}
}

// TestAnalyzeEmailAllocs is the allocation ceiling of the offline path.
func TestAnalyzeEmailAllocs(t *testing.T) {
	a := offlineAnalyzer(t)
	ctx := context.Background()
	for _, tc := range []struct {
		addr string
		max  float64
	}{
		{"jane.doe@example.com", 0},     // already canonical, no reasons
		{"Jane.Doe@example.com", 2},     // the lower-case key and the canonical form
		{"J.o.h.n+x@googlemail.com", 7}, // and two reasons with their texts
		{"a..b@gmail.com", 1},           // the one reason
	} {
		got := vigiltest.AllocsPerRun(100, func() { a.AnalyzeEmail(ctx, tc.addr) })
		if got > tc.max {
			t.Errorf("AnalyzeEmail(%q): %.0f allocations, ceiling %.0f", tc.addr, got, tc.max)
		}
	}
}
