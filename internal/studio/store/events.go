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
	"unicode/utf8"

	"github.com/vigilhq/vigil/internal/wire"
)

// Sources of events.
const (
	SourceVigil      = "vigil"       // a Vigil agent, native wire
	SourceGuardAgent = "guard-agent" // a fastapi-guard / guard-agent client
)

// Event is one stored event: the columns Studio filters and groups by, and Raw, the
// event as it arrived. The zero value is not a valid event (Time, Source and Kind are
// required). An Event is a plain value, not safe for concurrent modification.
type Event struct {
	// ID is the store's identifier, set when the event is read; ingest ignores it.
	ID int64
	// Time is when the guard recorded the event.
	Time time.Time
	// Received is when Studio stored it; IngestEvents sets it when zero.
	Received time.Time
	// Source is SourceVigil or SourceGuardAgent.
	Source string
	// Kind is "request", "ban", "error", or another kind the source sends.
	Kind      string
	RequestID string
	// Action is what the guard did; WouldBe is what the policy decided (they differ
	// in monitor mode). A source that has only the action sets both.
	Action  string
	WouldBe string
	Score   int
	// ClientIP is the client's address, as text.
	ClientIP   string
	DNAID      string
	Family     string
	ClientKind string
	Country    string
	ASN        int64
	Method     string
	Host       string
	Path       string
	UserAgent  string
	Status     int
	// Reasons are the codes of the event's findings (wire signals), in order.
	Reasons []string
	// Raw is the event's JSON object as it arrived, unknown fields included.
	// Required. It must be valid JSON (the ingest handler has decoded it):
	// IngestEvents checks only that it looks like an object.
	Raw json.RawMessage
}

// FromWire converts a native wire event to its row, with Raw its JSON encoding: the
// bytes json.Marshal(e) returns.
func FromWire(e wire.Event) (Event, error) {
	raw, err := appendRaw(make([]byte, 0, 2048), []wire.Event{e})
	if err != nil {
		return Event{}, err
	}
	return FromWireRaw(e, raw), nil
}

// Around the one event of a batch whose other fields are zero, wire.AppendEventBatch
// writes rawPrefix before and rawSuffix after.
const (
	rawPrefix = `{"version":0,"batch_id":"","agent":{"id":""},"events":[`
	rawSuffix = `]}`
)

// appendRaw appends the JSON encoding of one, a single event, to dst: the bytes
// json.Marshal(one[0]) returns. It encodes with wire.AppendEventBatch, the agent's
// encoder, which is held to json.Marshal's output and is several times faster (it
// took a tenth of IngestBatch's CPU time with json.Marshal), and cuts the batch's
// envelope off; should the envelope ever differ, it falls back to json.Marshal.
func appendRaw(dst []byte, one []wire.Event) ([]byte, error) {
	start := len(dst)
	dst = wire.AppendEventBatch(dst, &wire.EventBatch{Events: one})
	out := dst[start:]
	if len(out) >= len(rawPrefix)+len(rawSuffix) && string(out[:len(rawPrefix)]) == rawPrefix &&
		string(out[len(out)-len(rawSuffix):]) == rawSuffix {
		n := copy(out, out[len(rawPrefix):len(out)-len(rawSuffix)])
		return dst[:start+n], nil
	}
	raw, err := json.Marshal(one[0])
	if err != nil {
		return dst[:start], fmt.Errorf("store: encode event: %w", err)
	}
	return append(dst[:start], raw...), nil
}

// FromWireRaw is FromWire with the event's JSON given, as read from the request
// body, so it need not be encoded again.
func FromWireRaw(e wire.Event, raw json.RawMessage) Event {
	ev := Event{
		Time: e.Time, Source: SourceVigil, Kind: e.Kind, RequestID: e.RequestID,
		Action: e.Action, WouldBe: e.WouldBe, Score: e.Score,
		DNAID: e.DNA.ID, Family: e.DNA.Family, ClientKind: e.Enrichment.ClientKind,
		Country: e.Enrichment.Country, ASN: int64(e.Enrichment.ASN),
		Method: e.Method, Host: e.Host, Path: e.Path, UserAgent: e.UserAgent, Status: e.Status,
		Raw: raw,
	}
	if e.ClientIP.IsValid() {
		ev.ClientIP = e.ClientIP.String()
	}
	if len(e.Signals) > 0 {
		ev.Reasons = make([]string, len(e.Signals))
		for i, s := range e.Signals {
			ev.Reasons[i] = s.Code
		}
	}
	return ev
}

// IngestBatch stores a native batch: FromWire of each event, then IngestEvents. The
// events' Raw share a few rawChunk-sized buffers.
func (s *Store) IngestBatch(ctx context.Context, project int64, b *wire.EventBatch) (accepted int, duplicate bool, err error) {
	return s.IngestBatchRaw(ctx, project, b, nil)
}

