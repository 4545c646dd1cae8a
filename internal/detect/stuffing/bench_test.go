package stuffing

import (
	"context"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// checkCases are the attempts of the benchmark and the allocation test.
var checkCases = []struct {
	name string
	a    Attempt
}{
	{"plain_username", Attempt{IP: "203.0.113.7", DNA: "dna1", Specific: true, Username: "alice"}},
	{"email_username", Attempt{IP: "203.0.113.7", DNA: "dna1", Specific: true, Username: "J.o.h.n+1@gmail.com"}},
	{"no_username", Attempt{IP: "203.0.113.7", DNA: "dna1", Specific: true}},
}

// BenchmarkCheck measures Check on the memory store's counters: the package's Check,
// Monitor.Check with the site-wide counts already read (all but one attempt a second),
// and Monitor.Check refreshing them on every call (the one).
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	for _, tc := range checkCases {
		b.Run(tc.name+"/package", func(b *testing.B) {
			s := newClockStore(newClock(t0))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Check(ctx, s, limits, tc.a); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/monitor_cached", func(b *testing.B) {
			tr := newTraffic(nil, t0)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.m.Check(ctx, tr.s, tr.l, tc.a); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/monitor_refresh", func(b *testing.B) {
			tr := newTraffic(nil, t0)
			b.ReportAllocs()
			for b.Loop() {
				tr.clock.advance(refreshEvery)
				if _, err := tr.m.Check(ctx, tr.s, tr.l, tc.a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCheckAllocs checks that Monitor.Check allocates no more than the package's
// Check when the site-wide counts are already read, spike or not, and sets a ceiling
// on the package's Check: the store keys of the IP, DNA and username (and the
// username's canonical e-mail form).
func TestCheckAllocs(t *testing.T) {
	ctx := context.Background()
	ceiling := map[string]float64{"plain_username": 5, "email_username": 8, "no_username": 3}
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			s := newClockStore(newClock(t0))
			plain := vigiltest.AllocsPerRun(100, func() { _, _ = Check(ctx, s, limits, tc.a) })
			if plain > ceiling[tc.name] {
				t.Errorf("Check: %v allocations, want at most %v", plain, ceiling[tc.name])
			}
			for _, spike := range []bool{false, true} {
				st := &siteState{at: t0, next: t0.Add(time.Hour), rate: counts{5, 50}, base: counts{300, 3000}}
				want := plain
				if spike {
					st.rate, st.detail = counts{800, 820}, "d"
					want++ // the finding appended to an empty slice
				}
				m := &Monitor{now: func() time.Time { return t0 }}
				m.state.Store(st)
				if got := vigiltest.AllocsPerRun(100, func() { _, _ = m.Check(ctx, s, limits, tc.a) }); got > want {
					t.Errorf("Monitor.Check (spike %v): %v allocations, want at most %v", spike, got, want)
				}
			}
		})
	}
}
