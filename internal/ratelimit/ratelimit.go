// Package ratelimit is the arithmetic of Vigil's rate limiter: the generic cell rate
// algorithm (GCRA) as a pure function, with no storage and no clock.
//
// The state of one limited key is a single number, its theoretical arrival time (TAT):
// the moment at which the key's allowance would be full again. [Step] takes the stored
// TAT, the current time and a [Limit], and returns the TAT to store and a [Result]. The
// in-memory store calls it directly; a Redis script that mirrors [StepNano]'s integer
// arithmetic gives the same answers for the same inputs.
//
// Times are int64 nanoseconds: [StepNano] takes Unix nanoseconds, and [Step] converts
// [time.Time] values to them. All results saturate at the int64 range (the year 2262)
// instead of wrapping.
//
// Rejected requests are not counted: a denied Step leaves the TAT as it was, so a client
// that retries after [Result.RetryAfter] is admitted.
package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxPeriod bounds [Limit.Period] and the time a full burst takes to drain
// (Burst × Period / Rate). Ten years covers any quota a service sets, and keeps every
// TAT within the int64 nanosecond range until the year 2252.
const MaxPeriod = 10 * 365 * 24 * time.Hour

// Never is [Result.RetryAfter] for a request that no amount of waiting admits: its cost
// exceeds the limit's burst, or the limit is invalid.
const Never = time.Duration(math.MaxInt64)

// Limit is a GCRA rate: Rate requests per Period on average, with up to Burst of them
// at the same instant.
//
// Requests are spaced by the emission interval Period/Rate, rounded down to a whole
// nanosecond. A key that has been idle may send Burst requests at once; after that, one
// more every emission interval. Over any span of time d, at most Burst + ⌊d / interval⌋
// requests are admitted.
//
// The zero value is not a valid limit (see [Limit.Valid]); [Step] denies every request
// under an invalid limit. Limit is a plain value, safe to copy and share.
type Limit struct {
	// Rate is the number of requests allowed per Period. It must be positive and at most
	// one request per nanosecond of Period.
	Rate int
	// Period is the span of time Rate refers to. It must be positive and at most
	// MaxPeriod.
	Period time.Duration
	// Burst is how many requests may arrive at the same instant when the key is idle
	// (the capacity of the bucket). Zero means Rate: the whole period's allowance may
	// arrive at once. It must not be negative.
	Burst int
}

// Valid reports whether l can be used: Rate and Period positive, Period at most
// [MaxPeriod], no more than one request per nanosecond, Burst not negative, and a full
// burst draining within MaxPeriod.
func (l Limit) Valid() error {
	switch {
	case l.Rate <= 0:
		return fmt.Errorf("ratelimit: rate %d is not positive", l.Rate)
	case l.Period <= 0:
		return fmt.Errorf("ratelimit: period %v is not positive", l.Period)
	case l.Period > MaxPeriod:
		return fmt.Errorf("ratelimit: period %v is longer than %v", l.Period, MaxPeriod)
	case int64(l.Rate) > int64(l.Period):
		return fmt.Errorf("ratelimit: rate %d per %v is more than one request per nanosecond", l.Rate, l.Period)
	case l.Burst < 0:
		return fmt.Errorf("ratelimit: burst %d is negative", l.Burst)
	}
	if _, _, ok := l.params(); !ok {
		return errors.New("ratelimit: a full burst takes longer than MaxPeriod to drain")
	}
	return nil
}

// params returns the emission interval t and the effective burst b of a valid limit,
// with b·t ≤ MaxPeriod. ok is false when l is invalid.
func (l Limit) params() (t, b int64, ok bool) {
	if l.Rate <= 0 || l.Period <= 0 || l.Period > MaxPeriod || l.Burst < 0 || int64(l.Rate) > int64(l.Period) {
		return 0, 0, false
	}
	t = int64(l.Period) / int64(l.Rate) // ≥ 1
	b = int64(l.Burst)
	if b == 0 {
		b = int64(l.Rate)
	}
	if b > int64(MaxPeriod)/t {
		return 0, 0, false
	}
	return t, b, true
}

// Scale returns a tighter limit for adaptive limiting: Rate and Burst multiplied by f and
// rounded down, never below 1. The Period stays. A Burst of zero stays zero (it follows
// the scaled Rate).
//
// f is meant to be in (0, 1]. Scale never loosens a limit: f ≥ 1 or NaN returns l
// unchanged, and f ≤ 0 gives the tightest limit, Rate 1. An invalid l is returned
// unchanged. The result of a valid l is valid.
func (l Limit) Scale(f float64) Limit {
	if _, _, ok := l.params(); !ok || !(f < 1) {
		return l
	}
	f = max(f, 0)
	r := l
	// min(…, l.Rate): float64 rounding must not loosen a huge Rate.
	r.Rate = min(l.Rate, max(1, int(float64(l.Rate)*f)))
	if l.Burst > 0 {
		r.Burst = min(l.Burst, max(1, int(float64(l.Burst)*f)))
		// Rounding Rate up to 1 lengthens the emission interval: keep the burst's drain
		// time within MaxPeriod. MaxPeriod/rt ≥ 1 because rt ≤ Period ≤ MaxPeriod.
		rt := int64(r.Period) / int64(r.Rate)
		r.Burst = int(min(int64(r.Burst), int64(MaxPeriod)/rt))
	}
	return r
}

