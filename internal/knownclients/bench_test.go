package knownclients_test

import (
	"testing"

	"github.com/vigilhq/vigil/internal/knownclients"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// The benchmarks and the allocation ceilings share the golden table (golden_test.go)
// and the comparison cases (compare_test.go); they run per request.

func BenchmarkByJA4(b *testing.B) {
	tb := knownclients.Default()
	for _, g := range goldens {
		b.Run(g.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if tb.ByJA4(g.ja4) == nil {
					b.Fatal("no match")
				}
			}
		})
	}
}

func BenchmarkByJA4B(b *testing.B) {
	tb := knownclients.Default()
	b.ReportAllocs()
	for b.Loop() {
		if tb.ByJA4B("8daaf6152771") == nil {
			b.Fatal("no match")
		}
	}
}

func BenchmarkByH2(b *testing.B) {
	tb := knownclients.Default()
	for _, tc := range []struct{ name, akamai string }{
		{"chrome", chromeAkamai},
		{"chrome_grease", chromeGREASE},
		{"go", goAkamai},
		{"unknown", "1:4096;3:77|65535|0|s,p,m,a"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tb.ByH2(tc.akamai, "")
			}
		})
	}
}

func BenchmarkByHeaderOrder(b *testing.B) {
	tb := knownclients.Default()
	for _, tc := range []struct{ name, proto, names string }{
		{"chrome_h1_exact", "h1", chromeH1Headers},
		{"chrome_h1_tolerant", "h1", "Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-Dest,Referer,Accept-Encoding,Accept-Language,Cookie"},
		{"chrome_h2_exact", "h2", chromeH2Headers},
		{"curl_h1_exact", "h1", "Host,User-Agent,Accept"},
		{"unknown_h1", "h1", "Accept,X-A,X-B,X-C,Host,User-Agent"},
	} {
		names := split(tc.names)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tb.ByHeaderOrder(tc.proto, names)
			}
		})
	}
}

func BenchmarkCompare(b *testing.B) {
	tb := knownclients.Default()
	for _, tc := range compareCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tb.Compare(tc.claim, tc.ev)
			}
		})
	}
}

func BenchmarkDefaultParse(b *testing.B) {
	b.ReportAllocs()
	data := []byte(small)
	for b.Loop() {
		if _, err := knownclients.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAllocations holds the per-request lookups and Compare to zero allocations.
func TestAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts in -short mode")
	}
	tb := knownclients.Default()
	h1 := split(chromeH1Headers)
	tolerant := split("Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-Dest,Referer,Accept-Encoding,Accept-Language,Cookie")
	checks := []struct {
		name string
		f    func()
	}{
		{"by_ja4", func() { tb.ByJA4(chromeJA4) }},
		{"by_ja4b", func() { tb.ByJA4B("8daaf6152771") }},
		{"by_h2", func() { tb.ByH2(chromeAkamai, "") }},
		{"by_h2_grease", func() { tb.ByH2(chromeGREASE, "") }},
		{"by_header_order_exact", func() { tb.ByHeaderOrder("h1", h1) }},
		{"by_header_order_tolerant", func() { tb.ByHeaderOrder("h1", tolerant) }},
	}
	for _, tc := range compareCases {
		checks = append(checks, struct {
			name string
			f    func()
		}{"compare_" + tc.name, func() { tb.Compare(tc.claim, tc.ev) }})
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if n := vigiltest.AllocsPerRun(100, c.f); n != 0 {
				t.Errorf("%v allocations, want 0", n)
			}
		})
	}
}
