package agent

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil"
)

// latencyBounds are the upper bounds of the latency histogram's buckets, in
// microseconds; a last bucket holds everything slower.
var latencyBounds = [...]uint64{100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000}

// actionIndex numbers the actions for the meter's arrays.
func actionIndex(a vigil.Action) int {
	switch a {
	case vigil.ActionAllow:
		return 0
	case vigil.ActionBlock:
		return 1
	case vigil.ActionChallenge:
		return 2
	case vigil.ActionRateLimit:
		return 3
	}
	return 4
}

var actionNames = [...]string{"allow", "block", "challenge", "ratelimit", "other"}

// meter aggregates every recorded event into per-interval counters with atomic adds,
// so metrics cost Record a few nanoseconds and the wire one batch per interval instead
// of one object per request. It counts events the ring later drops too: metrics are
// complete even when events are not.
type meter struct {
	requests   [len(actionNames)]atomic.Uint64 // by action taken
	wouldBe    [len(actionNames)]atomic.Uint64 // by the action the guard decided (monitor mode differs)
	status     [6]atomic.Uint64                // no response, 1xx … 5xx
	latency    [len(latencyBounds) + 1]atomic.Uint64
	latencySum atomic.Uint64 // microseconds
	bans       atomic.Uint64
	errors     atomic.Uint64
	failedOpen atomic.Uint64

	// mu orders take against totals, so that a scrape never sees a count that moved
	// out of the live counters but not yet into total.
	mu    sync.Mutex
	total counts // what every finished interval counted
}

// counts is a plain copy of a meter's counters.
type counts struct {
	requests, wouldBe        [len(actionNames)]uint64
	status                   [6]uint64
	latency                  [len(latencyBounds) + 1]uint64
	latencySum               uint64
	bans, errors, failedOpen uint64
}

// totals returns everything counted since the meter was made.
func (m *meter) totals() counts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.total
	for i := range c.requests {
		c.requests[i] += m.requests[i].Load()
		c.wouldBe[i] += m.wouldBe[i].Load()
	}
	for i := range c.status {
		c.status[i] += m.status[i].Load()
	}
	for i := range c.latency {
		c.latency[i] += m.latency[i].Load()
	}
	c.latencySum += m.latencySum.Load()
	c.bans += m.bans.Load()
	c.errors += m.errors.Load()
	c.failedOpen += m.failedOpen.Load()
	return c
}

// record counts one event.
func (m *meter) record(e *vigil.Event) {
	switch e.Kind {
	case vigil.EventBan:
		m.bans.Add(1)
		return
	case vigil.EventError:
		m.errors.Add(1)
		if e.FailedOpen {
			m.failedOpen.Add(1)
		}
		return
	}
	m.requests[actionIndex(e.Verdict.Action)].Add(1)
	m.wouldBe[actionIndex(e.Verdict.WouldBe)].Add(1)
	s := e.Status / 100
	if s < 1 || s > 5 {
		s = 0
	}
	m.status[s].Add(1)
	us := uint64(max(e.Latency, 0) / time.Microsecond)
	i := 0
	for i < len(latencyBounds) && us > latencyBounds[i] {
		i++
	}
	m.latency[i].Add(1)
	m.latencySum.Add(us)
}

// Metrics are the aggregates of one interval.
type Metrics struct {
	Start, End time.Time
	// Requests and WouldBe count requests by action ("allow", "block", "challenge",
	// "ratelimit"): the action taken, and the action decided (they differ in monitor
	// mode).
	Requests, WouldBe map[string]uint64
	// Status counts responses by class: "none" (no response written), "1xx" … "5xx".
	Status map[string]uint64
	// LatencyBounds are the histogram's bucket upper bounds in microseconds; Latency
	// has one more count, for slower requests. LatencySum is in microseconds.
	LatencyBounds []uint64
	Latency       []uint64
	LatencySum    uint64
	// Bans, Errors and FailedOpen count ban and error events.
	Bans, Errors, FailedOpen uint64
	// Reasons counts the signal codes of the requests that were not allowed (or would
	// not have been), among the events that reached the sender.
	Reasons map[string]uint64
}

// take returns the counts since the last take and starts a new interval.
func (m *meter) take(start, end time.Time) Metrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &m.total
	out := Metrics{Start: start, End: end, Requests: map[string]uint64{}, WouldBe: map[string]uint64{},
		Status: map[string]uint64{}, LatencyBounds: latencyBounds[:], Latency: make([]uint64, len(m.latency))}
	for i := range m.requests {
		if n := m.requests[i].Swap(0); n > 0 {
			out.Requests[actionNames[i]] = n
			t.requests[i] += n
		}
		if n := m.wouldBe[i].Swap(0); n > 0 {
			out.WouldBe[actionNames[i]] = n
			t.wouldBe[i] += n
		}
	}
	for i := range m.status {
		if n := m.status[i].Swap(0); n > 0 {
			t.status[i] += n
			name := "none"
			if i > 0 {
				name = string(rune('0'+i)) + "xx"
			}
			out.Status[name] = n
		}
	}
	for i := range m.latency {
		out.Latency[i] = m.latency[i].Swap(0)
		t.latency[i] += out.Latency[i]
	}
	out.LatencySum = m.latencySum.Swap(0)
	out.Bans, out.Errors, out.FailedOpen = m.bans.Swap(0), m.errors.Swap(0), m.failedOpen.Swap(0)
	t.latencySum += out.LatencySum
	t.bans += out.Bans
	t.errors += out.Errors
	t.failedOpen += out.FailedOpen
	return out
}
