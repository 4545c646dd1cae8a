package wire

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/vigilhq/vigil"
)

// Interval aggregates the guard's events over [Start, End). The agent fills one with
// Count and starts a new one at every interval boundary; metrics are never sent per
// request. There are no per-path counters: paths are unbounded and chosen by clients
// (a scanner probes thousands), so Studio gets paths from events.
//
// The zero value (with Start and End set) is an empty interval; Count creates the maps
// and the histogram as needed. An Interval is not safe for concurrent use.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Requests counts "request" events by action.
	Requests map[string]int64 `json:"requests,omitempty"`
	// WouldBe counts "request" events by the policy's decision. It differs from
	// Requests only in monitor mode.
	WouldBe map[string]int64 `json:"would_be,omitempty"`
	// BlockedByCode counts, for each signal code, the requests the policy did not
	// allow (would_be other than "allow") that carried it; a request counts once per
	// code. At most MaxCounterKeys codes: Count adds the rest under "other".
	BlockedByCode map[string]int64 `json:"blocked_by_code,omitempty"`
	// Status counts responses by class: "1xx" … "5xx"; requests without a response
	// are not counted.
	Status map[string]int64 `json:"status,omitempty"`
	// Bans counts "ban" events, Errors "error" events and FailedOpen the errors that
	// let their request through.
	Bans       int64 `json:"bans,omitempty"`
	Errors     int64 `json:"errors,omitempty"`
	FailedOpen int64 `json:"failed_open,omitempty"`
	// Latency is the histogram of the "request" events' latency.
	Latency *Histogram `json:"latency,omitempty"`
}

// Histogram counts observations into buckets: Counts[i] counts values v with
// BoundsMS[i-1] < v ≤ BoundsMS[i], and the last count those above the last bound.
// len(Counts) is len(BoundsMS)+1.
type Histogram struct {
	BoundsMS []float64 `json:"bounds_ms"`
	Counts   []int64   `json:"counts"`
	// SumMS is the sum of the observed values.
	SumMS float64 `json:"sum_ms"`
}

// LatencyBoundsMS are the latency histogram bounds Count uses, in milliseconds.
// Readers must use the bounds sent with each histogram, not these.
var LatencyBoundsMS = []float64{1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}

// NewHistogram returns an empty histogram over a copy of bounds.
func NewHistogram(boundsMS []float64) *Histogram {
	return &Histogram{BoundsMS: slices.Clone(boundsMS), Counts: make([]int64, len(boundsMS)+1)}
}

// Observe adds one value.
func (h *Histogram) Observe(ms float64) {
	i, _ := slices.BinarySearch(h.BoundsMS, ms)
	h.Counts[i]++
	h.SumMS += ms
}

// Count adds e to the interval. It does not look at e.Time: the caller decides which
// interval an event belongs to.
func (m *Interval) Count(e *vigil.Event) {
	switch e.Kind {
	case vigil.EventBan:
		m.Bans++
		return
	case vigil.EventError:
		m.Errors++
		if e.FailedOpen {
			m.FailedOpen++
		}
		return
	case vigil.EventRequest:
	default:
		return
	}
	v := &e.Verdict
	incr(&m.Requests, string(v.Action))
	incr(&m.WouldBe, string(v.WouldBe))
	if v.WouldBe != vigil.ActionAllow {
		for i, s := range v.Signals {
			if !seenBefore(v.Signals[:i], s.Code) {
				incr(&m.BlockedByCode, s.Code)
			}
		}
	}
	if e.Status >= 100 && e.Status <= 599 {
		incr(&m.Status, statusClasses[e.Status/100-1])
	}
	if m.Latency == nil {
		m.Latency = NewHistogram(LatencyBoundsMS)
	}
	m.Latency.Observe(float64(e.Latency) / float64(time.Millisecond))
}

var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func seenBefore(s []vigil.Signal, code string) bool {
	for _, x := range s {
		if x.Code == code {
			return true
		}
	}
	return false
}

// incr adds one to (*m)[key], creating the map, and counts keys beyond the map's
// bound under "other". An empty key counts as "none".
func incr(m *map[string]int64, key string) {
	if *m == nil {
		*m = make(map[string]int64)
	}
	if key == "" {
		key = "none"
	}
	if len(key) > 128 {
		key = "other"
	}
	if _, ok := (*m)[key]; !ok && len(*m) >= MaxCounterKeys-1 && key != "other" {
		key = "other"
	}
	(*m)[key]++
}

func (m *Interval) validate(prefix string) error {
	if err := validTime(prefix+"start", m.Start, true); err != nil {
		return err
	}
	if err := validTime(prefix+"end", m.End, true); err != nil {
		return err
	}
	if !m.End.After(m.Start) {
		return fieldErr(prefix+"end", "not after start")
	}
	if m.End.Sub(m.Start) > 24*time.Hour {
		return fieldErr(prefix+"end", "more than 24 hours after start")
	}
	for _, c := range [...]struct {
		name string
		m    map[string]int64
	}{{"requests", m.Requests}, {"would_be", m.WouldBe}, {"blocked_by_code", m.BlockedByCode}, {"status", m.Status}} {
		if err := validCounters(prefix+c.name, c.m); err != nil {
			return err
		}
	}
	for _, c := range [...]struct {
		name string
		n    int64
	}{{"bans", m.Bans}, {"errors", m.Errors}, {"failed_open", m.FailedOpen}} {
		if c.n < 0 {
			return fieldErr(prefix+c.name, "%d is negative", c.n)
		}
	}
	if h := m.Latency; h != nil {
		p := prefix + "latency."
		if len(h.BoundsMS) > MaxBuckets {
			return fieldErr(p+"bounds_ms", "%d bounds, more than %d", len(h.BoundsMS), MaxBuckets)
		}
		for i, b := range h.BoundsMS {
			if !(b > 0) || math.IsInf(b, 0) || (i > 0 && b <= h.BoundsMS[i-1]) {
				return fieldErr(fmt.Sprintf("%sbounds_ms[%d]", p, i), "bounds must be positive and increasing")
			}
		}
		if len(h.Counts) != len(h.BoundsMS)+1 {
			return fieldErr(p+"counts", "%d counts for %d bounds, want %d", len(h.Counts), len(h.BoundsMS), len(h.BoundsMS)+1)
		}
		for i, n := range h.Counts {
			if n < 0 {
				return fieldErr(fmt.Sprintf("%scounts[%d]", p, i), "%d is negative", n)
			}
		}
		if h.SumMS < 0 || math.IsNaN(h.SumMS) || math.IsInf(h.SumMS, 0) {
			return fieldErr(p+"sum_ms", "%v is not a sum of durations", h.SumMS)
		}
	}
	return nil
}