// IngestBatchRaw is IngestBatch with each event's JSON as it arrived, from
// wire.DecodeEventsRaw: raws[i] becomes Events[i]'s Raw as it is, fields this version
// does not know included, and nothing is encoded again. With raws nil (or not one
// per event) it encodes the events as IngestBatch does.
func (s *Store) IngestBatchRaw(ctx context.Context, project int64, b *wire.EventBatch, raws [][]byte) (accepted int, duplicate bool, err error) {
	evs := make([]Event, len(b.Events))
	if len(raws) == len(b.Events) && raws != nil {
		for i := range b.Events {
			evs[i] = FromWireRaw(b.Events[i], raws[i])
		}
		return s.IngestEvents(ctx, project, b.BatchID, evs)
	}
	var scratch, chunk []byte
	for i := range b.Events {
		if scratch, err = appendRaw(scratch[:0], b.Events[i:i+1]); err != nil {
			return 0, false, err
		}
		if cap(chunk)-len(chunk) < len(scratch) {
			chunk = make([]byte, 0, max(rawChunk, len(scratch)))
		}
		k := len(chunk)
		chunk = append(chunk, scratch...)
		evs[i] = FromWireRaw(b.Events[i], chunk[k:len(chunk):len(chunk)])
	}
	return s.IngestEvents(ctx, project, b.BatchID, evs)
}

// rawChunk is the size of the buffers IngestBatch keeps events' Raw in.
const rawChunk = 64 << 10

// IngestEvents stores events for the project, once per batchID. It reports how many
// events the batch has and whether the batch was stored already, in which case it
// stores nothing and accepted is the count stored the first time. The check and the
// insert are one transaction, so copies of a batch that race are stored once. An
// empty batchID stores the events without deduplication.
func (s *Store) IngestEvents(ctx context.Context, project int64, batchID string, events []Event) (accepted int, duplicate bool, err error) {
	if len(batchID) > wire.MaxBatchIDLen {
		return 0, false, fmt.Errorf("store: batch ID is %d bytes, at most %d", len(batchID), wire.MaxBatchIDLen)
	}
	now := time.Now()
	rows := make([]eventRow, len(events))
	for i := range events {
		if err := rows[i].from(&events[i], now); err != nil {
			return 0, false, fmt.Errorf("store: event %d: %w", i, err)
		}
	}
	if s.engine == Postgres {
		return s.ingestPostgres(ctx, project, batchID, rows)
	}
	return s.ingestSQLite(ctx, project, batchID, rows)
}

// eventColumns are the columns ingest writes, in eventRow.values order.
var eventColumns = []string{
	"project_id", "time", "received", "source", "kind", "request_id", "action", "would_be", "score",
	"client_ip", "dna_id", "family", "client_kind", "country", "asn", "method", "host", "path",
	"user_agent", "status", "reasons", "raw",
}

// eventRow is an Event in its stored form.
type eventRow struct {
	e        *Event
	time     int64
	received int64
	reasons  string
}

func (r *eventRow) from(e *Event, now time.Time) error {
	switch {
	case e.Time.IsZero():
		return errors.New("no time")
	case e.Source == "":
		return errors.New("no source")
	case e.Kind == "":
		return errors.New("no kind")
	case len(e.Raw) < 2 || e.Raw[0] != '{' || e.Raw[len(e.Raw)-1] != '}':
		// Only the shape: Raw is JSON the caller has decoded, and json.Valid
		// would cost a tenth of SQLite's ingest time. PostgreSQL's json
		// type checks it in full.
		return errors.New("raw is not a JSON object")
	}
	r.e, r.time, r.received = e, nanos(e.Time), nanos(now)
	if !e.Received.IsZero() {
		r.received = nanos(e.Received)
	}
	r.reasons = "[]"
	if len(e.Reasons) > 0 {
		b, err := json.Marshal(e.Reasons)
		if err != nil {
			return err
		}
		r.reasons = string(b)
	}
	return nil
}

// appendValues appends the row's values in eventColumns order.
func (r *eventRow) appendValues(dst []any, project int64) []any {
	e := r.e
	return append(dst, project, r.time, r.received, e.Source, e.Kind, e.RequestID, e.Action, e.WouldBe, int64(e.Score),
		e.ClientIP, e.DNAID, e.Family, e.ClientKind, e.Country, e.ASN, e.Method, e.Host, e.Path,
		e.UserAgent, int64(e.Status), r.reasons, []byte(e.Raw))
}

// selectColumns are the columns scanEvent reads.
const selectColumns = `id, time, received, source, kind, request_id, action, would_be, score, client_ip, dna_id,
	family, client_kind, country, asn, method, host, path, user_agent, status, reasons, raw`

