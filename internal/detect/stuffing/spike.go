package stuffing

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The site-wide counters: one per minute bucket (cs:g:m:<minute since the epoch>) and
// one per clock hour (cs:g:h:<hour since the epoch>), each holding failures and
// attempts packed into one int64 (see pack), so that one store call moves both.
const (
	spikeBucket    = time.Minute
	baselineBucket = time.Hour
	bucketsPerBase = int64(baselineBucket / spikeBucket)

	// refreshEvery is how long a process uses the site-wide counts it read.
	refreshEvery = time.Second
	// staleAfter is how old the counts may grow, when refreshes fail, before the site
	// is taken to be calm (fail open).
	staleAfter = 2 * spikeBucket
)

// Monitor watches the site-wide login failure rate: a distributed attack from
// thousands of IPs, each under its own limits, shows as a jump in the failures of the
// whole site. It counts failures and attempts in one-minute buckets of the shared
// Counter, so the rate spans every instance that shares the store, and compares the
// last minute (the current bucket plus the part of the previous one that the last 60 s
// still cover) with a baseline: the failures per minute of the previous clock hour.
//
// The site is in a spike when the last minute's failures reach both
// Limits.SpikeFailures and Limits.SpikeFactor times the baseline, and the failure
// ratio rose too: it must reach 1.5 times the baseline's ratio or half-way from it to
// 1, whichever is less. A jump of failures that comes with a proportional jump of
// attempts (a flash crowd after a newsletter) is therefore not a spike; an attack whose
// attempts all fail passes the ratio test whenever it passes a SpikeFactor of 5. With
// no baseline yet (an empty store) SpikeFailures alone decides.
//
// A minute spent in a spike enters the hourly baseline at the baseline's own rate, not
// at the attack's, so an attack that lasts for hours is not learnt as normal; a rise
// that is not a spike (a flash crowd) is learnt within two hours.
//
// Costs: Failed and Check count in process memory; the counts are flushed to the store,
// and the site-wide counts read back, by one Check a second per process (the others
// use the counts already read and never wait for it): two store calls, four in the
// first refresh of a minute. A count is flushed into the bucket of the refresh that
// flushes it, so the last second of a minute may count in the next. A spike is seen
// within about a second of the failures that make it (plus the store's sync delay), and it ends by the end of the
// minute after the one the failures dropped in.
//
// The zero value is ready to use. A Monitor is safe for concurrent use and must not
// be copied after first use. A nil *Monitor watches nothing: its methods are the
// package's Check and Failed.
type Monitor struct {
	now func() time.Time // nil means time.Now; tests set it

	pendingF, pendingA atomic.Int64              // counted here, not yet flushed
	state              atomic.Pointer[siteState] // the last counts read; nil before the first

	mu      sync.Mutex // held by the one goroutine refreshing; guards the fields below
	started bool
	minute  int64  // the minute bucket that mine and total belong to
	mine    counts // this process's additions to that bucket
	total   counts // the bucket's site-wide count at the last refresh
}

// siteState is one reading of the site-wide counters. It is never changed once
// published.
type siteState struct {
	next   time.Time // when to refresh
	at     time.Time // when rate and base were read; zero if never
	rate   counts    // the last minute's failures and attempts
	base   counts    // the baseline hour's
	detail string
}

// counts are failures and attempts.
type counts struct{ f, a int64 }

// pack puts c in one counter value: failures in the high 31 bits, attempts in the low
// 32. Counters add, so packed values add field by field as long as a bucket holds fewer
// than 2³² attempts.
func pack(c counts) int64 {
	return min(max(c.f, 0), math.MaxInt32)<<32 | min(max(c.a, 0), math.MaxUint32)
}

func unpack(v int64) counts { return counts{f: v >> 32, a: v & math.MaxUint32} }

// keepWindow returns the store window for the counter of bucket n, of length unit:
// the shortest multiple of unit, at least two, whose window (stores align fixed windows
// to multiples of their length since the Unix epoch) holds bucket n+1 as well as n, so
// that the count can still be read through the next bucket.
func keepWindow(n int64, unit time.Duration) time.Duration {
	m := int64(2)
	for (n+1)%m == 0 && m < 64 {
		m++
	}
	return time.Duration(m) * unit
}

func minuteKey(n int64) string { return "cs:g:m:" + strconv.FormatInt(n, 10) }
func hourKey(n int64) string   { return "cs:g:h:" + strconv.FormatInt(n, 10) }

// Check is the package's Check, with the site-wide rate: it counts the attempt, and
// while the site is in a spike it tightens l (see Limits.SpikeDivisor) and adds a
// login_failure_spike finding. The Verdict is complete even when the error is from
// reading the site-wide counts (the counts read before are used meanwhile).
func (m *Monitor) Check(ctx context.Context, c Counter, l Limits, a Attempt) (Verdict, error) {
	if m == nil {
		return Check(ctx, c, l, a)
	}
	m.pendingA.Add(1)
	now := m.clock()
	st, serr := m.site(ctx, c, l, now)
	spike := st.spike(l, now)
	if spike {
		l = l.tightened()
	}
	v, err := Check(ctx, c, l, a)
	if spike {
		v.Spike = true
		v.Findings = append(v.Findings, finding(CodeSpike, scoreSpike, st.detail))
	}
	if err != nil {
		return v, err
	}
	return v, serr
}

// Failed is the package's Failed, and counts the failure in the site-wide rate (in
// process memory: it adds no store call).
func (m *Monitor) Failed(ctx context.Context, c Counter, l Limits, a Attempt) error {
	if m != nil {
		m.pendingF.Add(1)
	}
	return Failed(ctx, c, l, a)
}

