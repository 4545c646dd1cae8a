package agent

import (
	"errors"
	"sync"

	"github.com/vigilhq/vigil/internal/spool"
)

// memQueue is the queue without a spool directory: batches in memory, bounded in
// bytes, the oldest dropped (and counted) past the bound. It loses its content on
// restart; that is what a Dir is for.
type memQueue struct {
	mu      sync.Mutex
	recs    []spool.Record
	bytes   int64
	max     int64
	next    spool.ID
	dropped int64
	dbytes  int64
}

func newMemQueue(max int64) *memQueue { return &memQueue{max: max, next: 1} }

func (q *memQueue) Append(rec []byte) (spool.ID, error) {
	if int64(len(rec)) > q.max {
		return 0, errors.New("agent: batch larger than the memory queue")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.bytes+int64(len(rec)) > q.max && len(q.recs) > 0 {
		q.bytes -= int64(len(q.recs[0].Data))
		q.dropped++
		q.dbytes += int64(len(q.recs[0].Data))
		q.recs[0] = spool.Record{}
		q.recs = q.recs[1:]
	}
	id := q.next
	q.next++
	q.recs = append(q.recs, spool.Record{ID: id, Data: rec})
	q.bytes += int64(len(rec))
	return id, nil
}

func (q *memQueue) Read(maxRecords, maxBytes int) ([]spool.Record, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []spool.Record
	size := 0
	for _, r := range q.recs {
		if len(out) == maxRecords || len(out) > 0 && size+len(r.Data) > maxBytes {
			break
		}
		out = append(out, r)
		size += len(r.Data)
	}
	return out, nil
}

func (q *memQueue) Ack(id spool.ID) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.recs) > 0 && q.recs[0].ID <= id {
		q.bytes -= int64(len(q.recs[0].Data))
		q.recs[0] = spool.Record{}
		q.recs = q.recs[1:]
	}
	return nil
}

func (q *memQueue) Stats() spool.Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return spool.Stats{Records: int64(len(q.recs)), Bytes: q.bytes, Dropped: q.dropped, DroppedBytes: q.dbytes}
}

func (q *memQueue) Close() error { return nil }