func scanEvents(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e                 Event
			t, recv           int64
			reasons           string
			raw               []byte
			score, status, as int64
		)
		if err := rows.Scan(&e.ID, &t, &recv, &e.Source, &e.Kind, &e.RequestID, &e.Action, &e.WouldBe, &score,
			&e.ClientIP, &e.DNAID, &e.Family, &e.ClientKind, &e.Country, &as, &e.Method, &e.Host, &e.Path,
			&e.UserAgent, &status, &reasons, &raw); err != nil {
			return nil, err
		}
		e.Time, e.Received, e.Score, e.Status, e.ASN, e.Raw = fromNanos(t), fromNanos(recv), int(score), int(status), as, raw
		if reasons != "[]" {
			if err := json.Unmarshal([]byte(reasons), &e.Reasons); err != nil {
				return nil, fmt.Errorf("event %d reasons: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Filter selects events. Its zero value selects every event of the project.
type Filter struct {
	// Since and Until bound the event time: Since ≤ time < Until. Zero: no bound.
	Since, Until time.Time
	// IP, DNA, Action and Kind select events whose client_ip, dna_id, action or kind
	// is equal to them; empty: any.
	IP, DNA, Action, Kind string
	// PathPrefix selects events whose path starts with it (case-sensitive).
	PathPrefix string
	// Limit is the page size; zero means DefaultLimit, more than MaxLimit is MaxLimit.
	Limit int
}

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Cursor marks where a page of events ended: the (time, id) of its last event. The
// zero Cursor is the start; its text form (String, ParseCursor) is opaque to clients.
type Cursor struct {
	time int64
	id   int64
}

// IsZero reports whether c is the start, which is also what Events returns as the
// next cursor after the last page.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// String returns c's text form; the zero Cursor's is "".
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.time, 36) + "." + strconv.FormatInt(c.id, 36)
}

// ParseCursor reads a Cursor's text form; "" is the zero Cursor.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	a, b, ok := strings.Cut(s, ".")
	t, err1 := strconv.ParseInt(a, 36, 64)
	id, err2 := strconv.ParseInt(b, 36, 64)
	if !ok || err1 != nil || err2 != nil || id <= 0 {
		return Cursor{}, fmt.Errorf("store: bad cursor %q", s)
	}
	return Cursor{time: t, id: id}, nil
}

// query builds a statement's WHERE clause and arguments.
type query struct {
	where []string
	args  []any
}

func (q *query) add(cond string, args ...any) {
	for _, a := range args {
		q.args = append(q.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(q.args)), 1)
	}
	q.where = append(q.where, cond)
}

// addClientKeyed adds the condition column = value for client_ip or dna_id, written
// so that PostgreSQL uses its per-client index, which keys on a hash of the column
// (migration 0004): the hash first, then the column itself.
func (s *Store) addClientKeyed(q *query, column, value string) {
	if s.engine == Postgres {
		q.add("hashtextextended("+column+", 0) = hashtextextended(?, 0) AND "+column+" = ?", value, value)
		return
	}
	q.add(column+" = ?", value)
}

func (q *query) arg(a any) string {
	q.args = append(q.args, a)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) String() string { return strings.Join(q.where, " AND ") }

