package ratelimit

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tenPerSecond has an emission interval of 100ms and a burst (capacity) of 10, so one
// second of allowance: the expectations below are worked out by hand from those numbers.
var tenPerSecond = Limit{Rate: 10, Period: time.Second}

type stepCase struct {
	name    string
	tat     time.Time // zero: never seen
	l       Limit
	cost    int
	wantTAT time.Time
	want    Result
}

func at(d time.Duration) time.Time { return t0.Add(d) }

// stepCases feed TestStep, the FuzzStep seeds and BenchmarkStep. Every request is made
// at t0.
var stepCases = []stepCase{
	{
		name: "idle_first_request", l: tenPerSecond, cost: 1,
		wantTAT: at(100 * time.Millisecond),
		want:    Result{Allowed: true, Remaining: 9, ResetAfter: 100 * time.Millisecond},
	},
	{
		name: "tat_in_the_past_is_idle", tat: at(-5 * time.Second), l: tenPerSecond, cost: 1,
		wantTAT: at(100 * time.Millisecond),
		want:    Result{Allowed: true, Remaining: 9, ResetAfter: 100 * time.Millisecond},
	},
	{
		// debt 500ms + 100ms = 600ms of 1s: 400ms left, 4 requests.
		name: "half_used", tat: at(500 * time.Millisecond), l: tenPerSecond, cost: 1,
		wantTAT: at(600 * time.Millisecond),
		want:    Result{Allowed: true, Remaining: 4, ResetAfter: 600 * time.Millisecond},
	},
	{
		name: "last_slot", tat: at(900 * time.Millisecond), l: tenPerSecond, cost: 1,
		wantTAT: at(time.Second),
		want:    Result{Allowed: true, Remaining: 0, ResetAfter: time.Second},
	},
	{
		name: "exhausted", tat: at(time.Second), l: tenPerSecond, cost: 1,
		wantTAT: at(time.Second),
		want:    Result{Remaining: 0, RetryAfter: 100 * time.Millisecond, ResetAfter: time.Second},
	},
	{
		// debt 950ms: the next slot opens when it falls to 900ms, 50ms from now.
		name: "partly_refilled", tat: at(950 * time.Millisecond), l: tenPerSecond, cost: 1,
		wantTAT: at(950 * time.Millisecond),
		want:    Result{Remaining: 0, RetryAfter: 50 * time.Millisecond, ResetAfter: 950 * time.Millisecond},
	},
	{
		name: "cost_takes_whole_burst", l: tenPerSecond, cost: 10,
		wantTAT: at(time.Second),
		want:    Result{Allowed: true, Remaining: 0, ResetAfter: time.Second},
	},
	{
		// 5 slots free, 6 asked: wait one interval.
		name: "cost_does_not_fit_yet", tat: at(500 * time.Millisecond), l: tenPerSecond, cost: 6,
		wantTAT: at(500 * time.Millisecond),
		want:    Result{Remaining: 5, RetryAfter: 100 * time.Millisecond, ResetAfter: 500 * time.Millisecond},
	},
	{
		name: "cost_above_burst", l: tenPerSecond, cost: 11,
		want: Result{Remaining: 10, RetryAfter: Never},
	},
	{
		name: "cost_max_int", tat: at(300 * time.Millisecond), l: tenPerSecond, cost: math.MaxInt,
		wantTAT: at(300 * time.Millisecond),
		want:    Result{Remaining: 7, RetryAfter: Never, ResetAfter: 300 * time.Millisecond},
	},
	{
		name: "peek_idle", l: tenPerSecond, cost: 0,
		want: Result{Allowed: true, Remaining: 10},
	},
	{
		name: "peek_exhausted", tat: at(time.Second), l: tenPerSecond, cost: 0,
		wantTAT: at(time.Second),
		want:    Result{Remaining: 0, RetryAfter: 100 * time.Millisecond, ResetAfter: time.Second},
	},
	{
		name: "negative_cost_is_a_peek", tat: at(500 * time.Millisecond), l: tenPerSecond, cost: -3,
		wantTAT: at(500 * time.Millisecond),
		want:    Result{Allowed: true, Remaining: 5, ResetAfter: 500 * time.Millisecond},
	},
	{
		name: "burst_one_spaces_requests", tat: at(30 * time.Second), l: Limit{Rate: 1, Period: time.Minute, Burst: 1}, cost: 1,
		wantTAT: at(30 * time.Second),
		want:    Result{RetryAfter: 30 * time.Second, ResetAfter: 30 * time.Second},
	},
	{
		// capacity 20 × 100ms = 2s.
		name: "burst_above_rate", l: Limit{Rate: 10, Period: time.Second, Burst: 20}, cost: 1,
		wantTAT: at(100 * time.Millisecond),
		want:    Result{Allowed: true, Remaining: 19, ResetAfter: 100 * time.Millisecond},
	},
	{
		// interval 333333333ns, capacity 999999999ns: after one request 666666666ns
		// are left, two whole intervals.
		name: "uneven_interval_rounds_down", l: Limit{Rate: 3, Period: time.Second}, cost: 1,
		wantTAT: at(333333333),
		want:    Result{Allowed: true, Remaining: 2, ResetAfter: 333333333},
	},
	{
		name: "longest_period", l: Limit{Rate: 1, Period: MaxPeriod}, cost: 1,
		wantTAT: at(MaxPeriod),
		want:    Result{Allowed: true, Remaining: 0, ResetAfter: MaxPeriod},
	},
	{
		name: "invalid_zero_limit", cost: 1,
		want: Result{RetryAfter: Never},
	},
	{
		name: "invalid_negative_burst", tat: at(time.Second), l: Limit{Rate: 10, Period: time.Second, Burst: -1}, cost: 1,
		wantTAT: at(time.Second),
		want:    Result{RetryAfter: Never},
	},
}

