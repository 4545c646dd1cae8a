package main

import (
	"fmt"
	"strings"
	"time"
)

// verdicts says, for every comparison whose two rows were measured, where the peer
// beats Vigil and where Vigil is ahead: throughput (the median ratio to the shared
// baseline), median p50 and median p99 latency. A loss comes first and in bold, so
// the report cannot bury it.
func verdicts(rows []row) []string {
	var out []string
	for _, c := range comparisons {
		v, okV := rowByName(rows, c.Vigil)
		p, okP := rowByName(rows, c.Peer)
		if !okV || !okP || v.Rounds == 0 || p.Rounds == 0 {
			continue
		}
		out = append(out, verdict(v, p, c.Note))
	}
	return out
}

// verdict is the sentence for one comparison of Vigil row v with peer row p.
func verdict(v, p row, note string) string {
	var lost, won []string
	tput, peerFaster := throughputPhrase(v, p)
	if peerFaster {
		lost = append(lost, tput)
	} else {
		won = append(won, tput)
	}
	var level []string
	for _, l := range []struct {
		name        string
		vigil, peer time.Duration
	}{
		{"p50 latency", v.P50, p.P50},
		{"p99 latency", v.P99, p.P99},
	} {
		switch vs, ps := fmtDur(l.vigil), fmtDur(l.peer); {
		case vs == ps: // equal as printed: no winner to name
			level = append(level, fmt.Sprintf("%s (%s)", l.name, vs))
		case l.peer < l.vigil:
			lost = append(lost, fmt.Sprintf("%s (%s against %s)", l.name, ps, vs))
		default:
			won = append(won, fmt.Sprintf("%s (%s against %s)", l.name, vs, ps))
		}
	}
	var b strings.Builder
	switch {
	case len(lost) > 0:
		fmt.Fprintf(&b, "**%s beats %s** on %s.", p.Label, v.Label, join(lost))
		if len(won) > 0 {
			fmt.Fprintf(&b, " %s is ahead on %s.", v.Label, join(won))
		}
	case len(won) > 0:
		fmt.Fprintf(&b, "%s is ahead of %s on %s.", v.Label, p.Label, join(won))
	}
	if len(level) > 0 {
		fmt.Fprintf(&b, " The two are level on %s.", join(level))
	}
	if note != "" {
		fmt.Fprintf(&b, " (%s.)", note)
	}
	return b.String()
}

// throughputPhrase compares the throughput of v and p, with the winner's number
// first, and reports whether p is the faster. Rows with the same baseline are compared
// by their median ratio to it, others by median req/s. When the rounds' ratios of the
// two overlap, the phrase says the difference may be noise.
func throughputPhrase(v, p row) (string, bool) {
	if v.HasRatio && p.HasRatio && v.Baseline == p.Baseline {
		base := v.Baseline
		if b, ok := configByName(base); ok {
			base = b.Label
		}
		peerFaster := p.Ratio > v.Ratio
		hi, lo := v.Ratio, p.Ratio
		if peerFaster {
			hi, lo = lo, hi
		}
		s := fmt.Sprintf("throughput (%.3f against %.3f of the req/s of %s", hi, lo, base)
		if v.Rounds > 1 && p.Rounds > 1 && p.RatioMin <= v.RatioMax && v.RatioMin <= p.RatioMax {
			s += "; the rounds overlap, so the difference may be noise"
		}
		return s + ")", peerFaster
	}
	peerFaster := p.RPS > v.RPS
	hi, lo := v.RPS, p.RPS
	if peerFaster {
		hi, lo = lo, hi
	}
	return fmt.Sprintf("throughput (%.0f against %.0f req/s)", hi, lo), peerFaster
}

// join lists phrases as "a", "a and b", "a, b and c".
func join(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
