package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Retention says what Prune deletes. Its zero value deletes nothing.
type Retention struct {
	// MaxAge is how long data is kept: Prune deletes the events whose time is
	// before now-MaxAge, and with them the metric intervals that ended by then, the
	// ingested-batch records (the deduplication keys) received before then, and the
	// finished webhook deliveries created before then. Zero: no age limit.
	MaxAge time.Duration
	// MaxEventsPerProject is the most events a project keeps: Prune deletes a
	// project's oldest events (by time, then ID) beyond it. A project's size is its
	// event count, not bytes: events are about the same size (1–2 KB) and a count
	// is what both engines can tell cheaply and alike. Zero: no limit.
	MaxEventsPerProject int64
	// Chunk is the most rows one DELETE statement removes; each is its own
	// transaction, so ingest waits at most one chunk for the SQLite write lock.
	// Zero: DefaultPruneChunk.
	Chunk int
}

// DefaultPruneChunk is the rows per DELETE when Retention.Chunk is zero.
const DefaultPruneChunk = 10_000

// Prune deletes what r says is too old or too much, as of now, and returns how many
// events it deleted. It deletes in chunks of r.Chunk rows, each statement its own
// transaction, so it may run while agents ingest, from several Studio processes at
// once, and be stopped (through ctx) between chunks without harm: what it deleted
// stays deleted and the next run does the rest.
//
// The event limit is applied after the age limit and counts the events at the time
// Prune looks: events ingested while it runs are kept, so a project may briefly hold
// more than MaxEventsPerProject. Finding a project's oldest events beyond the limit
// counts its events (an index scan of events_time), so a run costs time in proportion
// to the stored events; run it every few minutes, not per request.
//
// How rows are found: on PostgreSQL, events by age across projects (the planner
// picks the BRIN index on time, or a sequential scan that stops after a chunk when
// most rows are old) and deleted by ctid, since events has no primary key; on
// SQLite, per project through events_time. The oldest events beyond the limit,
// through events_time on both. Metric intervals through metric_intervals_time;
// ingested batches by walking their primary key a chunk at a time; webhook
// deliveries per webhook through webhook_deliveries_hook.
func (s *Store) Prune(ctx context.Context, now time.Time, r Retention) (deleted int64, err error) {
	if r.MaxAge < 0 || r.MaxEventsPerProject < 0 || r.Chunk < 0 {
		return 0, invalidf("retention limits must not be negative")
	}
	p := pruner{s: s, chunk: int64(r.Chunk)}
	if p.chunk == 0 {
		p.chunk = DefaultPruneChunk
	}
	if r.MaxAge > 0 {
		cutoff := nanos(now.Add(-r.MaxAge))
		n, err := p.eventsBefore(ctx, cutoff)
		deleted += n
		if err != nil {
			return deleted, err
		}
		if err := p.others(ctx, cutoff); err != nil {
			return deleted, err
		}
	}
	if r.MaxEventsPerProject > 0 {
		n, err := p.eventsBeyond(ctx, r.MaxEventsPerProject)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// pruner is one Prune run.
type pruner struct {
	s     *Store
	chunk int64
}

// loop runs a chunk DELETE until it deletes less than a chunk, and returns the rows
// deleted.
func (p *pruner) loop(ctx context.Context, what, stmt string, args ...any) (int64, error) {
	args = append(args, p.chunk)
	var total int64
	for {
		res, err := p.s.write.ExecContext(ctx, stmt, args...)
		if err != nil {
			return total, fmt.Errorf("store: prune %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: prune %s: %w", what, err)
		}
		total += n
		if n < p.chunk {
			return total, nil
		}
	}
}

// projects calls f for each project that has rows in table, in ID order. It skips
// from one project to the next through the index that starts with project_id, so
// it costs a lookup per project, not a scan. table is one of this file's constants.
func (p *pruner) projects(ctx context.Context, table string, f func(project int64) error) error {
	var after int64 = -1 << 63
	for {
		var id int64
		err := p.s.read.QueryRowContext(ctx,
			`SELECT project_id FROM `+table+` WHERE project_id > $1 ORDER BY project_id LIMIT 1`, after).Scan(&id)
		if errNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: prune %s: %w", table, err)
		}
		if err := f(id); err != nil {
			return err
		}
		after = id
	}
}

// eventsBefore deletes the events with time < cutoff.
func (p *pruner) eventsBefore(ctx context.Context, cutoff int64) (int64, error) {
	if p.s.engine == Postgres {
		return p.loop(ctx, "events",
			`DELETE FROM events WHERE ctid = ANY (ARRAY(SELECT ctid FROM events WHERE time < $1 LIMIT $2))`, cutoff)
	}
	var total int64
	err := p.projects(ctx, "events", func(project int64) error {
		n, err := p.loop(ctx, "events",
			`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE project_id = $1 AND time < $2 LIMIT $3)`,
			project, cutoff)
		total += n
		return err
	})
	return total, err
}

// eventsBeyond deletes each project's oldest events beyond keep.
func (p *pruner) eventsBeyond(ctx context.Context, keep int64) (int64, error) {
	// ORDER BY makes both engines read events_time (PostgreSQL would rather
	// scan the table for a LIMIT) and deletes the oldest first.
	del := `DELETE FROM events WHERE id IN (SELECT id FROM events
		WHERE project_id = $1 AND (time, id) <= ($2, $3) ORDER BY time, id LIMIT $4)`
	if p.s.engine == Postgres {
		del = `DELETE FROM events WHERE ctid = ANY (ARRAY(SELECT ctid FROM events
			WHERE project_id = $1 AND (time, id) <= ($2, $3) ORDER BY time, id LIMIT $4))`
	}
	var total int64
	err := p.projects(ctx, "events", func(project int64) error {
		var n int64
		if err := p.s.read.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE project_id = $1`, project).Scan(&n); err != nil {
			return fmt.Errorf("store: prune events: count: %w", err)
		}
		if n <= keep {
			return nil
		}
		// The newest of the oldest n-keep events: it and everything before it go.
		var t, id int64
		err := p.s.read.QueryRowContext(ctx, `SELECT time, id FROM events WHERE project_id = $1
			ORDER BY time, id LIMIT 1 OFFSET $2`, project, n-keep-1).Scan(&t, &id)
		if errNoRows(err) { // deleted meanwhile by another run
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: prune events: %w", err)
		}
		k, err := p.loop(ctx, "events", del, project, t, id)
		total += k
		return err
	})
	return total, err
}

// others deletes the rows of the tables beside events that are older than cutoff.
func (p *pruner) others(ctx context.Context, cutoff int64) error {
	err := p.projects(ctx, "metric_intervals", func(project int64) error {
		_, err := p.loop(ctx, "metric intervals", `DELETE FROM metric_intervals WHERE id IN (SELECT id FROM metric_intervals
			WHERE project_id = $1 AND start < $2 AND "end" <= $2 LIMIT $3)`, project, cutoff)
		return err
	})
	if err != nil {
		return err
	}
	for _, table := range [...]string{"ingested_batches", "ingested_metric_batches"} {
		err := p.projects(ctx, table, func(project int64) error { return p.batchesBefore(ctx, table, project, cutoff) })
		if err != nil {
			return err
		}
	}
	rows, err := p.s.read.QueryContext(ctx, `SELECT id FROM webhooks ORDER BY id`)
	if err != nil {
		return fmt.Errorf("store: prune deliveries: %w", err)
	}
	hooks, err := scanIDs(rows)
	if err != nil {
		return fmt.Errorf("store: prune deliveries: %w", err)
	}
	for _, h := range hooks {
		_, err := p.loop(ctx, "deliveries", `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
			WHERE webhook_id = $1 AND created < $2 AND next_try IS NULL LIMIT $3)`, h, cutoff)
		if err != nil {
			return err
		}
	}
	return nil
}

// batchesBefore deletes a project's rows of an ingested-batches table received
// before cutoff. received has no index, so it walks the primary key (project_id,
// batch_id) a chunk of keys at a time and deletes the old rows among them: each
// statement reads at most a chunk of rows, and a run reads the project's rows once.
func (p *pruner) batchesBefore(ctx context.Context, table string, project, cutoff int64) error {
	after := ""
	for {
		var end string
		err := p.s.read.QueryRowContext(ctx, `SELECT batch_id FROM `+table+`
			WHERE project_id = $1 AND batch_id > $2 ORDER BY batch_id LIMIT 1 OFFSET $3`, project, after, p.chunk-1).Scan(&end)
		if errNoRows(err) {
			_, err := p.s.write.ExecContext(ctx, `DELETE FROM `+table+`
				WHERE project_id = $1 AND batch_id > $2 AND received < $3`, project, after, cutoff)
			if err != nil {
				return fmt.Errorf("store: prune %s: %w", table, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: prune %s: %w", table, err)
		}
		_, err = p.s.write.ExecContext(ctx, `DELETE FROM `+table+`
			WHERE project_id = $1 AND batch_id > $2 AND batch_id <= $3 AND received < $4`, project, after, end, cutoff)
		if err != nil {
			return fmt.Errorf("store: prune %s: %w", table, err)
		}
		after = end
	}
}

// scanIDs reads a column of int64.
func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
