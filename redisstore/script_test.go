package redisstore

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/ratelimit"
)

// stepCase is one GCRA step: the stored TAT (math.MinInt64: none), now, the limit and
// the cost.
type stepCase struct {
	name string
	tat  int64
	now  int64
	l    ratelimit.Limit
	cost int
}

// stepCases returns hand-picked steps around now plus n random ones.
func stepCases(now int64, n int) []stepCase {
	perMin := ratelimit.Limit{Rate: 100, Period: time.Minute}
	t := int64(time.Minute / 100)
	yearly := ratelimit.Limit{Rate: 3, Period: 365 * 24 * time.Hour, Burst: 7} // interval > 2^53 ns
	odd := ratelimit.Limit{Rate: 7, Period: 1_000_000_007, Burst: 3}
	cases := []stepCase{
		{"no_tat", math.MinInt64, now, perMin, 1},
		{"idle_tat", now - 1, now, perMin, 1},
		{"tat_equals_now", now, now, perMin, 1},
		{"half_used", now + 50*t, now, perMin, 1},
		{"exactly_full_room", now + 99*t, now, perMin, 1},
		{"one_ns_over", now + 99*t + 1, now, perMin, 1},
		{"full", now + 100*t, now, perMin, 1},
		{"cost_fits_exactly", now + 90*t, now, perMin, 10},
		{"cost_one_over", now + 90*t + 1, now, perMin, 10},
		{"cost_above_burst", math.MinInt64, now, perMin, 101},
		{"peek_idle", math.MinInt64, now, perMin, 0},
		{"peek_full", now + 100*t, now, perMin, -3},
		{"yearly_idle", math.MinInt64, now, yearly, 1},
		{"yearly_almost_full", now + 6*int64(yearly.Period/3) + 12345, now, yearly, 1},
		{"yearly_room_exact", now + 6*int64(yearly.Period/3), now, yearly, 1},
		{"odd_interval", now + 1_000_000_007/7 + 17, now, odd, 2},
		{"max_period_burst", math.MinInt64, now, ratelimit.Limit{Rate: 1, Period: ratelimit.MaxPeriod}, 1},
		{"ns_interval", now + 500, now, ratelimit.Limit{Rate: 1000, Period: 1000}, 400},
		{"tat_near_int64_max", math.MaxInt64 - 10, now, perMin, 1},
		{"saturating_sum", math.MaxInt64 - 10, math.MaxInt64 - 5_000_000_000, ratelimit.Limit{Rate: 1, Period: 10 * time.Second}, 1},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		var l ratelimit.Limit
		switch rng.IntN(3) {
		case 0: // everyday limits
			l = ratelimit.Limit{Rate: 1 + rng.IntN(1000), Period: time.Duration(1+rng.IntN(3600)) * time.Second, Burst: rng.IntN(200)}
		case 1: // odd nanosecond periods
			l = ratelimit.Limit{Rate: 1 + rng.IntN(50), Period: time.Duration(1 + rng.Int64N(int64(time.Hour))), Burst: rng.IntN(20)}
		default: // huge periods, intervals beyond 2^53 ns
			l = ratelimit.Limit{Rate: 1 + rng.IntN(5), Period: time.Duration(1 + rng.Int64N(int64(ratelimit.MaxPeriod))), Burst: rng.IntN(3)}
		}
		tt, b, ok := params(l)
		if !ok {
			continue
		}
		c := stepCase{name: "random_" + strconv.Itoa(i), now: now, l: l, cost: rng.IntN(int(min(b, 50))+3) - 1}
		capacity := b * tt
		switch rng.IntN(4) {
		case 0:
			c.tat = math.MinInt64
		default:
			c.tat = now - capacity + rng.Int64N(2*capacity+1) + rng.Int64N(3*tt+1) - tt
		}
		cases = append(cases, c)
	}
	return cases
}

// TestStepScriptMatchesStepNano checks that the Lua step takes the same decisions and
// stores the same TAT as ratelimit.StepNano, and that the Quota built from its answer
// is StepNano's, for hand-picked and random steps, including intervals and TATs beyond
// a double's exact range.
func TestStepScriptMatchesStepNano(t *testing.T) {
	c := sharedRedis(t)
	key := testPrefix(t, c) + "{parity}:r:k"
	ctx := context.Background()
	real := time.Now().UnixNano()
	for _, tc := range stepCases(real+int64(time.Hour), 3000) {
		tt, b, ok := params(tc.l)
		if !ok {
			t.Fatalf("%s: invalid limit %+v", tc.name, tc.l)
		}
		if tc.tat == math.MinInt64 {
			c.Del(ctx, key)
		} else {
			c.Set(ctx, key, tc.tat, 0)
		}
		var ct, room int64
		if tc.cost > 0 && int64(tc.cost) <= b {
			ct, room = int64(tc.cost)*tt, b*tt-int64(tc.cost)*tt
		}
		res, err := stepScript.Run(ctx, c, []string{key}, strconv.FormatInt(tc.now, 10), 0, ct, room).Slice()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		st, err := parseStep(res)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		wantTAT, want := ratelimit.StepNano(tc.tat, tc.now, tc.l, tc.cost)
		if st.before != tc.tat || st.now != tc.now {
			t.Errorf("%s: script saw tat %d now %d, want %d %d", tc.name, st.before, st.now, tc.tat, tc.now)
		}
		if st.admitted != (want.Allowed && tc.cost > 0) {
			t.Errorf("%s: admitted %v, StepNano %v (tat %d now %d %+v cost %d)", tc.name, st.admitted, want.Allowed, tc.tat, tc.now, tc.l, tc.cost)
		}
		if st.after != wantTAT {
			t.Errorf("%s: TAT after %d, StepNano %d", tc.name, st.after, wantTAT)
		}
		if _, got := ratelimit.StepNano(st.before, st.now, tc.l, tc.cost); !cmp.Equal(got, want) {
			t.Errorf("%s: result %+v, want %+v", tc.name, got, want)
		}
		if wantTAT != tc.tat && wantTAT > real+int64(time.Second) {
			stored, err := c.Get(ctx, key).Int64()
			if err != nil || stored != wantTAT {
				t.Errorf("%s: stored TAT %d (%v), want %d", tc.name, stored, err, wantTAT)
			}
			if ttl := c.PTTL(ctx, key).Val(); ttl <= 0 {
				t.Errorf("%s: stored TAT has no expiry (PTTL %v)", tc.name, ttl)
			}
		}
	}
}

