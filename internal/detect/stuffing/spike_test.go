package stuffing

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/memstore"
)

// fakeClock is a settable clock shared by a Monitor and a clockStore.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.set(t)
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// clockStore is the guard's memory-store counter algorithm (internal/memstore: fixed
// windows aligned to the Unix epoch, as in every vigil.Store) run at the fake clock's
// time, so that tests cover hours without sleeping. It counts the calls made on the
// site-wide keys.
type clockStore struct {
	s         *memstore.Store
	clock     *fakeClock
	siteCalls atomic.Int64
}

func newClockStore(c *fakeClock) *clockStore {
	return &clockStore{s: memstore.New(memstore.Config{}), clock: c}
}

func (c *clockStore) Add(_ context.Context, key string, n int64, window time.Duration) (int64, error) {
	if strings.HasPrefix(key, "cs:g:") {
		c.siteCalls.Add(1)
	}
	return c.s.Add(key, c.clock.Now(), n, window), nil
}

// t0 is the start of a clock hour.
var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func TestSpikeOf(t *testing.T) {
	for _, tc := range []struct {
		name       string
		l          Limits
		rate, base counts // the last minute; the baseline hour
		want       bool
	}{
		// Baseline 10/min at a ratio of 0.1: the floor (50) and 5× (50) are both reached.
		{"floor_and_factor_reached", Limits{}, counts{50, 60}, counts{600, 6000}, true},
		{"under_floor", Limits{}, counts{49, 49}, counts{60, 600}, false},
		// Baseline 50/min: 200 is only 4×.
		{"under_factor", Limits{}, counts{200, 250}, counts{3000, 30000}, false},
		// Six times the failures with six times the attempts: the ratio stays 0.1.
		{"flash_crowd", Limits{}, counts{600, 6000}, counts{6000, 60000}, false},
		// A site where half the logins fail (50 of 100 a minute) and 200 failing attack
		// attempts arrive: 250 of 300 fail, 0.83 ≥ min(0.75, 0.75).
		{"attack_on_high_failure_site", Limits{}, counts{250, 300}, counts{3000, 6000}, true},
		{"no_baseline", Limits{}, counts{50, 50}, counts{}, true},
		{"no_baseline_under_floor", Limits{}, counts{49, 49}, counts{}, false},
		{"failures_without_attempts", Limits{}, counts{100, 0}, counts{60, 600}, true},
		// Floor 10 and 2× of 5/min.
		{"custom_limits", Limits{SpikeFailures: 10, SpikeFactor: 2}, counts{10, 10}, counts{300, 3000}, true},
		{"custom_limits_under_factor", Limits{SpikeFailures: 10, SpikeFactor: 3}, counts{14, 14}, counts{300, 3000}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := spikeOf(tc.l, tc.rate, tc.base); got != tc.want {
				t.Errorf("spikeOf(%+v, %+v) = %v, want %v", tc.rate, tc.base, got, tc.want)
			}
		})
	}
}

func TestTightened(t *testing.T) {
	for _, tc := range []struct {
		name     string
		divisor  int
		in, want [3]int // FailuresPerIP, UsernamesPerIP, UsernamesPerDNA
	}{
		{"default_halves", 0, [3]int{20, 10, 10}, [3]int{10, 5, 5}},
		{"divisor_one_keeps", 1, [3]int{20, 10, 10}, [3]int{20, 10, 10}},
		{"divisor_four", 4, [3]int{20, 10, 10}, [3]int{5, 2, 2}},
		{"never_below_one", 0, [3]int{3, 1, 0}, [3]int{1, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := Limits{FailuresPerIP: tc.in[0], UsernamesPerIP: tc.in[1], UsernamesPerDNA: tc.in[2], IPsPerUsername: 5, SpikeDivisor: tc.divisor}
			got := l.tightened()
			if g := [3]int{got.FailuresPerIP, got.UsernamesPerIP, got.UsernamesPerDNA}; g != tc.want || got.IPsPerUsername != 5 {
				t.Errorf("tightened: %v, IPsPerUsername %d; want %v, 5", g, got.IPsPerUsername, tc.want)
			}
		})
	}
}

