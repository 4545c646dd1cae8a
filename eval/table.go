package main

import (
	"fmt"
	"strconv"
	"strings"
)

// Rate is Hit of N rows.
type Rate struct{ Hit, N int }

// Pct is the rate in percent; 0 when N is 0.
func (r Rate) Pct() float64 {
	if r.N == 0 {
		return 0
	}
	return 100 * float64(r.Hit) / float64(r.N)
}

// String is "97.3 %" with one decimal, "—" when there are no rows. A rate that is
// not zero but below 1 % gets the decimals it needs to show (0.02 %), so that a few
// false positives in many rows never read as none.
func (r Rate) String() string {
	if r.N == 0 {
		return "—"
	}
	p, dec := r.Pct(), 1
	if r.Hit > 0 && p < 1 {
		// Two decimals, or three when two would round to zero.
		dec = 2
		if p < 0.005 {
			dec = 3
		}
	}
	return strconv.FormatFloat(p, 'f', dec, 64) + " %"
}

// add counts one row.
func (r *Rate) add(hit bool) {
	r.N++
	if hit {
		r.Hit++
	}
}

// Better says which way a line's rate is better.
type Better int

const (
	// Neither: the line is shown but not compared (for example a wordlist of
	// ordinary directory names, neither attacks nor clearly benign).
	Neither Better = iota
	// Higher: a detection rate.
	Higher
	// Lower: a false-positive rate.
	Lower
)

// Line is one row of a report table: a group of data rows, how many, and a rate per
// column. A nil cell is shown as "—": the detector does not apply or has no opinion.
type Line struct {
	Name   string
	N      int
	Cells  []*Rate
	Better Better
	// Headline puts the line in the report's summary.
	Headline bool
}

// Table is one table of the report. Its Vigil and Peer columns are compared line by
// line; Peer < 0 means there is no peer column.
type Table struct {
	// Key names the table in charts and the per-row JSONL ("crs-family").
	Key string
	// Title is the table's heading; Group the report section it belongs to.
	Title, Group string
	// Note is a paragraph shown above the table (markdown).
	Note string
	// Cols are the rate columns' headings.
	Cols []string
	// Vigil and Peer index the columns compared.
	Vigil, Peer int
	Lines       []Line
}

// headline marks the named lines as headlines.
func (t *Table) headline(names ...string) *Table {
	for i := range t.Lines {
		for _, n := range names {
			if t.Lines[i].Name == n {
				t.Lines[i].Headline = true
			}
		}
	}
	return t
}

// Loss is a line on which the peer does better than Vigil.
type Loss struct {
	Table       *Table
	Line        *Line
	Vigil, Peer Rate
}

// Losses returns the lines of t on which the peer beats Vigil: catches more rows of a
// Higher line, or fewer of a Lower line. Lines without both cells, or of Neither, are
// not compared.
func (t *Table) Losses() []Loss {
	if t.Peer < 0 {
		return nil
	}
	var out []Loss
	for i := range t.Lines {
		l := &t.Lines[i]
		v, p := l.Cells[t.Vigil], l.Cells[t.Peer]
		if v == nil || p == nil {
			continue
		}
		if l.Better == Higher && p.Hit > v.Hit || l.Better == Lower && p.Hit < v.Hit {
			out = append(out, Loss{Table: t, Line: l, Vigil: *v, Peer: *p})
		}
	}
	return out
}

// Sentence says what the loss is, with the numbers.
func (l Loss) Sentence() string {
	diff := l.Peer.Hit - l.Vigil.Hit
	points := l.Peer.Pct() - l.Vigil.Pct()
	what := fmt.Sprintf("Vigil catches %s fewer (%.1f points less)", count(diff), points)
	if l.Line.Better == Lower {
		what = fmt.Sprintf("Vigil flags %s more (%.1f points more)", count(-diff), -points)
	}
	return fmt.Sprintf("**%s — %s** (n = %s): Coraza + CRS %s, Vigil %s; %s.",
		l.Table.Title, l.Line.Name, count(l.Line.N), l.Peer, l.Vigil, what)
}

// count writes n with thousands separators: 12,345.
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