func (m *Monitor) clock() time.Time {
	if m.now == nil {
		return time.Now()
	}
	return m.now()
}

// site returns the site-wide counts, refreshing them when they are due and no other
// goroutine is already at it.
func (m *Monitor) site(ctx context.Context, c Counter, l Limits, now time.Time) (*siteState, error) {
	st := m.state.Load()
	if st != nil && now.Before(st.next) || !m.mu.TryLock() {
		return st, nil
	}
	defer m.mu.Unlock()
	if st = m.state.Load(); st != nil && now.Before(st.next) { // refreshed meanwhile
		return st, nil
	}
	next, err := m.refresh(ctx, c, l, now, st)
	if err != nil {
		next = &siteState{}
		if st != nil {
			*next = *st
		}
		next.next = now.Add(refreshEvery)
		err = fmt.Errorf("site-wide login counts: %w", err)
	}
	m.state.Store(next)
	return next, err
}

// refresh flushes the counts made here and reads the site-wide ones. prev is the state
// read before (nil at first). m.mu is held.
func (m *Monitor) refresh(ctx context.Context, c Counter, l Limits, now time.Time, prev *siteState) (*siteState, error) {
	n := now.UnixNano() / int64(spikeBucket)
	hour := n / bucketsPerBase
	add := counts{f: m.pendingF.Swap(0), a: m.pendingA.Swap(0)}
	st := &siteState{next: now.Add(refreshEvery), at: now}
	if prev != nil {
		st.base = prev.base
	}
	if !m.started || n != m.minute {
		if m.started {
			if err := m.closeMinute(ctx, c, l, hour, prev); err != nil {
				m.pendingF.Add(add.f)
				m.pendingA.Add(add.a)
				return nil, err
			}
		}
		m.started, m.minute, m.mine, m.total = true, n, counts{}, counts{}
		v, err := c.Add(ctx, hourKey(hour-1), 0, keepWindow(hour-1, baselineBucket))
		if err != nil {
			m.pendingF.Add(add.f)
			m.pendingA.Add(add.a)
			return nil, err
		}
		st.base = unpack(v)
	}
	v, err := c.Add(ctx, minuteKey(n), pack(add), keepWindow(n, spikeBucket))
	if err != nil {
		m.pendingF.Add(add.f)
		m.pendingA.Add(add.a)
		return nil, err
	}
	m.mine.f, m.mine.a, m.total = m.mine.f+add.f, m.mine.a+add.a, unpack(v)
	last, err := c.Add(ctx, minuteKey(n-1), 0, keepWindow(n-1, spikeBucket))
	if err != nil {
		return nil, err
	}
	// The last 60 s: this bucket, and the part of the previous one they still cover.
	rest := 1 - float64(now.UnixNano()-n*int64(spikeBucket))/float64(spikeBucket)
	p := unpack(last)
	st.rate = counts{
		f: m.total.f + int64(math.Round(float64(p.f)*rest)),
		a: m.total.a + int64(math.Round(float64(p.a)*rest)),
	}
	st.detail = strconv.FormatInt(st.rate.f, 10) + " failed logins site-wide in the last minute, against " +
		strconv.FormatFloat(float64(st.base.f)/float64(bucketsPerBase), 'f', 1, 64) + " a minute in the previous hour"
	return st, nil
}

// closeMinute adds this process's counts of the minute bucket m.minute, which is
// over, to its hour's baseline counter. A minute that ended in a spike enters at the
// baseline's rate: every process scales its share by baseline / site-wide total, so
// that the shares add up to the baseline. Counts older than the previous hour are
// dropped: nobody reads them any more. hour is the current hour; prev the last state.
func (m *Monitor) closeMinute(ctx context.Context, c Counter, l Limits, hour int64, prev *siteState) error {
	h := m.minute / bucketsPerBase
	if h < hour-1 || m.mine == (counts{}) {
		return nil
	}
	share := m.mine
	if prev != nil && spikeOf(l, prev.rate, prev.base) {
		scale := func(mine, total, base int64) int64 {
			if total <= 0 {
				return 0
			}
			perMinute := float64(base) / float64(bucketsPerBase)
			return min(mine, int64(math.Round(float64(mine)*perMinute/float64(total))))
		}
		share = counts{f: scale(m.mine.f, m.total.f, prev.base.f), a: scale(m.mine.a, m.total.a, prev.base.a)}
	}
	if share == (counts{}) {
		return nil
	}
	_, err := c.Add(ctx, hourKey(h), pack(share), keepWindow(h, baselineBucket))
	return err
}

// spike reports whether s shows a spike under l at now. Counts that could not be
// refreshed for staleAfter show none.
func (s *siteState) spike(l Limits, now time.Time) bool {
	return s != nil && !s.at.IsZero() && now.Sub(s.at) < staleAfter && spikeOf(l, s.rate, s.base)
}

// spikeOf reports whether the last minute's counts rate are a spike against the
// baseline hour's base (see Monitor).
func spikeOf(l Limits, rate, base counts) bool {
	floor := int64(orDefault(l.SpikeFailures, DefaultSpikeFailures))
	k := int64(orDefault(l.SpikeFactor, DefaultSpikeFactor))
	if rate.f < floor || rate.f*bucketsPerBase < k*base.f {
		return false
	}
	if base.a == 0 || rate.a == 0 {
		return true // no attempts to compare: failures alone decide
	}
	r0 := min(float64(base.f)/float64(base.a), 1)
	r := min(float64(rate.f)/float64(rate.a), 1)
	return r >= min(1.5*r0, (1+r0)/2)
}
