package main

import (
	"slices"
	"time"
)

// sample is one measured round of one configuration.
type sample struct {
	Round  int // from 1
	Config string
	Result wrkResult
	// Err is why the round does not count (non-2xx responses, no wrk output, a server
	// that did not start); empty for a valid round.
	Err string
}

// row is a configuration's summary over its valid rounds.
type row struct {
	config
	Rounds   int     // valid rounds
	RPS      float64 // median req/s
	P50, P99 time.Duration
	// Ratio is the median over rounds of this row's req/s divided by its baseline's in
	// the same round; RatioMin and RatioMax are the extremes. HasRatio is false for a
	// baseline and for a row with no round whose baseline round was valid too.
	Ratio, RatioMin, RatioMax float64
	HasRatio                  bool
	SocketErrors              int64    // over valid rounds
	Problems                  []string // why rounds were left out
}

// summarise turns samples into one row per configuration, in the order of cs.
func summarise(cs []config, samples []sample) []row {
	valid := map[string]map[int]wrkResult{} // config → round → result
	for _, s := range samples {
		if s.Err != "" {
			continue
		}
		if valid[s.Config] == nil {
			valid[s.Config] = map[int]wrkResult{}
		}
		valid[s.Config][s.Round] = s.Result
	}
	var rows []row
	for _, c := range cs {
		r := row{config: c}
		var rps, ratios []float64
		var p50, p99 []time.Duration
		for _, s := range samples {
			if s.Config != c.Name {
				continue
			}
			if s.Err != "" {
				r.Problems = append(r.Problems, s.Err)
				continue
			}
			r.Rounds++
			rps = append(rps, s.Result.RPS)
			p50 = append(p50, s.Result.P50)
			p99 = append(p99, s.Result.P99)
			r.SocketErrors += s.Result.SocketErrors
			if base, ok := valid[c.Baseline][s.Round]; ok && c.Baseline != "" && base.RPS > 0 {
				ratios = append(ratios, s.Result.RPS/base.RPS)
			}
		}
		r.RPS = median(rps)
		r.P50 = time.Duration(median(durations(p50)))
		r.P99 = time.Duration(median(durations(p99)))
		if len(ratios) > 0 {
			r.HasRatio = true
			r.Ratio = median(ratios)
			r.RatioMin = slices.Min(ratios)
			r.RatioMax = slices.Max(ratios)
		}
		rows = append(rows, r)
	}
	return rows
}

// median returns the middle value of xs, the mean of the two middle ones for an even
// count, and 0 for none. It does not change xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func durations(ds []time.Duration) []float64 {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return xs
}

// rowByName finds a row.
func rowByName(rows []row, name string) (row, bool) {
	for _, r := range rows {
		if r.Name == name {
			return r, true
		}
	}
	return row{}, false
}
