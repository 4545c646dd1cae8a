package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/wire"
)

// interval returns an interval over [t0+from, t0+to) with a few counts in each
// counter, scaled by n so sums tell the intervals apart.
func interval(from, to time.Duration, n int64) wire.Interval {
	return wire.Interval{
		Start: t0.Add(from), End: t0.Add(to),
		Requests:      map[string]int64{"allow": 10 * n, "block": n},
		WouldBe:       map[string]int64{"allow": 9 * n, "block": 2 * n},
		Status:        map[string]int64{"2xx": 8 * n, "4xx": 3 * n},
		BlockedByCode: map[string]int64{"sqli": n},
		Bans:          n, Errors: 2 * n, FailedOpen: n,
	}
}

func metricBatch(id string, ms ...wire.Interval) *wire.MetricBatch {
	return &wire.MetricBatch{Version: wire.Version, BatchID: id, Agent: wire.Agent{ID: "a1"}, Intervals: ms}
}

func TestIngestMetrics(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		day := 24 * time.Hour
		sums := func(project int64) int64 {
			t.Helper()
			got, err := f.s.MetricSums(ctx, project, t0.Add(-day), t0.Add(day))
			if err != nil {
				t.Fatal(err)
			}
			return got.Bans
		}
		b := metricBatch("m-1", interval(0, time.Minute, 1), interval(time.Minute, 2*time.Minute, 2), interval(2*time.Minute, 3*time.Minute, 4))
		for i, want := range []struct {
			n   int
			dup bool
		}{{3, false}, {3, true}} {
			n, dup, err := f.s.IngestMetrics(ctx, f.a.ID, b)
			if err != nil || n != want.n || dup != want.dup {
				t.Fatalf("IngestMetrics #%d = %d, %v, %v; want %d, %v, nil", i+1, n, dup, err, want.n, want.dup)
			}
		}
		// A retry of the batch with fewer intervals is still the stored batch.
		if n, dup, err := f.s.IngestMetrics(ctx, f.a.ID, metricBatch("m-1")); err != nil || n != 3 || !dup {
			t.Errorf("IngestMetrics(retry, empty) = %d, %v, %v; want 3, true, nil", n, dup, err)
		}
		if got := sums(f.a.ID); got != 7 {
			t.Errorf("project a: Bans = %d, want 7 (the batch once)", got)
		}
		// The same batch ID in another project is another batch.
		if n, dup, err := f.s.IngestMetrics(ctx, f.b.ID, b); err != nil || n != 3 || dup {
			t.Errorf("IngestMetrics(b) = %d, %v, %v; want 3, false, nil", n, dup, err)
		}
		// Without a batch ID nothing is deduplicated.
		for range 2 {
			if n, dup, err := f.s.IngestMetrics(ctx, f.b.ID, metricBatch("", interval(0, time.Minute, 8))); err != nil || n != 1 || dup {
				t.Fatalf("IngestMetrics(no ID) = %d, %v, %v; want 1, false, nil", n, dup, err)
			}
		}
		if got := sums(f.b.ID); got != 7+16 {
			t.Errorf("project b: Bans = %d, want 23", got)
		}
		// Invalid batches are refused whole.
		long := interval(0, day+time.Second, 100)
		for _, c := range []struct {
			name string
			b    *wire.MetricBatch
		}{
			{"nil", nil},
			{"end_before_start", metricBatch("bad-1", interval(0, time.Minute, 100), interval(time.Minute, 0, 100))},
			{"empty_span", metricBatch("bad-2", interval(time.Minute, time.Minute, 100))},
			{"longer_than_a_day", metricBatch("bad-3", long)},
			{"no_start", metricBatch("bad-4", wire.Interval{End: t0})},
			{"long_batch_id", metricBatch(string(make([]byte, wire.MaxBatchIDLen+1)), interval(0, time.Minute, 100))},
		} {
			if _, _, err := f.s.IngestMetrics(ctx, f.a.ID, c.b); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: IngestMetrics = %v, want ErrInvalid", c.name, err)
			}
		}
		if got := sums(f.a.ID); got != 7 {
			t.Errorf("after refused batches Bans = %d, want 7", got)
		}
		// A refused batch's ID was not taken.
		if n, dup, err := f.s.IngestMetrics(ctx, f.a.ID, metricBatch("bad-1", interval(0, time.Minute, 1))); err != nil || n != 1 || dup {
			t.Errorf("IngestMetrics(bad-1 fixed) = %d, %v, %v; want 1, false, nil", n, dup, err)
		}
		// A batch of more intervals than one INSERT carries.
		var many []wire.Interval
		for i := range 450 {
			many = append(many, interval(time.Duration(i)*time.Second, time.Duration(i+1)*time.Second, 1))
		}
		if n, dup, err := f.s.IngestMetrics(ctx, f.a.ID, metricBatch("many", many...)); err != nil || n != 450 || dup {
			t.Errorf("IngestMetrics(450) = %d, %v, %v", n, dup, err)
		}
		got, err := f.s.MetricSums(ctx, f.a.ID, t0.Add(-day), t0.Add(day))
		if err != nil || got.Intervals != 3+1+450 {
			t.Errorf("MetricSums: %d intervals, %v; want 454", got.Intervals, err)
		}
	})
}