// Result is the outcome of one [Step]. The zero value is a denied result with nothing
// known. It is a plain value, safe to copy and share.
type Result struct {
	// Allowed reports whether the request is admitted.
	Allowed bool
	// Limit is the limit the step was taken under, as passed in.
	Limit Limit
	// Remaining is how many requests of cost 1 are still allowed right now, after this
	// step. It is never negative.
	Remaining int
	// RetryAfter is, when Allowed is false, how long until a request of the same cost
	// would be allowed (for a peek: a request of cost 1). It is Never when the cost
	// exceeds the burst or the limit is invalid. It is 0 when Allowed is true.
	RetryAfter time.Duration
	// ResetAfter is how long until the key's allowance is full again (all Burst
	// requests available), counted from now after this step.
	ResetAfter time.Duration
}

// Step performs one GCRA step for a request of the given cost at now, from the stored
// theoretical arrival time tat. A zero tat, or one not after now, means the key is idle
// (its allowance is full); a store may drop such keys.
//
// Step returns the TAT to store and the result. When the request is denied, newTAT is tat
// unchanged: rejected requests are not counted, so a retrying client recovers.
//
// A cost of zero or less is a peek: nothing changes, and the result says whether a
// request of cost 1 would be allowed now. A cost above the limit's burst can never be
// admitted; Step denies it with RetryAfter [Never]. Under an invalid limit (see
// [Limit.Valid]) Step denies every request with RetryAfter Never and changes nothing, so
// a misconfiguration fails closed.
//
// now and a non-zero tat must be within the years 1678–2262, the range of
// [time.Time.UnixNano].
func Step(tat, now time.Time, l Limit, cost int) (newTAT time.Time, r Result) {
	var tatNs int64 = math.MinInt64
	if !tat.IsZero() {
		tatNs = tat.UnixNano()
	}
	n, r := StepNano(tatNs, now.UnixNano(), l, cost)
	if n == tatNs {
		return tat, r
	}
	return time.Unix(0, n), r
}

// StepNano is [Step] on Unix nanoseconds: tat and now are nanoseconds since the Unix
// epoch, and a tat not after now means the key is idle (pass math.MinInt64 for a key
// never seen; 0 does as well for any now after 1970). It returns the TAT to store, tat
// itself unless a request was admitted.
func StepNano(tat, now int64, l Limit, cost int) (newTAT int64, r Result) {
	r.Limit = l
	t, b, ok := l.params()
	if !ok {
		r.RetryAfter = Never
		return tat, r
	}
	capacity := b * t // ≤ MaxPeriod: no overflow below

	// debt is how far the TAT runs ahead of now: the part of the allowance in use.
	var debt int64
	if tat > now {
		debt = subSat(tat, now)
	}
	peek := cost <= 0
	if peek {
		cost = 1
	}
	c := int64(cost)
	if c > b {
		r.Remaining = int(max(capacity-debt, 0) / t)
		r.ResetAfter = time.Duration(debt)
		r.RetryAfter = Never
		return tat, r
	}
	// Admissible iff debt + c·t ≤ capacity; c ≤ b keeps room ≥ 0 and c·t from overflowing.
	room := capacity - c*t
	if debt > room {
		r.Remaining = int(max(capacity-debt, 0) / t)
		r.ResetAfter = time.Duration(debt)
		r.RetryAfter = time.Duration(debt - room)
		return tat, r
	}
	r.Allowed = true
	if peek {
		r.Remaining = int((capacity - debt) / t)
		r.ResetAfter = time.Duration(debt)
		return tat, r
	}
	debt += c * t // ≤ capacity
	r.Remaining = int((capacity - debt) / t)
	r.ResetAfter = time.Duration(debt)
	return addSat(now, debt), r
}

// subSat returns a−b for a > b, saturating at math.MaxInt64.
func subSat(a, b int64) int64 {
	d := a - b
	if d < 0 { // wrapped: a > b, so the true difference is positive
		return math.MaxInt64
	}
	return d
}

// addSat returns a+d for d ≥ 0, saturating at math.MaxInt64.
func addSat(a, d int64) int64 {
	if a > math.MaxInt64-d {
		return math.MaxInt64
	}
	return a + d
}
