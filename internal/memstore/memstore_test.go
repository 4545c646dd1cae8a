package memstore

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/ratelimit"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var tenPerSecond = ratelimit.Limit{Rate: 10, Period: time.Second}

func TestAllowFollowsStep(t *testing.T) {
	// Requests at these offsets from t0, against ratelimit.Step run by hand on one TAT.
	offsets := []time.Duration{0, 0, 0, 10 * time.Millisecond, 50 * time.Millisecond, 90 * time.Millisecond}
	limits := []ratelimit.Limit{
		tenPerSecond,
		{Rate: 2, Period: time.Second, Burst: 1},
		{Rate: 3, Period: 100 * time.Millisecond},
	}
	for _, l := range limits {
		s := New(Config{})
		var tat time.Time
		for round := range 20 {
			for _, off := range offsets {
				now := t0.Add(time.Duration(round)*100*time.Millisecond + off)
				for _, cost := range []int{1, 2, 0, 20} {
					var want ratelimit.Result
					tat, want = ratelimit.Step(tat, now, l, cost)
					got := s.Allow("client", now, l, cost)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("%+v at %v cost %d (-Step +Allow):\n%s", l, now.Sub(t0), cost, diff)
					}
				}
			}
		}
	}
}

func TestAllowIsAtomic(t *testing.T) {
	s := New(Config{Shards: 4})
	l := ratelimit.Limit{Rate: 100, Period: time.Hour} // burst 100, nothing refills in the test
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if s.Allow("shared", t0, l, 1).Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got != 100 {
		t.Errorf("admitted %d concurrent requests, want exactly the burst 100", got)
	}
}

func TestAllowDeniedOrPeekCreatesNothing(t *testing.T) {
	s := New(Config{})
	s.Allow("peek", t0, tenPerSecond, 0)
	s.Allow("too-costly", t0, tenPerSecond, 11)
	s.Allow("invalid", t0, ratelimit.Limit{}, 1)
	if n := s.Len(); n != 0 {
		t.Errorf("Len = %d after a peek and two denials, want 0", n)
	}
}

func TestKeySpacesAreSeparate(t *testing.T) {
	s := New(Config{})
	s.Add("k", t0, 5, time.Minute)
	if r := s.Allow("k", t0, tenPerSecond, 1); r.Remaining != 9 {
		t.Errorf("Allow on a key used by Add: remaining %d, want 9", r.Remaining)
	}
	if n := s.Get("k", t0); n != 5 {
		t.Errorf("Get = %d after Allow on the same key, want 5", n)
	}
	if n := s.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
}

func TestAdd(t *testing.T) {
	type step struct {
		at     time.Duration // from t0, which is on a minute boundary
		n      int64
		want   int64
		wantGt int64 // Get right after
	}
	tests := []struct {
		name   string
		window time.Duration
		steps  []step
	}{
		{"counts_within_window", time.Minute, []step{
			{0, 1, 1, 1}, {time.Second, 2, 3, 3}, {59 * time.Second, 4, 7, 7},
		}},
		{"window_is_aligned", time.Minute, []step{
			{30 * time.Second, 5, 5, 5}, {59*time.Second + 999*time.Millisecond, 1, 6, 6},
			{time.Minute, 1, 1, 1}, // a new window starts on the minute, not 60s after the first Add
		}},
		{"negative_n_floors_at_zero", time.Minute, []step{
			{0, 3, 3, 3}, {time.Second, -2, 1, 1}, {2 * time.Second, -5, 0, 0},
		}},
		{"non_positive_n_creates_nothing", time.Minute, []step{
			{0, 0, 0, 0}, {0, -1, 0, 0},
		}},
		{"expired_window_restarts", time.Second, []step{
			{0, 4, 4, 4}, {1500 * time.Millisecond, 1, 1, 1}, {1500 * time.Millisecond, -1, 0, 0},
		}},
		{"saturates", time.Minute, []step{
			{0, math.MaxInt64 - 1, math.MaxInt64 - 1, math.MaxInt64 - 1}, {0, 5, math.MaxInt64, math.MaxInt64},
		}},
		{"non_positive_window_stores_nothing", 0, []step{
			{0, 5, 0, 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{})
			for i, st := range tc.steps {
				now := t0.Add(st.at)
				if got := s.Add("c", now, st.n, tc.window); got != st.want {
					t.Errorf("step %d: Add(%d) at %v = %d, want %d", i, st.n, st.at, got, st.want)
				}
				if got := s.Get("c", now); got != st.wantGt {
					t.Errorf("step %d: Get at %v = %d, want %d", i, st.at, got, st.wantGt)
				}
			}
		})
	}
}

