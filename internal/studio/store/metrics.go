package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/internal/wire"
)

// MaxIntervalSpan is the longest metric interval IngestMetrics accepts (wire's own
// limit). MetricSums relies on it: an interval that overlaps [since, until) starts
// after since-MaxIntervalSpan, so the query reads one range of metric_intervals_time.
const MaxIntervalSpan = 24 * time.Hour

// metricRowsPerInsert is how many intervals one INSERT carries: 5 parameters each,
// far below both engines' parameter limits.
const metricRowsPerInsert = 200

// IngestMetrics stores a native metric batch for the project, once per batch ID, like
// IngestEvents: the batch's row in ingested_metric_batches and its intervals are one
// transaction, so a retried or racing copy stores nothing. It reports how many
// intervals the batch has and whether it was stored already, in which case accepted
// is the count stored the first time. An empty batch ID stores the intervals without
// deduplication. Each interval is kept whole (its JSON) in metric_intervals.
//
// The caller has validated b (wire.DecodeMetrics does); IngestMetrics checks only
// what the store relies on: the batch ID's length and that every interval has a start
// and an end after it, at most MaxIntervalSpan later. A batch that fails is refused
// whole with an error wrapping ErrInvalid.
func (s *Store) IngestMetrics(ctx context.Context, project int64, b *wire.MetricBatch) (accepted int, duplicate bool, err error) {
	if b == nil {
		return 0, false, invalidf("no metric batch")
	}
	if len(b.BatchID) > wire.MaxBatchIDLen {
		return 0, false, invalidf("batch ID is %d bytes, at most %d", len(b.BatchID), wire.MaxBatchIDLen)
	}
	raws := make([]string, len(b.Intervals))
	for i := range b.Intervals {
		m := &b.Intervals[i]
		if m.Start.IsZero() || !m.End.After(m.Start) || m.End.Sub(m.Start) > MaxIntervalSpan {
			return 0, false, invalidf("interval %d: need start < end ≤ start+%v", i, MaxIntervalSpan)
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return 0, false, fmt.Errorf("store: interval %d: %w", i, err)
		}
		raws[i] = string(raw)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("store: ingest metrics: %w", err)
	}
	defer tx.Rollback()
	if b.BatchID != "" {
		res, err := tx.ExecContext(ctx, `INSERT INTO ingested_metric_batches (project_id, batch_id, received, intervals)
			VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, batch_id) DO NOTHING`,
			project, b.BatchID, nanosNow(), int64(len(raws)))
		if err != nil {
			return 0, false, fmt.Errorf("store: ingest metrics: %w", err)
		}
		if k, err := res.RowsAffected(); err != nil {
			return 0, false, fmt.Errorf("store: ingest metrics: %w", err)
		} else if k == 0 {
			var stored int64
			if err := tx.QueryRowContext(ctx, `SELECT intervals FROM ingested_metric_batches WHERE project_id = $1 AND batch_id = $2`,
				project, b.BatchID).Scan(&stored); err != nil {
				return 0, false, fmt.Errorf("store: ingest metrics: %w", err)
			}
			return int(stored), true, nil
		}
	}
	args := make([]any, 0, 5*metricRowsPerInsert)
	for i := 0; i < len(raws); i += metricRowsPerInsert {
		j := min(i+metricRowsPerInsert, len(raws))
		var q strings.Builder
		q.WriteString(`INSERT INTO metric_intervals (project_id, batch_id, start, "end", raw) VALUES `)
		args = args[:0]
		for k := i; k < j; k++ {
			if k > i {
				q.WriteString(", ")
			}
			n := len(args)
			q.WriteString("($" + strconv.Itoa(n+1) + ", $" + strconv.Itoa(n+2) + ", $" + strconv.Itoa(n+3) +
				", $" + strconv.Itoa(n+4) + ", $" + strconv.Itoa(n+5) + ")")
			m := &b.Intervals[k]
			args = append(args, project, b.BatchID, nanos(m.Start), nanos(m.End), raws[k])
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return 0, false, fmt.Errorf("store: ingest metrics: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("store: ingest metrics: %w", err)
	}
	return len(raws), false, nil
}

// MetricTotals are a project's metric intervals summed. The maps are never nil; a key
// is a wire.Interval counter key (an action, a status class, a signal code).
type MetricTotals struct {
	// Start and End are the earliest start and the latest end of the intervals
	// summed; both zero when there were none. An interval counts whole, so they may
	// lie outside the span asked for.
	Start, End time.Time
	// Intervals is the number of intervals summed (one per agent and period).
	Intervals int64
	// Requests, WouldBe and Status sum the intervals' counters of the same names:
	// requests by action, by the policy's decision, and responses by status class.
	Requests, WouldBe, Status map[string]int64
	// BlockedByCode sums the requests the policy did not allow by signal code.
	BlockedByCode map[string]int64
	// Bans, Errors and FailedOpen sum the "ban" and "error" events and the errors
	// that let their request through.
	Bans, Errors, FailedOpen int64
}

// MetricSums sums the project's metric intervals that overlap [since, until): those
// with start < until and end > since, whole (an interval is not prorated), from every
// agent of the project. It reads metric_intervals_time (project_id, start) from
// since-MaxIntervalSpan to until.
func (s *Store) MetricSums(ctx context.Context, project int64, since, until time.Time) (MetricTotals, error) {
	t := MetricTotals{
		Requests: map[string]int64{}, WouldBe: map[string]int64{}, Status: map[string]int64{},
		BlockedByCode: map[string]int64{},
	}
	if !since.Before(until) {
		return MetricTotals{}, invalidf("metric sums: since is not before until")
	}
	rows, err := s.read.QueryContext(ctx, `SELECT start, "end", raw FROM metric_intervals
		WHERE project_id = $1 AND start > $2 AND start < $3 AND "end" > $4`,
		project, nanos(since.Add(-MaxIntervalSpan)), nanos(until), nanos(since))
	if err != nil {
		return MetricTotals{}, fmt.Errorf("store: metric sums: %w", err)
	}
	defer rows.Close()
	var first, last int64
	for rows.Next() {
		var start, end int64
		var raw []byte
		if err := rows.Scan(&start, &end, &raw); err != nil {
			return MetricTotals{}, fmt.Errorf("store: metric sums: %w", err)
		}
		var m wire.Interval
		if err := json.Unmarshal(raw, &m); err != nil {
			return MetricTotals{}, fmt.Errorf("store: metric sums: interval: %w", err)
		}
		if t.Intervals == 0 || start < first {
			first = start
		}
		if t.Intervals == 0 || end > last {
			last = end
		}
		t.Intervals++
		addCounts(t.Requests, m.Requests)
		addCounts(t.WouldBe, m.WouldBe)
		addCounts(t.Status, m.Status)
		addCounts(t.BlockedByCode, m.BlockedByCode)
		t.Bans += m.Bans
		t.Errors += m.Errors
		t.FailedOpen += m.FailedOpen
	}
	if err := rows.Err(); err != nil {
		return MetricTotals{}, fmt.Errorf("store: metric sums: %w", err)
	}
	if t.Intervals > 0 {
		t.Start, t.End = fromNanos(first), fromNanos(last)
	}
	return t, nil
}

func addCounts(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

// errNoRows reports whether err is sql.ErrNoRows.
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