func TestStep(t *testing.T) {
	for _, tc := range stepCases {
		t.Run(tc.name, func(t *testing.T) {
			gotTAT, got := Step(tc.tat, t0, tc.l, tc.cost)
			want := tc.want
			want.Limit = tc.l
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Step result (-want +got):\n%s", diff)
			}
			if !gotTAT.Equal(tc.wantTAT) {
				t.Errorf("Step TAT = %v, want %v", gotTAT, tc.wantTAT)
			}
			if !got.Allowed || tc.cost <= 0 {
				if gotTAT != tc.tat {
					t.Errorf("Step changed the TAT of a denied request or a peek: %v, was %v", gotTAT, tc.tat)
				}
			}
		})
	}
}

func TestLimitValid(t *testing.T) {
	tests := []struct {
		name string
		l    Limit
		ok   bool
	}{
		{"ten_per_second", tenPerSecond, true},
		{"burst_above_rate", Limit{Rate: 10, Period: time.Second, Burst: 100}, true},
		{"one_per_nanosecond", Limit{Rate: 1000, Period: 1000}, true},
		{"max_period", Limit{Rate: 1, Period: MaxPeriod}, true},
		{"zero", Limit{}, false},
		{"zero_rate", Limit{Period: time.Second}, false},
		{"negative_rate", Limit{Rate: -1, Period: time.Second}, false},
		{"zero_period", Limit{Rate: 1}, false},
		{"negative_period", Limit{Rate: 1, Period: -time.Second}, false},
		{"period_too_long", Limit{Rate: 1, Period: MaxPeriod + 1}, false},
		{"more_than_one_per_nanosecond", Limit{Rate: 1001, Period: 1000}, false},
		{"negative_burst", Limit{Rate: 1, Period: time.Second, Burst: -1}, false},
		{"burst_drains_too_slowly", Limit{Rate: 1, Period: MaxPeriod, Burst: 2}, false},
		{"huge_burst", Limit{Rate: 1, Period: time.Second, Burst: math.MaxInt}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.l.Valid()
			if (err == nil) != tc.ok {
				t.Errorf("%+v.Valid() = %v, want ok=%v", tc.l, err, tc.ok)
			}
		})
	}
}

