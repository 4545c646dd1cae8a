package redisstore

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/memstore"
	"github.com/vigilhq/vigil/internal/ratelimit"
)

// TestTableMatchesMemstore checks that, with Redis out of the picture, the local table
// answers exactly as the memory store does: the same rate-limit results and counts for
// the same calls at the same times. Each counter key keeps one window length, as the
// guard's do (the table, unlike memstore, opens a window on an Add of 0).
func TestTableMatchesMemstore(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tab := newTable(1<<16, keys{prefix: "t:"})
	mem := memstore.New(memstore.Config{MaxKeys: 1 << 16})
	limits := []ratelimit.Limit{
		{Rate: 10, Period: time.Second},
		{Rate: 100, Period: time.Minute, Burst: 20},
		{Rate: 3, Period: 7 * time.Millisecond, Burst: 1},
		{Rate: 0, Period: time.Second}, // invalid: denied
	}
	now := time.Unix(1_800_000_000, 0)
	for i := range 20_000 {
		now = now.Add(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
		key := "k" + strconv.Itoa(rng.IntN(200))
		if rng.IntN(4) == 0 {
			n, w := rng.Int64N(7)-2, time.Duration(1+len(key)%3)*100*time.Millisecond
			got, _ := tab.add(key, now.UnixNano(), n, int64(w))
			if want := mem.Add(key, now, n, w); got != want {
				t.Fatalf("call %d: add(%s, %d, %v) = %d, memstore %d", i, key, n, w, got, want)
			}
			continue
		}
		l, cost := limits[rng.IntN(len(limits))], rng.IntN(4)
		tt, _, _ := params(l)
		got, _, spill := tab.allow(key+strconv.Itoa(l.Rate), now.UnixNano(), l, cost, tt, 0)
		want := mem.Allow(key+strconv.Itoa(l.Rate), now, l, cost)
		if spill || !cmp.Equal(got, want) {
			t.Fatalf("call %d: allow(%s, %+v, %d) = %+v (spill %v), memstore %+v", i, key, l, cost, got, spill, want)
		}
	}
}

// TestTableQuota checks the local quota: admissions within it stay local and are
// pending; the one beyond it spills without changing anything; an acknowledged sync
// frees the quota and merges the shared TAT.
func TestTableQuota(t *testing.T) {
	tab := newTable(1024, keys{prefix: "t:"})
	l := ratelimit.Limit{Rate: 100, Period: time.Minute}
	tt, _, _ := params(l)
	now := time.Now().UnixNano()
	quota := 3 * tt
	for i := range 3 {
		r, e, spill := tab.allow("k", now, l, 1, tt, quota)
		if !r.Allowed || spill || e.pending != int64(i+1)*tt {
			t.Fatalf("admission %d: %+v spill %v pending %d", i, r, spill, e.pending)
		}
	}
	r, e, spill := tab.allow("k", now, l, 1, tt, quota)
	if !spill || !r.Allowed || e.v != now+3*tt || e.pending != 3*tt {
		t.Fatalf("fourth admission: %+v spill %v entry %+v, want a spill leaving the entry as it was", r, spill, *e)
	}

	items := tab.collect(nil, now)
	if len(items) != 1 || items[0].sent != 3*tt || items[0].tag != "k" || e.aux != 3*tt || e.pending != 0 {
		t.Fatalf("collect: %+v, entry %+v", items, *e)
	}
	// Still over quota while the sync is in flight.
	if _, _, spill := tab.allow("k", now, l, 1, tt, quota); !spill {
		t.Fatal("admission while the sync is in flight did not spill")
	}
	// Redis answers: another instance admitted 10 more.
	shared := now + 13*tt
	tab.mergeRate(e, items[0].sent, shared, false)
	if e.v != shared || e.aux != 0 {
		t.Fatalf("after merge: entry %+v, want TAT %d", *e, shared)
	}
	r, _, spill = tab.allow("k", now, l, 1, tt, quota)
	if !r.Allowed || spill || r.Remaining != 100-14 {
		t.Fatalf("after merge: %+v spill %v, want local admission with 86 remaining", r, spill)
	}
	// A failed sync puts the cost back.
	items = tab.collect(nil, now)
	tab.unsend(items[0].e, items[0].sent)
	if e.pending != tt || e.aux != 0 || e.flags&flagDirty == 0 {
		t.Fatalf("after a failed sync: entry %+v", *e)
	}
	// A shared TAT behind the local one never lowers it.
	tab.mergeRate(e, 0, now, false)
	if e.v != shared+tt {
		t.Fatalf("merge of an older TAT: %d, want %d", e.v, shared+tt)
	}
}

// TestTableCounterSync checks counter merges: the local count becomes the shared count
// plus what was added since the send, and a delta of a window that ended is dropped.
func TestTableCounterSync(t *testing.T) {
	tab := newTable(1024, keys{prefix: "t:"})
	w := int64(time.Minute)
	now := time.Now().UnixNano()
	tab.add("c", now, 2, w)
	items := tab.collect(nil, now)
	if len(items) != 1 || items[0].sent != 2 {
		t.Fatalf("collect: %+v", items)
	}
	n, _ := tab.add("c", now, 1, w) // added while the sync is in flight
	if n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	if got := tab.mergeCounter(items[0].e, items[0].end, 10); got != 11 {
		t.Fatalf("merged count %d, want 10 shared + 1 unsynced", got)
	}
	// The window ends before the next sync: its delta is not sent.
	if items := tab.collect(nil, windowEnd(now, w)); len(items) != 0 {
		t.Fatalf("collect after the window: %+v", items)
	}
}

// TestTableBounded checks that the table holds at most MaxKeys keys and counts the
// evictions.
func TestTableBounded(t *testing.T) {
	tab := newTable(256, keys{prefix: "t:"})
	l := ratelimit.Limit{Rate: 1, Period: time.Hour}
	now := time.Now().UnixNano()
	for i := range 10_000 {
		tab.allow("k"+strconv.Itoa(i), now, l, 1, int64(time.Hour), 0)
		tab.add("c"+strconv.Itoa(i), now, 1, int64(time.Hour))
	}
	if n := tab.len(); n > 256 {
		t.Errorf("table holds %d keys, want at most 256", n)
	}
	if tab.evictions() == 0 {
		t.Error("no evictions counted")
	}
	if n := tab.sweep(math.MaxInt64); n == 0 || tab.len() != 0 {
		t.Errorf("sweep at the end of time dropped %d, left %d", n, tab.len())
	}
}