// TestKeepWindow checks that a bucket's counter outlives the next bucket, through the
// store's own window arithmetic.
func TestKeepWindow(t *testing.T) {
	for _, unit := range []time.Duration{spikeBucket, baselineBucket} {
		now := t0.UnixNano() / int64(unit)
		ns := []int64{5, 11, 59, 419, 27719, 720719} // n+1 divisible by 2…6, 2…10, …
		for n := range int64(2000) {
			ns = append(ns, n, now+n)
		}
		for _, n := range ns {
			w := keepWindow(n, unit)
			if w < 2*unit || w > 64*unit || w%unit != 0 {
				t.Fatalf("keepWindow(%d, %v) = %v", n, unit, w)
			}
			s := memstore.New(memstore.Config{})
			start := time.Unix(0, n*int64(unit))
			s.Add("k", start, 1, w)
			if got := s.Get("k", start.Add(2*unit-1)); got != 1 {
				t.Fatalf("bucket %d of %v, window %v: count %d at the end of the next bucket, want 1", n, unit, w, got)
			}
		}
	}
}

func TestPack(t *testing.T) {
	for _, c := range []counts{{0, 0}, {1, 0}, {0, 1}, {12345, 678901}, {math.MaxInt32, math.MaxUint32}} {
		if got := unpack(pack(c)); got != c {
			t.Errorf("unpack(pack(%v)) = %v", c, got)
		}
		if got := unpack(pack(c) + pack(counts{1, 2})); c.a < math.MaxUint32-2 && got != (counts{c.f + 1, c.a + 2}) {
			t.Errorf("packed %v + {1 2} = %v", c, got)
		}
	}
}

// TestMonitorCheck runs Monitor.Check with a state already read.
func TestMonitorCheck(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(30 * time.Second)
	calm := &siteState{at: now, next: now.Add(time.Hour), rate: counts{5, 50}, base: counts{300, 3000}}
	spiking := &siteState{at: now, next: now.Add(time.Hour), rate: counts{800, 820}, base: counts{300, 3000}, detail: "d"}
	stale := &siteState{at: now.Add(-staleAfter), next: now.Add(time.Hour), rate: counts{800, 820}, base: counts{300, 3000}}
	for _, tc := range []struct {
		name      string
		state     *siteState
		fails     int // failures of the probe's IP with one username before the probe
		want      []string
		banIP     bool
		wantSpike bool
	}{
		{"calm", calm, 10, nil, false, false},
		{"spike_finding", spiking, 0, []string{CodeSpike}, false, true},
		// 10 failures are under FailuresPerIP (20) but reach its half.
		{"spike_halves_ip_limit", spiking, 10, []string{CodeStuffing, CodeSpike}, true, true},
		{"stale_spike_ignored", stale, 10, nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &counter{}
			a := Attempt{IP: "ip1", Username: "alice"}
			for range tc.fails {
				if err := Failed(ctx, c, limits, a); err != nil {
					t.Fatal(err)
				}
			}
			m := &Monitor{now: func() time.Time { return now }}
			m.state.Store(tc.state)
			v, err := m.Check(ctx, c, limits, a)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, codes(v)); diff != "" || v.BanIP != tc.banIP || v.Spike != tc.wantSpike {
				t.Errorf("ban %v spike %v, want %v %v; findings (-want +got):\n%s", v.BanIP, v.Spike, tc.banIP, tc.wantSpike, diff)
			}
		})
	}
}

// traffic drives a Monitor and a store with login attempts at the fake clock's time.
type traffic struct {
	t     *testing.T
	m     *Monitor
	s     *clockStore
	clock *fakeClock
	l     Limits
}

func newTraffic(t *testing.T, start time.Time) *traffic {
	clock := newClock(start)
	return &traffic{t: t, m: &Monitor{now: clock.Now}, s: newClockStore(clock), clock: clock, l: limits}
}

// attempt checks a and, if fail, records its failure.
func (tr *traffic) attempt(a Attempt, fail bool) Verdict {
	tr.t.Helper()
	ctx := context.Background()
	v, err := tr.m.Check(ctx, tr.s, tr.l, a)
	if err != nil {
		tr.t.Fatal(err)
	}
	if fail {
		if err := tr.m.Failed(ctx, tr.s, tr.l, a); err != nil {
			tr.t.Fatal(err)
		}
	}
	return v
}