func TestLimitScale(t *testing.T) {
	// 189216000s is 0.6 × MaxPeriod; Rate 3 and Burst 5 drain in exactly MaxPeriod.
	long := Limit{Rate: 3, Period: 189216000 * time.Second, Burst: 5}
	if err := long.Valid(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		l    Limit
		f    float64
		want Limit
	}{
		{"half", tenPerSecond, 0.5, Limit{Rate: 5, Period: time.Second}},
		{"half_with_burst", Limit{Rate: 10, Period: time.Second, Burst: 20}, 0.5, Limit{Rate: 5, Period: time.Second, Burst: 10}},
		{"rounds_down", Limit{Rate: 10, Period: time.Second, Burst: 15}, 0.25, Limit{Rate: 2, Period: time.Second, Burst: 3}},
		{"never_below_one", tenPerSecond, 0.01, Limit{Rate: 1, Period: time.Second}},
		{"burst_never_below_one", Limit{Rate: 10, Period: time.Second, Burst: 3}, 0.1, Limit{Rate: 1, Period: time.Second, Burst: 1}},
		{"one_is_unchanged", tenPerSecond, 1, tenPerSecond},
		{"never_loosens", tenPerSecond, 2, tenPerSecond},
		{"nan_is_unchanged", tenPerSecond, math.NaN(), tenPerSecond},
		{"zero_is_tightest", tenPerSecond, 0, Limit{Rate: 1, Period: time.Second}},
		{"negative_is_tightest", Limit{Rate: 10, Period: time.Second, Burst: 4}, -1, Limit{Rate: 1, Period: time.Second, Burst: 1}},
		{"invalid_is_unchanged", Limit{Rate: 0, Period: time.Second}, 0.5, Limit{Rate: 0, Period: time.Second}},
		// Rate 1.5 rounds to 1, which stretches the interval to the whole period: a burst
		// of 2 would take 1.2 × MaxPeriod to drain, so it is cut to 1.
		{"burst_kept_within_max_period", long, 0.5, Limit{Rate: 1, Period: long.Period, Burst: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.l.Scale(tc.f)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Scale(%v) (-want +got):\n%s", tc.f, diff)
			}
			if tc.l.Valid() == nil && got.Valid() != nil {
				t.Errorf("Scale(%v) of a valid limit is invalid: %v", tc.f, got.Valid())
			}
		})
	}
}

// TestRetryAfterRecovers checks the defect of limiters that count rejected requests: a
// client that waits RetryAfter after each denial is admitted on every retry.
func TestRetryAfterRecovers(t *testing.T) {
	l := Limit{Rate: 5, Period: time.Second, Burst: 2}
	var tat time.Time
	now := t0
	admitted := 0
	for range 1000 {
		var r Result
		tat, r = Step(tat, now, l, 1)
		if r.Allowed {
			admitted++
			continue
		}
		if r.RetryAfter <= 0 {
			t.Fatalf("denied with RetryAfter %v", r.RetryAfter)
		}
		// Hammering in between changes nothing.
		for range 10 {
			if _, r2 := Step(tat, now, l, 1); r2.Allowed || r2.RetryAfter != r.RetryAfter {
				t.Fatalf("retry before RetryAfter: %+v", r2)
			}
		}
		now = now.Add(r.RetryAfter)
		var r2 Result
		if tat, r2 = Step(tat, now, l, 1); !r2.Allowed {
			t.Fatalf("denied at RetryAfter: %+v", r2)
		}
		admitted++
	}
	if admitted != 1000 {
		t.Errorf("admitted %d of 1000 patient requests", admitted)
	}
}

// pattern returns the arrival times of a load pattern over 60 seconds.
type pattern struct {
	name     string
	l        Limit
	arrivals func() []time.Duration
	want     int // admitted requests; -1: only the bounds are checked
}

func every(step time.Duration) func() []time.Duration {
	return func() []time.Duration {
		var a []time.Duration
		for t := time.Duration(0); t < time.Minute; t += step {
			a = append(a, t)
		}
		return a
	}
}

func burstsEverySecond(n int) func() []time.Duration {
	return func() []time.Duration {
		var a []time.Duration
		for s := range 60 {
			for range n {
				a = append(a, time.Duration(s)*time.Second)
			}
		}
		return a
	}
}

func poisson(perSecond float64, seed uint64) func() []time.Duration {
	return func() []time.Duration {
		rng := rand.New(rand.NewPCG(seed, seed))
		var a []time.Duration
		for t := time.Duration(0); ; {
			t += time.Duration(rng.ExpFloat64() / perSecond * float64(time.Second))
			if t >= time.Minute {
				return a
			}
			a = append(a, t)
		}
	}
}