func TestMetricSums(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		h := time.Hour
		// The window is [t0, t0+1h). n is a power of two per interval, so Bans
		// (n each) names the intervals summed.
		in := []wire.Interval{
			interval(-2*h, -h, 1),                       // before: out
			interval(-10*time.Minute, 5*time.Minute, 2), // across since: in
			interval(0, time.Minute, 4),                 // inside: in
			interval(59*time.Minute, 61*time.Minute, 8), // across until: in
			interval(h, 61*time.Minute, 16),             // starts at until: out
			interval(-23*h, time.Second, 32),            // 23 hours, ends just after since: in
			interval(-25*h, -h, 64),                     // 24 hours, ends before since: out
			interval(-10*time.Minute, 0, 128),           // ends at since: out
		}
		if _, _, err := f.s.IngestMetrics(ctx, f.a.ID, metricBatch("1", in...)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.IngestMetrics(ctx, f.b.ID, metricBatch("1", interval(0, time.Minute, 256))); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.MetricSums(ctx, f.a.ID, t0, t0.Add(h))
		if err != nil {
			t.Fatal(err)
		}
		const n = 2 + 4 + 8 + 32
		want := store.MetricTotals{
			Start: t0.Add(-23 * h), End: t0.Add(61 * time.Minute), Intervals: 4,
			Requests:      map[string]int64{"allow": 10 * n, "block": n},
			WouldBe:       map[string]int64{"allow": 9 * n, "block": 2 * n},
			Status:        map[string]int64{"2xx": 8 * n, "4xx": 3 * n},
			BlockedByCode: map[string]int64{"sqli": n},
			Bans:          n, Errors: 2 * n, FailedOpen: n,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("MetricSums (-want +got):\n%s", diff)
		}
		// Nothing: zero times, empty maps (not nil).
		got, err = f.s.MetricSums(ctx, f.a.ID, t0.Add(10*h), t0.Add(11*h))
		if err != nil {
			t.Fatal(err)
		}
		empty := store.MetricTotals{Requests: map[string]int64{}, WouldBe: map[string]int64{}, Status: map[string]int64{}, BlockedByCode: map[string]int64{}}
		if diff := cmp.Diff(empty, got); diff != "" || got.Requests == nil {
			t.Errorf("MetricSums(nothing) (-want +got):\n%s", diff)
		}
		if _, err := f.s.MetricSums(ctx, f.a.ID, t0, t0); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("MetricSums(empty span) = %v, want ErrInvalid", err)
		}
	})
}