func TestWindowEnd(t *testing.T) {
	tests := []struct {
		name      string
		now, w    int64
		wantEnd   int64
		wantAfter bool // only check end > now
	}{
		{"start_of_window", 60, 60, 120, false},
		{"inside_window", 61, 60, 120, false},
		{"before_epoch", -1, 60, 0, false},
		{"before_epoch_on_boundary", -60, 60, 0, false},
		{"saturates_high", math.MaxInt64 - 1, 1 << 40, math.MaxInt64, false},
		{"near_min", math.MinInt64 + 1, 1 << 40, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := windowEnd(tc.now, tc.w)
			if tc.wantAfter {
				if got <= tc.now {
					t.Errorf("windowEnd(%d, %d) = %d, not after now", tc.now, tc.w, got)
				}
				return
			}
			if got != tc.wantEnd {
				t.Errorf("windowEnd(%d, %d) = %d, want %d", tc.now, tc.w, got, tc.wantEnd)
			}
		})
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name                 string
		c                    Config
		wantShards, wantEach int
	}{
		{"zero", Config{}, 64, 1 << 20 / 64},
		{"rounds_shards_up", Config{MaxKeys: 1000, Shards: 5}, 8, 125},
		{"one_shard", Config{MaxKeys: 10, Shards: 1}, 1, 10},
		{"fewer_keys_than_shards", Config{MaxKeys: 5}, 4, 1},
		{"one_key", Config{MaxKeys: 1, Shards: 16}, 1, 1},
		{"negative_is_default", Config{MaxKeys: -1, Shards: -1}, 64, 1 << 20 / 64},
		{"shards_capped", Config{MaxKeys: 1 << 30, Shards: 1 << 20}, 1 << 16, 1 << 14},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(tc.c)
			if len(s.shards) != tc.wantShards || s.perShard != tc.wantEach {
				t.Errorf("New(%+v): %d shards of %d keys, want %d of %d", tc.c, len(s.shards), s.perShard, tc.wantShards, tc.wantEach)
			}
		})
	}
}

func TestShardSize(t *testing.T) {
	if n := unsafe.Sizeof(shard{}); n%64 != 0 {
		t.Errorf("shard is %d bytes, not a multiple of a cache line", n)
	}
}

// TestBoundedUnderSpraying sends ten times MaxKeys distinct keys; the store must stay
// within MaxKeys, count its evictions, and keep the client it has limited hardest.
func TestBoundedUnderSpraying(t *testing.T) {
	const maxKeys = 1000
	for _, use := range []string{"allow", "add", "both"} {
		t.Run(use, func(t *testing.T) {
			s := New(Config{MaxKeys: maxKeys, Shards: 16})
			// A client that has used its whole burst: its TAT is the furthest ahead.
			hog := ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 1}
			if !s.Allow("hog", t0, hog, 1).Allowed {
				t.Fatal("first request of hog denied")
			}
			for i := range 10 * maxKeys {
				key := "spray-" + strconv.Itoa(i)
				now := t0.Add(time.Duration(i) * time.Microsecond)
				switch {
				case use == "allow", use == "both" && i%2 == 0:
					s.Allow(key, now, tenPerSecond, 1)
				default:
					s.Add(key, now, 1, time.Minute)
				}
				if n := s.Len(); n > maxKeys {
					t.Fatalf("Len = %d after %d keys, want ≤ %d", n, i+1, maxKeys)
				}
			}
			if s.Evictions() == 0 {
				t.Error("no evictions counted")
			}
			if s.Allow("hog", t0.Add(time.Second), hog, 1).Allowed {
				t.Error("hog was evicted and forgiven; entries closer to expiry should go first")
			}
		})
	}
}

func TestExpiredEntriesGoBeforeLiveOnes(t *testing.T) {
	s := New(Config{MaxKeys: 64, Shards: 1})
	for i := range 64 {
		s.Allow("old-"+strconv.Itoa(i), t0, tenPerSecond, 1) // idle again at t0+100ms
	}
	// A minute later the shard is full of expired entries. Every sample of 8 taken
	// while fewer than 8 new keys exist finds one, so nothing live is evicted.
	later := t0.Add(time.Minute)
	for i := range 8 {
		s.Allow("new-"+strconv.Itoa(i), later, tenPerSecond, 1)
	}
	if n := s.Evictions(); n != 0 {
		t.Errorf("Evictions = %d, want 0: only expired entries should have made room", n)
	}
	if n := s.Len(); n > 64 {
		t.Errorf("Len = %d, want ≤ 64", n)
	}
	for i := range 8 {
		if r := s.Allow("new-"+strconv.Itoa(i), later, tenPerSecond, 0); r.Remaining != 9 {
			t.Fatalf("new key %d lost: remaining %d", i, r.Remaining)
		}
	}
}