// The expected counts are worked out by hand. With interval T and burst b, starting
// idle, the n-th admission in an overload happens at the first arrival at or after
// (n−b)·T. Arrivals end at 60s − step, so an overload admits b + ⌊(60s − step)/T⌋.
var patterns = []pattern{
	{"under_limit_5_per_s", tenPerSecond, every(200 * time.Millisecond), 300},
	{"at_limit_10_per_s", tenPerSecond, every(100 * time.Millisecond), 600},
	// 10 + ⌊59.99s / 100ms⌋ = 10 + 599.
	{"overload_100_per_s", tenPerSecond, every(10 * time.Millisecond), 609},
	// Each second's burst finds the bucket full again: 10 × 60.
	{"bursts_of_50_each_second", tenPerSecond, burstsEverySecond(50), 600},
	// 1 + ⌊59.99s / 100ms⌋.
	{"overload_burst_one", Limit{Rate: 10, Period: time.Second, Burst: 1}, every(10 * time.Millisecond), 600},
	// 30 + 599.
	{"overload_burst_thirty", Limit{Rate: 10, Period: time.Second, Burst: 30}, every(10 * time.Millisecond), 629},
	{"poisson_15_per_s", tenPerSecond, poisson(15, 1), -1},
	{"poisson_9_per_s", tenPerSecond, poisson(9, 2), -1},
	{"poisson_50_per_s_burst_3", Limit{Rate: 10, Period: time.Second, Burst: 3}, poisson(50, 3), -1},
}

// TestSimulation runs a minute of simulated traffic per pattern and checks the admitted
// requests against the GCRA bound and an independently written token bucket.
func TestSimulation(t *testing.T) {
	for _, p := range patterns {
		t.Run(p.name, func(t *testing.T) {
			arrivals := p.arrivals()
			var tat time.Time
			var admitted []time.Duration
			for _, a := range arrivals {
				var r Result
				tat, r = Step(tat, t0.Add(a), p.l, 1)
				if r.Allowed {
					admitted = append(admitted, a)
				}
			}
			if p.want >= 0 && len(admitted) != p.want {
				t.Errorf("admitted %d of %d, want %d", len(admitted), len(arrivals), p.want)
			}
			interval := p.l.Period / time.Duration(p.l.Rate)
			burst := p.l.Burst
			if burst == 0 {
				burst = p.l.Rate
			}
			if max := p.l.Rate*60 + burst; len(admitted) > max {
				t.Errorf("admitted %d in a minute, more than rate×60 + burst = %d", len(admitted), max)
			}
			// Conformance: any run of admissions from i to j fits in the burst plus what
			// the elapsed time allows.
			for i := range admitted {
				for j := i; j < len(admitted); j++ {
					if n, allowed := j-i+1, burst+int((admitted[j]-admitted[i])/interval); n > allowed {
						t.Fatalf("%d admissions in [%v, %v], at most %d allowed", n, admitted[i], admitted[j], allowed)
					}
				}
			}
			if diff := cmp.Diff(tokenBucket(p.l, arrivals), admitted); diff != "" {
				t.Errorf("admissions differ from the token bucket (-bucket +gcra):\n%s", diff)
			}
		})
	}
}

// tokenBucket is a reference limiter written as a token bucket (the dual of GCRA): the
// credit, in nanoseconds of allowance, fills at one per nanosecond up to burst×interval,
// and each request spends one interval.
func tokenBucket(l Limit, arrivals []time.Duration) []time.Duration {
	interval := l.Period / time.Duration(l.Rate)
	burst := l.Burst
	if burst == 0 {
		burst = l.Rate
	}
	capacity := time.Duration(burst) * interval
	credit, last := capacity, time.Duration(0)
	var admitted []time.Duration
	for _, a := range arrivals {
		credit = min(capacity, credit+(a-last))
		last = a
		if credit >= interval {
			credit -= interval
			admitted = append(admitted, a)
		}
	}
	return admitted
}