// quiet runs d of calm traffic: an attempt every 3 s (20 a minute), one in five
// failing (4 a minute), each user on an address of their own. It returns how many
// verdicts showed a spike.
func (tr *traffic) quiet(d time.Duration, i *int) (spikes int) {
	for end := tr.clock.Now().Add(d); tr.clock.Now().Before(end); tr.clock.advance(3 * time.Second) {
		u := *i % 200
		if tr.attempt(Attempt{IP: fmt.Sprintf("10.1.0.%d", u), Username: fmt.Sprintf("user%d@example.com", u)}, *i%5 == 0).Spike {
			spikes++
		}
		*i++
	}
	return spikes
}

// attack runs 2 000 failing attempts from 1 000 addresses (two each) on distinct
// usernames, one every 60 ms, with calm traffic continuing every 3 s. It returns the
// index of the first attack attempt whose verdict showed a spike (-1 if none) and the
// number of attack verdicts without one from that index on.
func (tr *traffic) attack(tag string, quietIndex *int) (first, missed int) {
	first = -1
	for j := range 2000 {
		ip := fmt.Sprintf("198.51.%d.%d", j/2/256, j/2%256)
		v := tr.attempt(Attempt{IP: ip, Username: fmt.Sprintf("%s%d@example.org", tag, j)}, true)
		if v.BanIP || len(v.Findings) > map[bool]int{true: 1, false: 0}[v.Spike] {
			tr.t.Fatalf("attack attempt %d from %s: findings %v, ban %v; want at most the spike", j, ip, codes(v), v.BanIP)
		}
		switch {
		case v.Spike && first < 0:
			first = j
		case !v.Spike && first >= 0:
			missed++
		}
		tr.clock.advance(60 * time.Millisecond)
		if j%50 == 49 { // 3 s
			tr.quiet(time.Second, quietIndex)
		}
	}
	return first, missed
}

func TestSpikeScenario(t *testing.T) {
	tr := newTraffic(t, t0.Add(10*time.Second))
	var qi int
	if n := tr.quiet(2*time.Hour, &qi); n != 0 { // 10 s past 02:00 now
		t.Fatalf("calm traffic showed %d spikes", n)
	}
	first, missed := tr.attack("victim", &qi)
	if first < 0 || first > 200 || missed != 0 {
		t.Fatalf("spike first seen at attack attempt %d (want within the first 200), missed %d times after", first, missed)
	}
	for j := range 1000 { // no address went over a limit, even halved
		if n := tr.s.s.Get("cs:f:ip:"+fmt.Sprintf("198.51.%d.%d", j/256, j%256), tr.clock.Now()); n != 2 {
			t.Fatalf("address %d failed %d times, want 2", j, n)
		}
	}

	// The spike ends when the failures drop: by the end of the minute after the one
	// the attack stopped in (the sliding estimate spreads that minute's failures
	// evenly), here 02:04:50 → 02:05:56, and a second for the refresh.
	end := tr.clock.Now()
	var last time.Time
	for stop := end.Add(5 * time.Minute); tr.clock.Now().Before(stop); {
		before := tr.clock.Now()
		if tr.quiet(3*time.Second, &qi) > 0 {
			last = before
		}
	}
	if next := end.Truncate(time.Minute).Add(2*time.Minute + refreshEvery); last.IsZero() || last.After(next) {
		t.Errorf("spike last seen at %s after the attack ended at %s, want by %s",
			last.Format("15:04:05"), end.Format("15:04:05"), next.Format("15:04:05"))
	}

	// Into the next hour: the attack's minutes entered the baseline at the calm rate
	// (the calm hour held 240 failures, the attack 2 000), so a second attack is a
	// spike again.
	if n := tr.quiet(time.Hour, &qi); n != 0 {
		t.Fatalf("calm traffic after the attack showed %d spikes", n)
	}
	if b := tr.m.state.Load().base; b.f < 200 || b.f > 400 {
		t.Errorf("baseline hour holds %d failures, want about 240 plus the minutes before the spike was seen", b.f)
	}
	if first, missed := tr.attack("again", &qi); first < 0 || first > 200 || missed != 0 {
		t.Errorf("second attack: spike first seen at attempt %d, missed %d times after", first, missed)
	}
}

