package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ingestSQLite stores rows in one IMMEDIATE transaction on the writer.
func (s *Store) ingestSQLite(ctx context.Context, project int64, batchID string, rows []eventRow) (int, bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	}
	defer tx.Rollback()
	if batchID != "" {
		n, dup, err := claimBatch(ctx, tx, project, batchID, len(rows))
		if err != nil || dup {
			return n, dup, err
		}
	}
	args := make([]any, 0, sqliteRowsPerInsert*len(eventColumns))
	for i := 0; i < len(rows); i += sqliteRowsPerInsert {
		chunk := rows[i:min(i+sqliteRowsPerInsert, len(rows))]
		args = args[:0]
		for j := range chunk {
			args = chunk[j].appendValues(args, project)
		}
		var err error
		if len(chunk) == sqliteRowsPerInsert {
			_, err = tx.StmtContext(ctx, s.insertFull).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(len(chunk)), args...)
		}
		if err != nil {
			return 0, false, fmt.Errorf("store: ingest: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	}
	return len(rows), false, nil
}

// sqliteRowsPerInsert is how many rows one INSERT statement carries: fewer
// statements cost less than many, and 100 rows × 22 columns stays far below
// SQLite's limit of 32766 parameters.
const sqliteRowsPerInsert = 100

// insertSQL returns an INSERT of n events. Its placeholders are "?", not "$N":
// SQLite looks named parameters up one by one, which made an INSERT of 100 rows
// spend half its time binding.
//
// It is INSERT OR FAIL, not the default OR ABORT. A statement that writes several
// rows and may abort must be undoable on its own, so SQLite copies every page it
// first touches to a statement journal, a temporary file once it passes 64 KiB,
// which is one page here: a third of ingest's CPU time went to writing it. With
// FAIL a failing row leaves the rows before it in place and SQLite keeps no
// statement journal; ingest rolls the whole transaction back on any error, so the
// outcome is the same. (temp_store=MEMORY keeps the journal in memory instead, but
// allocating it cost more than the file.)
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT OR FAIL INTO events (")
	b.WriteString(strings.Join(eventColumns, ", "))
	b.WriteString(") VALUES ")
	row := "(?" + strings.Repeat(", ?", len(eventColumns)-1) + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// claimBatch records the batch in ingested_batches. When it is there already it
// reports a duplicate and the event count stored then.
func claimBatch(ctx context.Context, tx *sql.Tx, project int64, batchID string, n int) (int, bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO ingested_batches (project_id, batch_id, received, events)
		VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, batch_id) DO NOTHING`,
		project, batchID, nanosNow(), int64(n))
	if err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	}
	if k, err := res.RowsAffected(); err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	} else if k == 1 {
		return 0, false, nil
	}
	var stored int64
	if err := tx.QueryRowContext(ctx, `SELECT events FROM ingested_batches WHERE project_id = $1 AND batch_id = $2`,
		project, batchID).Scan(&stored); err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	}
	return int(stored), true, nil
}

// ingestPostgres stores rows with COPY in one transaction.
func (s *Store) ingestPostgres(ctx context.Context, project int64, batchID string, rows []eventRow) (int, bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if batchID != "" {
		tag, err := tx.Exec(ctx, `INSERT INTO ingested_batches (project_id, batch_id, received, events)
			VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, batch_id) DO NOTHING`,
			project, batchID, nanosNow(), int64(len(rows)))
		if err != nil {
			return 0, false, fmt.Errorf("store: ingest: %w", err)
		}
		if tag.RowsAffected() == 0 {
			var stored int64
			err := tx.QueryRow(ctx, `SELECT events FROM ingested_batches WHERE project_id = $1 AND batch_id = $2`,
				project, batchID).Scan(&stored)
			if err != nil {
				return 0, false, fmt.Errorf("store: ingest: %w", err)
			}
			return int(stored), true, nil
		}
	}
	vals := make([]any, 0, len(eventColumns))
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns,
		pgx.CopyFromFunc(func() ([]any, error) {
			if len(rows) == 0 {
				return nil, nil
			}
			vals = rows[0].appendValues(vals[:0], project)
			rows = rows[1:]
			return vals, nil
		}))
	if err != nil {
		return 0, false, fmt.Errorf("store: ingest: copy: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	}
	return int(n), false, nil
}

func nanosNow() int64 { return nanos(time.Now()) }