func limit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Events returns the project's events that f selects, newest first, from after
// cursor, and the cursor of the next page: zero when this is the last page. Events
// with equal times are ordered by ID, so paging neither repeats nor skips one.
func (s *Store) Events(ctx context.Context, project int64, f Filter, after Cursor) ([]Event, Cursor, error) {
	var q query
	q.add("project_id = ?", project)
	if !f.Since.IsZero() {
		q.add("time >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		q.add("time < ?", nanos(f.Until))
	}
	if f.IP != "" {
		s.addClientKeyed(&q, "client_ip", f.IP)
	}
	if f.DNA != "" {
		s.addClientKeyed(&q, "dna_id", f.DNA)
	}
	if f.Action != "" {
		q.add("action = ?", f.Action)
	}
	if f.Kind != "" {
		q.add("kind = ?", f.Kind)
	}
	if f.PathPrefix != "" {
		q.add("substr(path, 1, ?) = ?", int64(utf8.RuneCountInString(f.PathPrefix)), f.PathPrefix)
	}
	if !after.IsZero() {
		q.add("(time, id) < (?, ?)", after.time, after.id)
	}
	n := limit(f.Limit)
	lim := q.arg(int64(n + 1))
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+selectColumns+` FROM events WHERE `+q.String()+` ORDER BY time DESC, id DESC LIMIT `+lim, q.args...)
	if err != nil {
		return nil, Cursor{}, fmt.Errorf("store: events: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, Cursor{}, fmt.Errorf("store: events: %w", err)
	}
	var next Cursor
	if len(evs) > n {
		evs = evs[:n]
		last := evs[n-1]
		next = Cursor{time: nanos(last.Time), id: last.ID}
	}
	return evs, next, nil
}

// Who names one client: by address or by DNA ID. Exactly one is set.
type Who struct {
	IP  string
	DNA string
}

// Timeline returns the newest limit events (see Filter.Limit) of one client of the
// project, newest first.
func (s *Store) Timeline(ctx context.Context, project int64, who Who, limit int) ([]Event, error) {
	f := Filter{IP: who.IP, DNA: who.DNA, Limit: limit}
	if (who.IP == "") == (who.DNA == "") {
		return nil, errors.New("store: timeline needs an IP or a DNA, not both")
	}
	evs, _, err := s.Events(ctx, project, f, Cursor{})
	return evs, err
}

// Stats are a project's totals.
type Stats struct {
	// EventsTotal is the number of stored events.
	EventsTotal int64
	// Batches is the number of distinct batches ingested.
	Batches int64
	// First and Last are the times of the oldest and newest events; zero when none.
	First, Last time.Time
}

// Stats returns the project's totals.
func (s *Store) Stats(ctx context.Context, project int64) (Stats, error) {
	var st Stats
	var first, last sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM events WHERE project_id = $1),
		(SELECT count(*) FROM ingested_batches WHERE project_id = $1),
		(SELECT min(time) FROM events WHERE project_id = $1),
		(SELECT max(time) FROM events WHERE project_id = $1)`, project).
		Scan(&st.EventsTotal, &st.Batches, &first, &last)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	if first.Valid {
		st.First, st.Last = fromNanos(first.Int64), fromNanos(last.Int64)
	}
	return st, nil
}

// Attacker is a client address and its threat events.
type Attacker struct {
	ClientIP string
	// Events is the number of the client's events the policy did not allow.
	Events int64
	// Last is the time of the newest.
	Last time.Time
}

// TopAttackers returns the n (at most MaxLimit) client addresses with the most
// events the policy did not allow (WouldBe neither "allow" nor empty, so monitor
// mode counts) since since, most first; ties go to the lower address text.
func (s *Store) TopAttackers(ctx context.Context, project int64, since time.Time, n int) ([]Attacker, error) {
	// The WHERE clause repeats events_threat's, so both engines may use that
	// partial index; SQLite, which has no statistics unless ANALYZE ran, must be
	// told to, or it reads every event since since through events_time.
	hint := ""
	if s.engine == SQLite {
		hint = " INDEXED BY events_threat"
	}
	rows, err := s.read.QueryContext(ctx, `SELECT client_ip, count(*) AS n, max(time) FROM events`+hint+`
		WHERE project_id = $1 AND time >= $2 AND would_be NOT IN ('', 'allow') AND client_ip <> ''
		GROUP BY client_ip ORDER BY n DESC, client_ip LIMIT $3`, project, nanos(since), int64(limit(n)))
	if err != nil {
		return nil, fmt.Errorf("store: top attackers: %w", err)
	}
	defer rows.Close()
	var out []Attacker
	for rows.Next() {
		var a Attacker
		var last int64
		if err := rows.Scan(&a.ClientIP, &a.Events, &last); err != nil {
			return nil, fmt.Errorf("store: top attackers: %w", err)
		}
		a.Last = fromNanos(last)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: top attackers: %w", err)
	}
	return out, nil
}

// Bucket is the number of events with one action in one time bucket.
type Bucket struct {
	// Start is the bucket's start; it spans [Start, Start+step).
	Start  time.Time
	Action string
	Count  int64
}

// MaxBuckets is the most time buckets one Buckets call may span.
const MaxBuckets = 10_000

// Buckets counts the project's events per action in the buckets of length step
// from since to until (since ≤ time < until), in time then action order. Buckets
// without events are left out. The span may hold at most MaxBuckets steps.
func (s *Store) Buckets(ctx context.Context, project int64, since, until time.Time, step time.Duration) ([]Bucket, error) {
	if step <= 0 || !since.Before(until) {
		return nil, fmt.Errorf("store: buckets: need step > 0 and since before until")
	}
	if until.Sub(since)/step > MaxBuckets {
		return nil, fmt.Errorf("store: buckets: more than %d steps", MaxBuckets)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT (time - $2) / $4 AS b, action, count(*) FROM events
		WHERE project_id = $1 AND time >= $2 AND time < $3
		GROUP BY b, action ORDER BY b, action`, project, nanos(since), nanos(until), int64(step))
	if err != nil {
		return nil, fmt.Errorf("store: buckets: %w", err)
	}
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var b Bucket
		var i int64
		if err := rows.Scan(&i, &b.Action, &b.Count); err != nil {
			return nil, fmt.Errorf("store: buckets: %w", err)
		}
		b.Start = since.Add(time.Duration(i) * step).UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: buckets: %w", err)
	}
	return out, nil
}