// TestNormalDay runs a day of ordinary logins: a daily curve from 40 to 400 attempts
// a minute, 15–25 % of them failing (up to about 100 failures a minute, twice the
// floor), and a newsletter at 14:00 that brings eight times the logins for ten
// minutes at the usual failure ratio. None of it is a spike.
func TestNormalDay(t *testing.T) {
	tr := newTraffic(t, t0)
	rng := rand.New(rand.NewPCG(1, 2))
	var hours [24]counts
	for minute := range 24 * 60 {
		hour := float64(minute) / 60
		perMinute := 40 + 360*(1-math.Cos(2*math.Pi*(hour-2)/24))/2 // low at 02:00, high at 14:00
		if minute >= 14*60 && minute < 14*60+10 {
			perMinute *= 8
		}
		n := int(perMinute * (0.8 + 0.4*rng.Float64()))
		ratio := 0.15 + 0.1*rng.Float64()
		step := time.Minute / time.Duration(n)
		start := t0.Add(time.Duration(minute) * time.Minute)
		for i := range n {
			tr.clock.set(start.Add(time.Duration(i) * step))
			fail := rng.Float64() < ratio
			if tr.attempt(Attempt{}, fail).Spike {
				t.Fatalf("spike at %s: %+v", tr.clock.Now().Format("15:04:05"), *tr.m.state.Load())
			}
			hours[minute/60].a++
			if fail {
				hours[minute/60].f++
			}
		}
	}
	// With no spike, the baseline is the previous hour's count, give or take the
	// attempts of the second before each end of the hour, which counts in the hour its
	// refresh falls in (here 1 or 2 attempts).
	b, want := tr.m.state.Load().base, hours[22]
	if abs(b.f-want.f) > 5 || abs(b.a-want.a) > 10 {
		t.Errorf("baseline at 23:59 holds %+v, want about 22:00's %+v", b, want)
	}
}

// TestSiteCalls checks the store calls of the site-wide counts: none for a Check that
// uses the counts already read, one refresh for concurrent Checks, and two calls for
// a refresh within a minute.
func TestSiteCalls(t *testing.T) {
	ctx := context.Background()
	tr := newTraffic(t, t0.Add(10*time.Second))
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 20 {
				tr.attempt(Attempt{IP: "ip1", Username: "u"}, false)
			}
		})
	}
	wg.Wait()
	// The first refresh: the baseline hour, this minute's flush, the last minute.
	if got := tr.s.siteCalls.Load(); got != 3 {
		t.Errorf("1 000 concurrent Checks at one instant made %d site-wide store calls, want 3", got)
	}
	if _, err := tr.m.Check(ctx, tr.s, tr.l, Attempt{IP: "ip1"}); err != nil || tr.s.siteCalls.Load() != 3 {
		t.Errorf("a Check with the counts already read made store calls: %d, %v", tr.s.siteCalls.Load()-3, err)
	}
	if err := tr.m.Failed(ctx, tr.s, tr.l, Attempt{IP: "ip1"}); err != nil || tr.s.siteCalls.Load() != 3 {
		t.Errorf("Failed made site-wide store calls: %d, %v", tr.s.siteCalls.Load()-3, err)
	}
	tr.clock.advance(refreshEvery)
	tr.attempt(Attempt{}, false)
	if got := tr.s.siteCalls.Load(); got != 5 {
		t.Errorf("a refresh within the minute made %d store calls, want 2", got-3)
	}
	// 1 001 attempts and one failure reached the store.
	if got := unpack(tr.s.s.Get(minuteKey(t0.Unix()/60), tr.clock.Now())); got != (counts{1, 1002}) {
		t.Errorf("minute bucket holds %+v, want {f:1 a:1002}", got)
	}
}

// TestNilMonitor checks that a nil Monitor is the package's Check and Failed.
func TestNilMonitor(t *testing.T) {
	ctx := context.Background()
	var m *Monitor
	c := &counter{}
	a := Attempt{IP: "ip1", Username: "alice"}
	for range limits.FailuresPerIP {
		if err := m.Failed(ctx, c, limits, a); err != nil {
			t.Fatal(err)
		}
	}
	v, err := m.Check(ctx, c, limits, a)
	if err != nil || !v.BanIP || v.Spike {
		t.Errorf("nil Monitor: %+v, %v; want a ban and no spike", v, err)
	}
}

func abs(n int64) int64 { return max(n, -n) }