func TestSweep(t *testing.T) {
	s := New(Config{})
	for i := range 100 {
		s.Allow("a-"+strconv.Itoa(i), t0, tenPerSecond, 1) // idle again at t0+100ms
		s.Add("c-"+strconv.Itoa(i), t0, 1, time.Minute)    // window ends at t0+1m
		s.Allow("b-"+strconv.Itoa(i), t0, tenPerSecond, 5) // idle again at t0+500ms
	}
	if n := s.Sweep(t0.Add(100 * time.Millisecond)); n != 100 {
		t.Errorf("Sweep at +100ms dropped %d, want 100", n)
	}
	if n := s.Sweep(t0.Add(time.Second)); n != 100 {
		t.Errorf("Sweep at +1s dropped %d, want 100", n)
	}
	if n := s.Len(); n != 100 {
		t.Errorf("Len = %d, want the 100 counters", n)
	}
	if n := s.Sweep(t0.Add(time.Minute)); n != 100 {
		t.Errorf("Sweep at +1m dropped %d, want 100", n)
	}
	if s.Evictions() != 0 {
		t.Errorf("Evictions = %d, want 0", s.Evictions())
	}
}

func TestStoreAllocs(t *testing.T) {
	s := New(Config{})
	key := fmt.Sprintf("client-%d", 42)
	s.Allow(key, t0, tenPerSecond, 1)
	s.Add(key, t0, 1, time.Minute)
	now := t0
	tests := []struct {
		name string
		f    func()
	}{
		{"allow_hit", func() { now = now.Add(time.Millisecond); s.Allow(key, now, tenPerSecond, 1) }},
		{"allow_denied", func() { s.Allow(key, t0, ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 1}, 1) }},
		{"allow_denied_new_key", func() { s.Allow("new", t0, tenPerSecond, 20) }},
		{"add_hit", func() { s.Add(key, t0, 1, time.Minute) }},
		{"get", func() { s.Get(key, t0) }},
		{"get_miss", func() { s.Get("missing", t0) }},
	}
	for _, tc := range tests {
		if n := vigiltest.AllocsPerRun(1000, tc.f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", tc.name, n)
		}
	}
}

func BenchmarkAllow(b *testing.B) {
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		s := New(Config{})
		now := t0
		for b.Loop() {
			now = now.Add(100 * time.Millisecond)
			s.Allow("client-192.0.2.7", now, tenPerSecond, 1)
		}
	})
	b.Run("hit_parallel", func(b *testing.B) {
		b.ReportAllocs()
		s := New(Config{})
		var id atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			key := "client-" + strconv.FormatInt(id.Add(1), 10)
			now := t0
			for pb.Next() {
				now = now.Add(100 * time.Millisecond)
				s.Allow(key, now, tenPerSecond, 1)
			}
		})
	})
	b.Run("hit_parallel_one_key", func(b *testing.B) {
		b.ReportAllocs()
		s := New(Config{})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.Allow("client-192.0.2.7", t0, tenPerSecond, 1)
			}
		})
	})
	// A million distinct keys, all held (MaxKeys is 1<<20): after the first pass every
	// call is a hit on a cold cache line.
	keys := make([]string, 1_000_000)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	b.Run("1M_keys", func(b *testing.B) {
		b.ReportAllocs()
		s := New(Config{})
		i := 0
		for b.Loop() {
			s.Allow(keys[i%len(keys)], t0, tenPerSecond, 1)
			i++
		}
	})
	// The same keys against a store 16 times smaller: every call inserts and evicts.
	b.Run("1M_keys_evicting", func(b *testing.B) {
		b.ReportAllocs()
		s := New(Config{MaxKeys: 1 << 16})
		i := 0
		for b.Loop() {
			s.Allow(keys[i%len(keys)], t0, tenPerSecond, 1)
			i++
		}
	})
}

func BenchmarkAdd(b *testing.B) {
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		s := New(Config{})
		for b.Loop() {
			s.Add("404s-192.0.2.7", t0, 1, time.Minute)
		}
	})
	b.Run("hit_parallel", func(b *testing.B) {
		b.ReportAllocs()
		s := New(Config{})
		var id atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			key := "404s-" + strconv.FormatInt(id.Add(1), 10)
			for pb.Next() {
				s.Add(key, t0, 1, time.Minute)
			}
		})
	})
}
