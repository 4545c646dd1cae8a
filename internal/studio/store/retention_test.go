package store_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/studio/store"
)

// allPaths returns the paths of all the project's events, newest first.
func allPaths(t *testing.T, s *store.Store, project int64) []string {
	t.Helper()
	var out []string
	var cur store.Cursor
	for {
		evs, next, err := s.Events(context.Background(), project, store.Filter{Limit: store.MaxLimit}, cur)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, paths(evs)...)
		if next.IsZero() {
			return out
		}
		cur = next
	}
}

func TestPruneByAge(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s := open(t, dsn)
		ctx := context.Background()
		a, _ := s.CreateProject(ctx, "alpha")
		b, _ := s.CreateProject(ctx, "beta")
		// Events at t0+0 … t0+19s in a, t0+0 … t0+9s in b; the cutoff is t0+12s.
		var evs []store.Event
		for i := range 20 {
			evs = append(evs, ev(i, "192.0.2.1", "block"))
		}
		ingest(t, s, a.ID, "a1", evs[:10]...)
		ingest(t, s, a.ID, "a2", evs[10:]...)
		ingest(t, s, b.ID, "b1", evs[:10]...)
		// Metric intervals: one ended before the cutoff, one spans it.
		if _, _, err := s.IngestMetrics(ctx, a.ID, metricBatch("m1", interval(0, 10*time.Second, 1), interval(10*time.Second, 20*time.Second, 2))); err != nil {
			t.Fatal(err)
		}
		// Deliveries: finished before the cutoff, pending before it, finished after.
		hook, err := s.CreateWebhook(ctx, a.ID, "https://example.com/hook", []string{store.WebhookBan})
		if err != nil {
			t.Fatal(err)
		}
		var dels []int64
		for i, sec := range []int{1, 2, 13} {
			id, err := s.EnqueueDelivery(ctx, hook.ID, store.WebhookBan, []byte(`{"i":`+strconv.Itoa(i)+`}`), t0.Add(time.Duration(sec)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			dels = append(dels, id)
		}
		for _, id := range []int64{dels[0], dels[2]} {
			if err := s.RecordAttempt(ctx, id, 200, "", time.Millisecond, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		// Batch records carry Studio's receive time: make a1 and b1 old, a2 new.
		db := rawDB(t, e, dsn)
		for _, c := range []struct {
			at    time.Time
			batch string
		}{{t0, "a1"}, {t0, "b1"}, {t0.Add(59 * time.Second), "a2"}} {
			if _, err := db.Exec(`UPDATE ingested_batches SET received = $1 WHERE batch_id = $2`, c.at.UnixNano(), c.batch); err != nil {
				t.Fatal(err)
			}
		}

		now := t0.Add(time.Minute)
		r := store.Retention{MaxAge: 48 * time.Second, Chunk: 3}
		n, err := s.Prune(ctx, now, r)
		if err != nil || n != 12+10 {
			t.Fatalf("Prune = %d, %v; want 22, nil", n, err)
		}
		var want []string
		for i := 19; i >= 12; i-- {
			want = append(want, "/p/"+strconv.Itoa(i))
		}
		if diff := cmp.Diff(want, allPaths(t, s, a.ID)); diff != "" {
			t.Errorf("a after Prune (-want +got):\n%s", diff)
		}
		if got := allPaths(t, s, b.ID); len(got) != 0 {
			t.Errorf("b after Prune: %v, want none", got)
		}
		m, err := s.MetricSums(ctx, a.ID, t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil || m.Intervals != 1 || m.Bans != 2 {
			t.Errorf("metrics after Prune: %d intervals, %d bans, %v; want the spanning one", m.Intervals, m.Bans, err)
		}
		// The old batch records are gone, so their IDs are new again; a2's is not.
		for _, c := range []struct {
			project int64
			batch   string
			dup     bool
		}{{a.ID, "a1", false}, {a.ID, "a2", true}, {b.ID, "b1", false}} {
			if _, dup, err := s.IngestEvents(ctx, c.project, c.batch, nil); err != nil || dup != c.dup {
				t.Errorf("IngestEvents(%s) after Prune: duplicate %v, %v; want %v", c.batch, dup, err, c.dup)
			}
		}
		ds, err := s.Deliveries(ctx, a.ID, hook.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		if diff := cmp.Diff([]int64{dels[2], dels[1]}, ids); diff != "" {
			t.Errorf("deliveries after Prune (-want +got):\n%s", diff)
		}
		// Again: nothing left to delete.
		if n, err := s.Prune(ctx, now, r); err != nil || n != 0 {
			t.Errorf("second Prune = %d, %v; want 0", n, err)
		}
	})
}

func TestPruneBatchWalk(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s := open(t, dsn)
		ctx := context.Background()
		p, _ := s.CreateProject(ctx, "p")
		// 25 batch records, every third old: the walk crosses several chunks.
		var old []string
		for i := range 25 {
			id := "batch-" + strconv.Itoa(i)
			ingest(t, s, p.ID, id, ev(i, "192.0.2.1", "allow"))
			if i%3 == 0 {
				old = append(old, id)
			}
		}
		db := rawDB(t, e, dsn)
		for _, id := range old {
			if _, err := db.Exec(`UPDATE ingested_batches SET received = 1 WHERE batch_id = $1`, id); err != nil {
				t.Fatal(err)
			}
		}
		// An age that deletes no event (they are in the future of time zero + 1h)
		// but the old records.
		if _, err := s.Prune(ctx, time.Unix(0, 0).Add(time.Hour), store.Retention{MaxAge: time.Minute, Chunk: 4}); err != nil {
			t.Fatal(err)
		}
		st, err := s.Stats(ctx, p.ID)
		if err != nil || st.EventsTotal != 25 || st.Batches != int64(25-len(old)) {
			t.Errorf("Stats after Prune = %+v, %v; want 25 events, %d batches", st, err, 25-len(old))
		}
	})
}

func TestPruneByCount(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		// 20 events in a, four per second, so the limit falls inside a second and
		// the ID breaks the tie; 5 in b.
		var evs []store.Event
		for i := range 20 {
			x := ev(i/4, "192.0.2.1", "allow")
			x.Path = "/e/" + strconv.Itoa(i)
			evs = append(evs, x)
		}
		ingest(t, f.s, f.a.ID, "1", evs...)
		ingest(t, f.s, f.b.ID, "1", evs[:5]...)
		n, err := f.s.Prune(ctx, time.Now(), store.Retention{MaxEventsPerProject: 7, Chunk: 3})
		if err != nil || n != 13 {
			t.Fatalf("Prune = %d, %v; want 13", n, err)
		}
		var want []string
		for i := 19; i >= 13; i-- {
			want = append(want, "/e/"+strconv.Itoa(i))
		}
		if diff := cmp.Diff(want, allPaths(t, f.s, f.a.ID)); diff != "" {
			t.Errorf("a after Prune (-want +got):\n%s", diff)
		}
		if got := allPaths(t, f.s, f.b.ID); len(got) != 5 {
			t.Errorf("b after Prune: %d events, want 5", len(got))
		}
		if n, err := f.s.Prune(ctx, time.Now(), store.Retention{MaxEventsPerProject: 7}); err != nil || n != 0 {
			t.Errorf("second Prune = %d, %v; want 0", n, err)
		}
	})
}