// TestStepScriptServerClock checks that an empty now makes the script use Redis's
// clock.
func TestStepScriptServerClock(t *testing.T) {
	c := sharedRedis(t)
	key := testPrefix(t, c) + "{clock}:r:k"
	ctx := context.Background()
	before := time.Now().Add(-time.Second).UnixNano()
	res, err := stepScript.Run(ctx, c, []string{key}, "", 0, int64(time.Second), 0).Slice()
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseStep(res)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second).UnixNano()
	if st.now < before || st.now > after || !st.admitted || st.after != st.now+int64(time.Second) {
		t.Errorf("server clock step %+v, want now within [%d, %d], admitted, after = now + 1s", st, before, after)
	}
}

// TestSyncScript checks the sync script's arithmetic against Go: a TAT advances from
// max(TAT, now) by the amount, saturating; a counter adds, never below zero, and
// expires at its window's end.
func TestSyncScript(t *testing.T) {
	c := sharedRedis(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	now := time.Now().Add(time.Hour).UnixNano()
	rateCases := []struct {
		name        string
		tat, amount int64
	}{
		{"absent", math.MinInt64, 5_000_000},
		{"idle", now - 1_000_000_000, 7},
		{"ahead", now + 123_456_789_012, 999_999_999},
		{"carry", now + 999_999_999, 1},
		{"big_amount", now, int64(ratelimit.MaxPeriod)},
		{"saturates", math.MaxInt64 - 3, 1_000_000_000},
	}
	for _, tc := range rateCases {
		key := prefix + "{sync}:r:" + tc.name
		if tc.tat != math.MinInt64 {
			c.Set(ctx, key, tc.tat, 0)
		}
		res, err := syncScript.Run(ctx, c, []string{key}, now, "r", tc.amount, 0).StringSlice()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := addSat(max(tc.tat, now), tc.amount)
		if got, _ := strconv.ParseInt(res[0], 10, 64); got != want {
			t.Errorf("%s: TAT %s, want %d", tc.name, res[0], want)
		}
	}

	end := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	key := prefix + "{sync}:c:x"
	var total int64
	for _, d := range []int64{3, 4, -2, -100, 6} {
		res, err := syncScript.Run(ctx, c, []string{key}, now, "c", d, end.UnixMilli()).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		total = addCount(total, d)
		if res[0] != strconv.FormatInt(total, 10) {
			t.Errorf("after adding %d: count %s, want %d", d, res[0], total)
		}
	}
	if exp := c.PExpireTime(ctx, key).Val(); exp != time.Duration(end.UnixMilli())*time.Millisecond {
		t.Errorf("counter expires at %v, want %v", exp, end.UnixMilli())
	}

	// Several keys of one tag in one call.
	keys := []string{prefix + "{multi}:r:a", prefix + "{multi}:c:b"}
	res, err := syncScript.Run(ctx, c, keys, now, "r", 10, 0, "c", 2, end.UnixMilli()).StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{strconv.FormatInt(now+10, 10), "2"}; !cmp.Equal(res, want) {
		t.Errorf("two keys: %v, want %v", res, want)
	}
}

// TestScriptsReloadAfterFlush checks that a call whose script the server lost
// (SCRIPT FLUSH, a restart) still succeeds.
func TestScriptsReloadAfterFlush(t *testing.T) {
	srv := startServer(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	s, err := New(c, Config{Mode: ModeExact, KeyPrefix: "t:", OpTimeout: 2 * time.Second}) // no fallback from load
	if err != nil {
		t.Fatal(err)
	}
	l := vigil.Limit{Rate: 10, Period: time.Second}
	if _, err := s.Allow(ctx, "k", l, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.Allow(ctx, "k", l, 1); !q.Allowed || q.Remaining != 8 {
		t.Errorf("after SCRIPT FLUSH: %+v, want allowed with 8 remaining", q)
	}
	if st := s.Stats(); st.RemoteSteps != 2 || st.Fallbacks != 0 {
		t.Errorf("stats %+v: want 2 remote steps, no fallback", st)
	}

	// The sync pipeline too.
	lf := runStore(t, c, Config{KeyPrefix: "t:"})
	if _, err := lf.Allow(ctx, "rl:ip:192.0.2.1", l, 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := waitFor(time.Second, func() bool { return lf.Stats().Syncs > 0 }); !ok {
		t.Fatal("no sync within a second")
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	lf.Add(ctx, "strikes:192.0.2.1", 3, time.Hour)
	key := lf.keys.counter("192.0.2.1", windowEnd(time.Now().UnixNano(), int64(time.Hour)), "strikes:192.0.2.1")
	if _, ok := waitFor(time.Second, func() bool { n, _ := c.Get(ctx, key).Int64(); return n == 3 }); !ok {
		t.Errorf("count not synced after SCRIPT FLUSH: %+v", lf.Stats())
	}
	if st := lf.Stats(); st.SyncErrors != 0 || st.Degraded {
		t.Errorf("stats %+v: want no sync error", st)
	}
}
