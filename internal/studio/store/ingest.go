package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
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
	bp, _ := s.copyBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.copyBufs.Put(bp)
	if need := copyBufSize(rows); cap(*bp) < need {
		*bp = make([]byte, 0, need)
	}
	buf, err := appendCopyRows((*bp)[:0], project, rows)
	if err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	}
	*bp = buf
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), copySQL)
	if err != nil {
		return 0, false, fmt.Errorf("store: ingest: copy: %w", err)
	}
	n := tag.RowsAffected()
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("store: ingest: %w", err)
	}
	return int(n), false, nil
}

// copySQL is the COPY statement of ingestPostgres: binary rows of eventColumns.
var copySQL = "COPY events (" + strings.Join(eventColumns, ", ") + ") FROM STDIN (FORMAT binary)"

// copyBufSize estimates the bytes of rows in COPY's binary format.
func copyBufSize(rows []eventRow) int {
	n := 19 + 2 // header and trailer
	for i := range rows {
		e := rows[i].e
		n += 2 + len(eventColumns)*4 + 4*8 + 2*4 + len(e.Source) + len(e.Kind) + len(e.RequestID) +
			len(e.Action) + len(e.WouldBe) + len(e.ClientIP) + len(e.DNAID) + len(e.Family) +
			len(e.ClientKind) + len(e.Country) + len(e.Method) + len(e.Host) + len(e.Path) +
			len(e.UserAgent) + len(rows[i].reasons) + len(e.Raw)
	}
	return n
}

// appendCopyRows appends rows, in eventColumns order, to dst in the binary format
// of COPY: a header, then per row the number of fields and each field as its
// length and bytes (bigint 8 bytes and integer 4, big-endian; text and json their
// UTF-8 text), then a trailer. Encoding here, rather than through pgx's CopyFrom,
// spares a []any of boxed values per row and pgx's per-value type dispatch: a
// fifth of the Go CPU time of an ingest.
func appendCopyRows(dst []byte, project int64, rows []eventRow) ([]byte, error) {
	dst = append(dst, "PGCOPY\n\377\r\n\000"...)
	dst = binary.BigEndian.AppendUint32(dst, 0) // flags
	dst = binary.BigEndian.AppendUint32(dst, 0) // header extension length
	for i := range rows {
		r := &rows[i]
		e := r.e
		if e.Score < math.MinInt32 || e.Score > math.MaxInt32 || e.Status < math.MinInt32 || e.Status > math.MaxInt32 {
			return nil, fmt.Errorf("event %d: score %d or status %d out of range", i, e.Score, e.Status)
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(eventColumns)))
		dst = copyInt8(dst, project)
		dst = copyInt8(dst, r.time)
		dst = copyInt8(dst, r.received)
		dst = copyText(dst, e.Source)
		dst = copyText(dst, e.Kind)
		dst = copyText(dst, e.RequestID)
		dst = copyText(dst, e.Action)
		dst = copyText(dst, e.WouldBe)
		dst = copyInt4(dst, int32(e.Score))
		dst = copyText(dst, e.ClientIP)
		dst = copyText(dst, e.DNAID)
		dst = copyText(dst, e.Family)
		dst = copyText(dst, e.ClientKind)
		dst = copyText(dst, e.Country)
		dst = copyInt8(dst, e.ASN)
		dst = copyText(dst, e.Method)
		dst = copyText(dst, e.Host)
		dst = copyText(dst, e.Path)
		dst = copyText(dst, e.UserAgent)
		dst = copyInt4(dst, int32(e.Status))
		dst = copyText(dst, r.reasons)
		dst = copyText(dst, e.Raw)
	}
	return binary.BigEndian.AppendUint16(dst, 0xffff), nil // trailer: -1 fields
}

func copyInt8(dst []byte, v int64) []byte {
	dst = binary.BigEndian.AppendUint32(dst, 8)
	return binary.BigEndian.AppendUint64(dst, uint64(v))
}

func copyInt4(dst []byte, v int32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, 4)
	return binary.BigEndian.AppendUint32(dst, uint32(v))
}

// copyText appends a text or json value. Fields are far below COPY's 1 GB limit:
// a request body is at most wire.MaxBodySize.
func copyText[S ~string | ~[]byte](dst []byte, v S) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
	return append(dst, v...)
}

func nanosNow() int64 { return nanos(time.Now()) }