func TestPruneLimits(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		f := newFixture(t, e)
		ctx := context.Background()
		ingest(t, f.s, f.a.ID, "1", ev(0, "192.0.2.1", "allow"))
		if n, err := f.s.Prune(ctx, t0.Add(1000*time.Hour), store.Retention{}); err != nil || n != 0 {
			t.Errorf("Prune(zero Retention) = %d, %v; want 0, nil", n, err)
		}
		for _, r := range []store.Retention{{MaxAge: -1}, {MaxEventsPerProject: -1}, {Chunk: -1}} {
			if _, err := f.s.Prune(ctx, t0, r); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Prune(%+v) = %v, want ErrInvalid", r, err)
			}
		}
		if st, _ := f.s.Stats(ctx, f.a.ID); st.EventsTotal != 1 {
			t.Errorf("EventsTotal = %d, want 1", st.EventsTotal)
		}
	})
}

// TestPruneWhileIngesting prunes old events, from two goroutines, while four
// goroutines ingest new ones: every old event goes, every new one stays.
func TestPruneWhileIngesting(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		dsn := e.dsn(t)
		s := open(t, dsn)
		s2 := open(t, dsn) // a second Studio process
		ctx := context.Background()
		p, _ := s.CreateProject(ctx, "p")
		const oldBatches, newBatches, per = 20, 40, 50
		batch := func(sec int) []store.Event {
			evs := make([]store.Event, per)
			for j := range evs {
				evs[j] = ev(sec, "192.0.2.1", "block")
			}
			return evs
		}
		for i := range oldBatches {
			ingest(t, s, p.ID, "old-"+strconv.Itoa(i), batch(-3600)...)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		var deleted [2]int64
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < newBatches; i += 4 {
					if _, _, err := s.IngestEvents(ctx, p.ID, "new-"+strconv.Itoa(i), batch(0)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		for w, st := range []*store.Store{s, s2} {
			wg.Go(func() {
				for range 5 {
					n, err := st.Prune(ctx, t0, store.Retention{MaxAge: time.Minute, Chunk: 64})
					if err != nil {
						errs <- err
						return
					}
					deleted[w] += n
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := deleted[0] + deleted[1]; got != oldBatches*per {
			t.Errorf("Prune runs deleted %d events together, want %d", got, oldBatches*per)
		}
		st, err := s.Stats(ctx, p.ID)
		if err != nil || st.EventsTotal != newBatches*per || !st.First.Equal(t0) {
			t.Errorf("Stats = %+v, %v; want %d events, all new", st, err, newBatches*per)
		}
		got := allPaths(t, s, p.ID)
		if slices.ContainsFunc(got, func(p string) bool { return p != "/p/0" }) {
			t.Errorf("an old event survived")
		}
	})
}