func FuzzStep(f *testing.F) {
	for _, tc := range stepCases {
		tat := int64(0)
		if !tc.tat.IsZero() {
			tat = tc.tat.UnixNano()
		}
		f.Add(tat, t0.UnixNano(), tc.l.Rate, int64(tc.l.Period), tc.l.Burst, tc.cost)
	}
	f.Add(int64(math.MaxInt64), int64(math.MinInt64), 1, int64(1), 0, 1)
	f.Add(int64(math.MaxInt64-5), int64(math.MaxInt64-10), 10, int64(time.Second), 0, 1)
	f.Fuzz(func(t *testing.T, tat, now int64, rate int, period int64, burst, cost int) {
		l := Limit{Rate: rate, Period: time.Duration(period), Burst: burst}
		newTAT, r := StepNano(tat, now, l, cost)

		if newTAT2, r2 := StepNano(tat, now, l, cost); newTAT2 != newTAT || r2 != r {
			t.Fatalf("not deterministic: %d %+v, then %d %+v", newTAT, r, newTAT2, r2)
		}
		if r.Remaining < 0 || r.RetryAfter < 0 || r.ResetAfter < 0 {
			t.Fatalf("negative result: %+v", r)
		}
		if r.Allowed != (r.RetryAfter == 0) {
			t.Fatalf("Allowed %v with RetryAfter %v", r.Allowed, r.RetryAfter)
		}
		if (!r.Allowed || cost <= 0) && newTAT != tat {
			t.Fatalf("denied request or peek moved the TAT from %d to %d", tat, newTAT)
		}
		if r.Allowed && cost > 0 && newTAT <= now && now != math.MaxInt64 {
			t.Fatalf("admitted request left TAT %d not after now %d", newTAT, now)
		}
		// Step on time.Time agrees with StepNano.
		if tT, rT := Step(time.Unix(0, tat), time.Unix(0, now), l, cost); tT.UnixNano() != newTAT || rT != r {
			t.Fatalf("Step = %v %+v, StepNano = %d %+v", tT, rT, newTAT, r)
		}

		_, b, ok := l.params()
		if !ok {
			if l.Valid() == nil {
				t.Fatalf("params rejects a limit Valid accepts: %+v", l)
			}
			if r.Allowed || r.RetryAfter != Never {
				t.Fatalf("invalid limit %+v gave %+v", l, r)
			}
			return
		}
		if err := l.Valid(); err != nil {
			t.Fatalf("params accepts a limit Valid rejects: %v", err)
		}
		if int64(r.Remaining) > b {
			t.Fatalf("remaining %d above burst %d", r.Remaining, b)
		}
		if int64(cost) > b && (r.Allowed || r.RetryAfter != Never) {
			t.Fatalf("cost %d above burst %d gave %+v", cost, b, r)
		}
		// Away from the saturation at the end of the int64 range, the result predicts
		// the next steps exactly.
		if now < math.MinInt64/2 || now > math.MaxInt64/2 || tat > math.MaxInt64/2 {
			return
		}
		if r.Allowed && cost > 0 {
			if _, r2 := StepNano(newTAT, now, l, r.Remaining+1); r2.Allowed {
				t.Fatalf("Remaining %d, but %d more admitted", r.Remaining, r.Remaining+1)
			}
			if r.Remaining > 0 {
				if _, r2 := StepNano(newTAT, now, l, r.Remaining); !r2.Allowed {
					t.Fatalf("Remaining %d, but they are denied: %+v", r.Remaining, r2)
				}
			}
			if _, r2 := StepNano(newTAT, now+int64(r.ResetAfter), l, 0); r2.Remaining != int(b) {
				t.Fatalf("after ResetAfter %v, remaining %d of %d", r.ResetAfter, r2.Remaining, b)
			}
		}
		if !r.Allowed && r.RetryAfter != Never {
			c := max(cost, 1)
			if _, r2 := StepNano(tat, now+int64(r.RetryAfter), l, c); !r2.Allowed {
				t.Fatalf("denied again after RetryAfter %v: %+v", r.RetryAfter, r2)
			}
			if _, r2 := StepNano(tat, now+int64(r.RetryAfter)-1, l, c); r2.Allowed {
				t.Fatalf("admitted before RetryAfter %v", r.RetryAfter)
			}
		}
	})
}

func FuzzScale(f *testing.F) {
	f.Add(10, int64(time.Second), 0, 0.5)
	f.Add(3, int64(189216000*time.Second), 5, 0.5)
	f.Add(math.MaxInt, int64(MaxPeriod), 0, 0.9999999999)
	f.Fuzz(func(t *testing.T, rate int, period int64, burst int, factor float64) {
		l := Limit{Rate: rate, Period: time.Duration(period), Burst: burst}
		s := l.Scale(factor)
		if l.Valid() != nil {
			if s != l {
				t.Fatalf("invalid %+v scaled to %+v", l, s)
			}
			return
		}
		if err := s.Valid(); err != nil {
			t.Fatalf("%+v.Scale(%v) = %+v: %v", l, factor, s, err)
		}
		if s.Rate > l.Rate || s.Period != l.Period || s.Rate < 1 {
			t.Fatalf("%+v.Scale(%v) = %+v loosens the rate", l, factor, s)
		}
		_, b, _ := l.params()
		if _, sb, _ := s.params(); sb > b {
			t.Fatalf("%+v.Scale(%v) = %+v loosens the burst", l, factor, s)
		}
	})
}

func BenchmarkStep(b *testing.B) {
	now := t0.UnixNano()
	for _, tc := range stepCases {
		tat := int64(0)
		if !tc.tat.IsZero() {
			tat = tc.tat.UnixNano()
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				StepNano(tat, now, tc.l, tc.cost)
			}
		})
	}
}
