package behaviour

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/vigiltest"
)

// memCounter is the fixed-window counter of a shared store, in memory: the stores' own
// (vigil.MemoryStore, redisstore) would import this package's importer. Its clock is
// set by the test, since observations carry their own times.
type memCounter struct {
	mu    sync.Mutex
	at    time.Time
	m     map[string]windowCount
	calls int
	err   error // returned by every Add when set
	block bool  // Add waits for its context to end
}

type windowCount struct{ n, end int64 }

func newMemCounter() *memCounter { return &memCounter{m: make(map[string]windowCount)} }

func (c *memCounter) Add(ctx context.Context, key string, n int64, window time.Duration) (int64, error) {
	c.mu.Lock()
	c.calls++
	block, err := c.block, c.err
	c.mu.Unlock()
	if block {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	end := (c.at.UnixNano()/int64(window) + 1) * int64(window)
	w := c.m[key]
	if w.end != end {
		w = windowCount{end: end}
	}
	w.n += n
	c.m[key] = w
	return w.n, nil
}

func (c *memCounter) setTime(at time.Time) {
	c.mu.Lock()
	c.at = at
	c.mu.Unlock()
}

// balancer picks the instance for request i.
type balancer func(r *rand.Rand, i, n int) int

func roundRobin(_ *rand.Rand, i, n int) int { return i % n }
func random(r *rand.Rand, _, n int) int     { return r.IntN(n) }

// fleet replays obs through n trackers, each request to the one the balancer picks,
// which is asked before it observes the request (as the guard does). It returns the
// index of the first request reported and of the first with a score of 80 or more
// (-1: none), and the last report.
type fleetRun struct {
	first, block int
	last         *verdict
}

func replay(obs []Observation, n int, shared bool, pick balancer, seed uint64) fleetRun {
	counter := newMemCounter()
	trs := make([]*Tracker, n)
	for i := range trs {
		cfg := Config{}
		if shared {
			cfg.Counter = counter
		}
		trs[i] = New(cfg)
	}
	r := rand.New(rand.NewPCG(seed, 3))
	run := fleetRun{first: -1, block: -1}
	var dst []detect.Finding
	for i, o := range obs {
		tr := trs[pick(r, i, n)]
		dst = tr.Check(dst[:0], "198.51.100.4", o.Time)
		if v := summarise(dst); v != nil {
			if run.first < 0 {
				run.first = i
			}
			if run.block < 0 && v.Score >= 80 {
				run.block = i
			}
			run.last = v
		}
		counter.setTime(o.Time)
		tr.Observe("198.51.100.4", o)
	}
	return run
}

// A scripted client spread over instances is blocked after about as many requests as
// one instance alone needs to block it, when the instances share; without sharing it
// takes about n times as many.
func TestSharedDetection(t *testing.T) {
	for _, tc := range []struct {
		name string
		obs  func(*rand.Rand) []Observation
	}{
		{"crawler", crawler(1, 500, 200*time.Millisecond, 0.01)},
		{"scanner", func(*rand.Rand) []Observation {
			var obs []Observation
			for i := range 300 {
				obs = append(obs, Observation{Time: t0.Add(time.Duration(i) * 100 * time.Millisecond), Method: "GET", Path: "/wp-" + strconv.Itoa(i*7919) + "x", Status: 404})
			}
			return obs
		}},
	} {
		obs := tc.obs(rand.New(rand.NewPCG(1, 2)))
		single := replay(obs, 1, false, roundRobin, 1)
		if single.block < 0 {
			t.Fatalf("%s: one tracker never blocks: %+v", tc.name, single.last)
		}
		for _, n := range []int{2, 4} {
			t.Run(tc.name+"_over_"+strconv.Itoa(n), func(t *testing.T) {
				shared := replay(obs, n, true, roundRobin, 1)
				alone := replay(obs, n, false, roundRobin, 1)
				t.Logf("blocked at request %d by one tracker, %d by %d sharing, %d by %d not sharing",
					single.block, shared.block, n, alone.block, n)
				// Timing stays local: each instance needs 16 gaps of its own, so the
				// bound is one instance's count or n×17, whichever is more.
				if limit := max(single.block+2, 17*n+2); shared.block < 0 || shared.block > limit {
					t.Errorf("sharing: blocked at request %d, want by %d", shared.block, limit)
				}
				if alone.block >= 0 && alone.block <= shared.block {
					t.Errorf("without sharing blocked at %d, want later than with (%d)", alone.block, shared.block)
				}
				if shared.last == nil || shared.last.Score < 95 {
					t.Errorf("final verdict %+v, want 95 or more", shared.last)
				}
			})
		}
	}
	// A balancer that picks at random breaks equal ID steps and regular timing on each
	// instance; the shared walk steps still show the walk.
	t.Run("crawler_over_4_at_random", func(t *testing.T) {
		obs := crawler(1, 300, 200*time.Millisecond, 0.01)(rand.New(rand.NewPCG(1, 2)))
		shared := replay(obs, 4, true, random, 9)
		alone := replay(obs, 4, false, random, 9)
		if shared.first < 0 || shared.first > 70 || !cmp.Equal(shared.last.Features, []string{"sequential_ids", "no_assets"}) {
			t.Errorf("sharing: first report at %d, last %+v; want by 70, sequential_ids and no_assets", shared.first, shared.last)
		}
		if alone.last != nil && alone.last.Score >= 40 && slicesContain(alone.last.Features, "sequential_ids") {
			t.Errorf("without sharing the walk was seen: %+v (the test no longer shows what sharing adds)", alone.last)
		}
	})
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Browser sessions spread over sharing instances are never reported, whatever the
// balancer.
func TestSharedBrowsers(t *testing.T) {
	for seed := range uint64(100) {
		obs := browser(80, randomPage)(rand.New(rand.NewPCG(seed, 7)))
		for _, n := range []int{2, 3} {
			for name, pick := range map[string]balancer{"round_robin": roundRobin, "random": random} {
				if got := replay(obs, n, true, pick, seed); got.first >= 0 {
					t.Fatalf("seed %d, %d instances, %s: reported at request %d: %+v", seed, n, name, got.first, got.last)
				}
			}
		}
	}
}

// Ratios come from the fleet: an API client alternating GET and POST looks like a pure
// GET client to one of two round-robin instances and a pure POST client to the other,
// and each, alone, reports it to the end (regular timing with no_assets or
// posts_only). Sharing shows both the real mix, which is neither, once each instance
// has read the other's counts: by its second round, at its 32nd request.
func TestSharedMixIsTheClients(t *testing.T) {
	var obs []Observation
	for i := range 200 {
		m := "GET"
		if i%2 == 0 {
			m = "POST"
		}
		obs = append(obs, Observation{Time: t0.Add(time.Duration(i) * time.Second), Method: m, Path: "/api/events", Status: 200})
	}
	var reported [2][]int // by sharing: requests reported with and without
	for k, shared := range []bool{false, true} {
		counter := newMemCounter()
		trs := [2]*Tracker{New(Config{}), New(Config{})}
		if shared {
			trs = [2]*Tracker{New(Config{Counter: counter}), New(Config{Counter: counter})}
		}
		for i, o := range obs {
			if trs[i%2].Check(nil, "k", o.Time) != nil {
				reported[k] = append(reported[k], i)
			}
			counter.setTime(o.Time)
			trs[i%2].Observe("k", o)
		}
	}
	if n := len(reported[0]); n == 0 || reported[0][n-1] < 190 {
		t.Fatalf("without sharing reported at %v: the test no longer shows what sharing adds", reported[0])
	}
	if n := len(reported[1]); n > 0 && reported[1][n-1] >= 2*32 {
		t.Errorf("sharing: reported at requests %v, want none from the second rounds on", reported[1])
	}
}

// One round pushes seven counters keyed by the client, with what the instance saw.
func TestShareRound(t *testing.T) {
	c := newMemCounter()
	c.at = t0
	tr := New(Config{Counter: c, ShareEvery: 8})
	at := t0
	for _, o := range []Observation{
		{Method: "GET", Path: "/", Status: 200, Navigation: true},
		{Method: "GET", Path: "/app.js", Status: 200, Asset: true},
		{Method: "GET", Path: "/items/10", Status: 200, Navigation: true},
		{Method: "GET", Path: "/items/11", Status: 200},  // first move: sets the step
		{Method: "GET", Path: "/items/13", Status: 404},  // walk step, a failing path
		{Method: "HEAD", Path: "/items/14", Status: 404}, // walk step, another one
		{Method: "GET", Path: "/items/14", Status: 404},  // a repeat: neither
		{Method: "POST", Path: "/cart", Status: 303},
	} {
		at = at.Add(time.Second)
		o.Time = at
		tr.Observe("2001:db8:1:2::/64", o)
	}
	got := map[string]int64{}
	for k, w := range c.m {
		got[k] = w.n
	}
	want := map[string]int64{
		"bh:a:2001:db8:1:2::/64": 1,
		"bh:v:2001:db8:1:2::/64": 2,
		"bh:r:2001:db8:1:2::/64": 6,
		"bh:n:2001:db8:1:2::/64": 8,
		"bh:f:2001:db8:1:2::/64": 3,
		"bh:p:2001:db8:1:2::/64": 2,
		"bh:w:2001:db8:1:2::/64": 2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Stats{Shares: 1}, tr.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	// The next seven requests make no round.
	for range 7 {
		at = at.Add(time.Second)
		tr.Observe("2001:db8:1:2::/64", Observation{Time: at, Method: "GET", Path: "/"})
	}
	if c.calls != 7 {
		t.Errorf("%d Add calls after 15 requests, want 7", c.calls)
	}
}

// A Counter that fails leaves the verdicts exactly those of a tracker without one.
func TestShareErrorsFallBackToLocal(t *testing.T) {
	for _, tc := range sessions {
		t.Run(tc.name, func(t *testing.T) {
			c := newMemCounter()
			c.err = errors.New("store down")
			failing, local := New(Config{Counter: c}), New(Config{})
			obs := tc.obs(rand.New(rand.NewPCG(1, 2)))
			for i, o := range obs {
				got, want := failing.Check(nil, "k", o.Time), local.Check(nil, "k", o.Time)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("request %d (-local +failing):\n%s", i, diff)
				}
				failing.Observe("k", o)
				local.Observe("k", o)
			}
			if st := failing.Stats(); st.Shares != 0 || (len(obs) >= 16 && st.ShareErrors == 0) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// A fleet view is dropped when a later round fails: the client is judged locally again.
func TestShareErrorDropsFleetView(t *testing.T) {
	c := newMemCounter()
	a, b := New(Config{Counter: c}), New(Config{Counter: c})
	// /items/1..64, a second apart with jitter; a sees every fourth (its own equal
	// steps stop at 15), b the rest. a's round at its 16th request reads the walk.
	obs := crawler(1, 64, time.Second, 0.5)(rand.New(rand.NewPCG(4, 4)))
	for i, o := range obs {
		c.setTime(o.Time)
		if i%4 == 3 {
			a.Observe("k", o)
		} else {
			b.Observe("k", o)
		}
	}
	last := obs[len(obs)-1].Time
	if got := summarise(a.Check(nil, "k", last)); got == nil || !slicesContain(got.Features, "sequential_ids") {
		t.Fatalf("shared walk not seen: %+v", got)
	}
	c.err = errors.New("store down")
	for i, o := range crawler(65, 80, time.Second, 0.5)(rand.New(rand.NewPCG(4, 5))) {
		o.Time = last.Add(time.Duration(i+1) * time.Second)
		a.Observe("k", o)
	}
	if got := summarise(a.Check(nil, "k", last.Add(20*time.Second))); got != nil {
		t.Errorf("after a failed round the fleet's counts still count: %+v", got)
	}
	if st := a.Stats(); st != (Stats{Shares: 1, ShareErrors: 1}) {
		t.Errorf("stats %+v, want one round and one error", st)
	}
}

// A Counter that hangs costs one round its 50 ms, and sharing pauses for a second.
func TestShareTimeoutAndPause(t *testing.T) {
	c := newMemCounter()
	c.block = true
	tr := New(Config{Counter: c, ShareEvery: 4})
	at := t0
	observe := func() time.Duration {
		at = at.Add(100 * time.Millisecond)
		start := time.Now()
		tr.Observe("k", Observation{Time: at, Method: "GET", Path: "/"})
		return time.Since(start)
	}
	for range 3 {
		observe()
	}
	if d := observe(); d < shareTimeout || d > time.Second {
		t.Errorf("a hanging round took %v, want its timeout (%v)", d, shareTimeout)
	}
	if c.calls != 1 {
		t.Errorf("%d calls in the failed round, want 1 (the round stops at its first error)", c.calls)
	}
	for range 8 { // 800 ms of requests: paused
		if d := observe(); d > shareTimeout/2 {
			t.Errorf("observe took %v while sharing is paused", d)
		}
	}
	if c.calls != 1 {
		t.Errorf("%d calls while paused, want 1", c.calls)
	}
	c.mu.Lock()
	c.block = false
	c.mu.Unlock()
	for range 8 { // past the pause
		observe()
	}
	// Rounds due at 0.8 s and 1.2 s were skipped; those at 1.6 s and 2.0 s ran.
	if diff := cmp.Diff(Stats{Shares: 2, ShareErrors: 1}, tr.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

// The fleet's counts restart at a window boundary; until they cover this instance's
// again, its own ratios decide, but an asset seen anywhere still rules out no_assets.
func TestShareWindowBoundary(t *testing.T) {
	c := newMemCounter()
	tr := New(Config{Counter: c, Window: time.Minute})
	// A pure-GET client without assets, polling every 2 s from just after a window
	// start: regular_timing with no_assets once judged.
	at := time.Unix(0, 0).Add(time.Second)
	poll := func(n int) {
		for range n {
			c.setTime(at)
			tr.Observe("k", Observation{Time: at, Method: "GET", Path: "/feed", Status: 200})
			at = at.Add(2 * time.Second)
		}
	}
	check := func() *verdict { return summarise(tr.Check(nil, "k", at)) }
	fleetTotal := func() uint32 {
		s := tr.shard("k")
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.m["k"].fleet[cTotal]
	}
	other := func(counter string, n int64) { // what another instance shares
		c.setTime(at)
		if _, err := c.Add(context.Background(), "bh:"+counter+":k", n, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	want := &verdict{Score: 55, Features: []string{"regular_timing", "no_assets"}}

	poll(30) // a round at the 16th request, in the first window (up to 59 s)
	if diff := cmp.Diff(want, check()); diff != "" {
		t.Errorf("first window (-want +got):\n%s", diff)
	}
	// In the second window another instance saw five POSTs: by the fleet's counts
	// the client's GET share is under 95 %, but those counts start over and cover
	// less than this instance's sketch, which decides.
	other("n", 5)
	poll(2) // the second round, at 63 s
	if got := fleetTotal(); got != 21 {
		t.Fatalf("fleet total %d after the boundary, want 21 (5 + 16)", got)
	}
	if diff := cmp.Diff(want, check()); diff != "" {
		t.Errorf("after the boundary (-want +got):\n%s", diff)
	}
	// Then another instance saw one asset request.
	other("a", 1)
	other("n", 1)
	poll(16)
	if got := fleetTotal(); got != 38 {
		t.Fatalf("fleet total %d, want 38", got)
	}
	if got := check(); got != nil {
		t.Errorf("reported after an asset seen by another instance: %+v", got)
	}
}

func TestAllocsSharing(t *testing.T) {
	c := newMemCounter()
	tr := New(Config{Counter: c})
	at := t0
	o := Observation{Method: "GET", Path: "/items/1", Status: 200}
	i := 0
	observe := func() {
		i++
		at = at.Add(time.Duration(1+i%7) * time.Second)
		o.Time, o.Asset = at, i%3 == 0
		tr.Observe("hot", o)
	}
	for range 100 {
		observe()
	}
	// One round in 16 requests: its keys (one string) and its context; the counter's
	// own allocations come on top.
	if n := vigiltest.AllocsPerRun(1600, observe); n > 0.5 {
		t.Errorf("Observe with sharing: %v allocs a request, want at most 0.5", n)
	}
	var dst []detect.Finding
	if n := vigiltest.AllocsPerRun(1000, func() { dst = tr.Check(dst[:0], "hot", at) }); n != 0 {
		t.Errorf("Check on a clean shared client: %v allocs, want 0", n)
	}
}

// nopCounter counts nothing; the benchmark measures the tracker's side of a round.
type nopCounter struct{}

func (nopCounter) Add(context.Context, string, int64, time.Duration) (int64, error) { return 1, nil }

func BenchmarkObserveShared(b *testing.B) {
	tr := New(Config{Counter: nopCounter{}})
	at := t0
	o := Observation{Method: "GET", Path: "/items/123/reviews", Status: 200}
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Second)
		o.Time = at
		tr.Observe("203.0.113.7", o)
	}
}
