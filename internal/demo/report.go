package demo

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/vigilhq/vigil"
)

// reporter prints the demo's tables and summary as plain lines, so they read the same in
// a terminal, a log file and a test.
type reporter struct {
	w        io.Writer
	verdicts *verdictLog
	printed  int // unexpected outcomes already printed under a table
}

// maxLive bounds the unexpected outcomes printed under one table; maxSummary those in
// the summary.
const (
	maxLive    = 5
	maxSummary = 20
)

// table prints one table of counts and, below it, the unexpected outcomes not printed
// yet. An outcome whose verdict has not been recorded yet waits for the next table,
// unless final is set.
func (r *reporter) table(c Counts, final bool) {
	var b bytes.Buffer
	label := fmt.Sprintf("t=%ds", int(c.Elapsed.Round(time.Second)/time.Second))
	if final {
		label = "end"
	}
	fmt.Fprintf(&b, "%-6s %-10s %-7s %6s %6s %6s %9s %6s %10s\n", label, "class", "expect", "sent", "allow", "block", "ratelimit", "error", "unexpected")
	for _, cc := range c.Classes {
		fmt.Fprintf(&b, "%-6s %-10s %-7s %6d %6d %6d %9d %6d %10d\n", "", cc.Class, cc.Expect, cc.Sent, cc.Allow, cc.Block, cc.RateLimit, cc.Error, cc.Unexpected)
	}
	for shown := 0; r.printed < len(c.Unexpected) && shown < maxLive; shown++ {
		o := c.Unexpected[r.printed]
		v, ok := r.verdicts.lookup(o.RequestID)
		if !ok && o.RequestID != "" && !final {
			break
		}
		fmt.Fprintf(&b, "  ! %s\n", describe(o, v, ok))
		r.printed++
	}
	_, _ = r.w.Write(b.Bytes())
}

// summary prints the closing verdict of the run: all as expected, or which classes went
// wrong and examples with the guard's verdicts.
func (r *reporter) summary(c Counts) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "vigil demo: %d requests in %v.\n", c.Sent(), c.Elapsed.Round(100*time.Millisecond))
	if c.UnexpectedTotal() == 0 {
		f := c.Class(ClassFlood)
		fmt.Fprintf(&b, "vigil demo: every outcome as expected: all benign requests allowed, all attacks blocked, stuffers stopped within the per-IP limit, the flood answered 429 once over its limit (%d of %d flood requests).\n", f.RateLimit, f.Sent)
		_, _ = r.w.Write(b.Bytes())
		return
	}
	fmt.Fprintf(&b, "vigil demo: UNEXPECTED OUTCOMES: %d\n", c.UnexpectedTotal())
	for _, cc := range c.Classes {
		if cc.Unexpected == 0 {
			continue
		}
		switch cc.Expect {
		case ExpectAllow:
			fmt.Fprintf(&b, "  %s: %d of %d benign requests were not allowed\n", cc.Class, cc.Unexpected, cc.Sent)
		case ExpectBlock:
			fmt.Fprintf(&b, "  %s: %d of %d attacks were not blocked\n", cc.Class, cc.Unexpected, cc.Sent)
		case ExpectStopped:
			fmt.Fprintf(&b, "  %s: %d of %d attempts got through after the per-IP limit, or failed\n", cc.Class, cc.Unexpected, cc.Sent)
		case ExpectWatch:
			fmt.Fprintf(&b, "  %s: %d of %d requests were neither allowed nor blocked\n", cc.Class, cc.Unexpected, cc.Sent)
		default:
			fmt.Fprintf(&b, "  %s: %d of %d requests were neither within the rate limit nor answered 429\n", cc.Class, cc.Unexpected, cc.Sent)
		}
	}
	for i, o := range c.Unexpected {
		if i == maxSummary {
			fmt.Fprintf(&b, "  … and %d more\n", c.UnexpectedTotal()-maxSummary)
			break
		}
		v, ok := r.verdicts.lookup(o.RequestID)
		fmt.Fprintf(&b, "  ! %s\n", describe(o, v, ok))
	}
	_, _ = r.w.Write(b.Bytes())
}

// describe returns one line about an unexpected outcome and, when known, the guard's
// verdict for it.
func describe(o Outcome, v vigil.Verdict, known bool) string {
	s := fmt.Sprintf("%s %s %s (%s) from %s: expected %s, got %s", o.Class, o.Method, o.Target, o.What, o.ClientIP, o.Expected, o.Got)
	if o.Status != 0 {
		s += fmt.Sprintf(" %d", o.Status)
	}
	if o.Err != "" {
		s += ": " + o.Err
	}
	if o.RequestID != "" {
		s += ", request " + o.RequestID
	}
	if known {
		s += "; verdict: " + explain(v)
	}
	return s
}
