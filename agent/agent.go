// Package agent carries a guard's events and metrics to Studio and carries policy
// back. An *Agent is a vigil.EventSink: set it as vigil.Config.Events, run it with Run,
// and every decision is reported without slowing a request.
//
//	a, err := agent.New(agent.Config{Endpoint: "https://studio.internal:8443", Key: key, Dir: "/var/lib/vigil/agent"})
//	g, err := vigil.New(vigil.Config{Events: a})
//	a.SetGuard(g)
//	go a.Run(ctx)
//
// The path of an event:
//
//	Record ─► ring (bounded; full → the oldest is dropped and counted)
//	       ─► batcher: wire form (internal/wire), redacted (package redact), one batch
//	          per BatchSize events or FlushInterval ─► spool on disk (internal/spool:
//	          bounded, CRC-checked, survives SIGKILL)
//	       ─► sender: gzip, POST /v1/ingest/events with the batch's idempotency key;
//	          retried with exponential backoff and jitter; 429 → waits Retry-After;
//	          413 → sends the batch in halves; 400 → drops it (counted); a circuit
//	          breaker stops sending while Studio keeps failing
//	       ─► acknowledged in the spool once Studio accepted it
//
// Record never blocks and never allocates: it counts the event in the per-interval
// metrics (atomic adds) and copies it into the ring. Nothing leaves the process — not
// the spool, not the wire — before redaction. Delivery is at least once; Studio stores
// each batch ID once, so events arrive exactly once.
//
// Metrics are aggregated per interval (MetricsInterval) and sent as one batch, not per
// request; a status heartbeat reports the agent's queue, spool and counters. The policy
// stream (GET /v1/policy/stream) applies each new version to the guard with SetPolicy,
// as a full snapshot, within a second of its publication, and keeps the last good
// policy in Dir so that a restart while Studio is down keeps protecting.
//
// A snapshot also carries the full set of Studio's bans. The agent places the new and
// changed ones with the guard's Ban and lifts, with Unban, the ones it placed that the
// snapshot no longer holds; the guard's own bans (after a honeypot hit) are never
// lifted. Through a shared store (package redisstore) a ban reaches every instance on
// it. The set is kept in Dir too, and placed again when the agent starts.
package agent

import (
	"bytes"
	"compress/gzip"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/spool"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/policy"
	"github.com/vigilhq/vigil/redact"
)

// Defaults for zero Config fields.
const (
	DefaultBufferSize      = 1 << 16
	DefaultBatchSize       = 500
	DefaultFlushInterval   = time.Second
	DefaultMetricsInterval = 10 * time.Second
	DefaultStatusInterval  = 30 * time.Second
	DefaultMemoryBytes     = 64 << 20
)

// Config configures an Agent. Endpoint and Key are required; every other zero field
// takes the default its comment gives.
type Config struct {
	// Endpoint is Studio's base URL, such as "https://studio.internal:8443".
	Endpoint string `json:"endpoint" yaml:"endpoint"`
	// Key is the project's ingest key, sent as a bearer token.
	Key string `json:"key" yaml:"key"`
	// Dir holds the spool, the agent's ID and the last good policy. Empty keeps
	// batches in memory only (bounded by MemoryBytes): they are lost on restart.
	Dir string `json:"dir,omitempty" yaml:"dir,omitempty"`
	// SpoolBytes bounds the spool in Dir; past it the oldest batches are dropped and
	// counted. Default 256 MiB.
	SpoolBytes int64 `json:"spool_bytes,omitempty" yaml:"spool_bytes,omitempty"`
	// SpoolSync says when the spool fsyncs: "interval" (every 100 ms, the default;
	// a SIGKILL loses nothing, a power cut at most that much), "always" (every batch,
	// a disk flush each) or "never" (left to the kernel).
	SpoolSync string `json:"spool_sync,omitempty" yaml:"spool_sync,omitempty"`
	// MemoryBytes bounds the in-memory queue of batches when Dir is empty. Default
	// 64 MiB.
	MemoryBytes int64 `json:"memory_bytes,omitempty" yaml:"memory_bytes,omitempty"`
	// Redact configures the redaction applied to every event before it is stored or
	// sent. The zero value masks e-mail addresses and phone numbers and redacts every
	// credential, key, card number and password the package finds.
	Redact redact.Config `json:"redact,omitzero" yaml:"redact,omitempty"`
	// BufferSize is the number of events the ring holds between Record and the
	// batcher. Default 65,536.
	BufferSize int `json:"buffer_size,omitempty" yaml:"buffer_size,omitempty"`
	// BatchSize is the most events in one batch (at most wire.MaxEvents). Default 500.
	BatchSize int `json:"batch_size,omitempty" yaml:"batch_size,omitempty"`
	// FlushInterval cuts a batch of whatever has arrived. Default 1 s.
	FlushInterval time.Duration `json:"flush_interval,omitempty" yaml:"flush_interval,omitempty"`
	// MetricsInterval is the length of one metrics aggregate. Default 10 s.
	MetricsInterval time.Duration `json:"metrics_interval,omitempty" yaml:"metrics_interval,omitempty"`
	// StatusInterval is the period of the status heartbeat. Default 30 s.
	StatusInterval time.Duration `json:"status_interval,omitempty" yaml:"status_interval,omitempty"`
	// Instance names this process in Studio. Default the host name.
	Instance string `json:"instance,omitempty" yaml:"instance,omitempty"`
	// NoPolicy turns policy sync off: the guard keeps its local policy and gets no
	// bans from Studio.
	NoPolicy bool `json:"no_policy,omitempty" yaml:"no_policy,omitempty"`
	// HTTPClient sends to Studio. Nil means a client with a 10 s timeout for batches
	// (the policy stream has no timeout of its own).
	HTTPClient *http.Client `json:"-" yaml:"-"`
	// Logger receives the agent's log lines. Nil discards them.
	Logger *slog.Logger `json:"-" yaml:"-"`
}

// Guard is what the agent needs of a guard for policy sync, Studio's bans included;
// *vigil.Guard is one.
type Guard interface {
	SetPolicy(policy.Policy) error
	Policy() policy.Policy
	Ban(ctx context.Context, b vigil.Ban) error
	Unban(ctx context.Context, kind vigil.BanKind, value string) (bool, error)
}

// queue is where batches wait for Studio: the spool, or memQueue without a Dir.
type queue interface {
	Append(rec []byte) (spool.ID, error)
	Read(maxRecords, maxBytes int) ([]spool.Record, error)
	Ack(id spool.ID) error
	Stats() spool.Stats
	Close() error
}

// Agent is the telemetry agent. Make one with New; it is safe for concurrent use.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	red    *redact.Redactor
	client *http.Client
	stream *http.Client
	base   string // Endpoint without a trailing slash
	who    wire.Agent
	start  time.Time

	ring  *ring
	meter meter
	queue queue
	guard atomic.Pointer[guardBox]

	seq  atomic.Uint64 // batch sequence; starts at the boot time in µs so IDs never repeat
	kick chan struct{} // wakes the sender: a batch was queued

	encBuf []byte   // the batcher's encoding buffer, reused
	memo   memoized // the batcher's redactor, remembering one batch's strings

	mu          sync.Mutex // guards the fields below
	reasons     map[string]int64
	intervals   []wire.Interval // metric intervals not yet accepted
	intervalAt  time.Time
	lastSuccess time.Time
	lastError   string

	recorded, sent, retried, failed atomic.Int64
	rejected, queueErrors           atomic.Int64
	breakerOpenUntil                atomic.Int64 // unix nanos; 0 when closed
	policyVersion                   atomic.Int64
	policiesApplied                 atomic.Int64

	bansMu                             sync.Mutex           // serialises applying Studio's bans
	studioBans                         map[banKey]studioBan // the Studio bans placed; bansMu
	bansVersion, bansActive, banErrors atomic.Int64
}

type guardBox struct{ g Guard }

// New checks cfg, opens the spool (recovering what a previous run left in it) and
// returns an Agent. It sends nothing: Run does.
func New(cfg Config) (*Agent, error) {
	if cfg.Endpoint == "" || cfg.Key == "" {
		return nil, errors.New("agent: endpoint and key are required")
	}
	if !strings.HasPrefix(cfg.Endpoint, "http://") && !strings.HasPrefix(cfg.Endpoint, "https://") {
		return nil, fmt.Errorf("agent: endpoint %q: must be an http or https URL", cfg.Endpoint)
	}
	if cfg.BufferSize == 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.BufferSize < 1 || cfg.BatchSize < 1 || cfg.BatchSize > wire.MaxEvents {
		return nil, fmt.Errorf("agent: buffer_size must be positive and batch_size 1–%d", wire.MaxEvents)
	}
	for _, d := range []*time.Duration{&cfg.FlushInterval, &cfg.MetricsInterval, &cfg.StatusInterval} {
		if *d < 0 {
			return nil, errors.New("agent: intervals must not be negative")
		}
	}
	cfg.FlushInterval = cmpOr(cfg.FlushInterval, DefaultFlushInterval)
	cfg.MetricsInterval = cmpOr(cfg.MetricsInterval, DefaultMetricsInterval)
	cfg.StatusInterval = cmpOr(cfg.StatusInterval, DefaultStatusInterval)
	if cfg.MemoryBytes == 0 {
		cfg.MemoryBytes = DefaultMemoryBytes
	}
	if cfg.Instance == "" {
		cfg.Instance, _ = os.Hostname()
	}
	red, err := redact.New(cfg.Redact)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, red: red, client: cfg.HTTPClient, stream: cfg.HTTPClient,
		base: strings.TrimRight(cfg.Endpoint, "/"), start: time.Now(), kick: make(chan struct{}, 1),
		reasons: map[string]int64{}, studioBans: map[banKey]studioBan{}}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: 10 * time.Second}
		a.stream = &http.Client{}
	}
	a.intervalAt = a.start
	a.memo = memoized{r: red, seen: map[string]string{}}
	a.seq.Store(uint64(a.start.UnixMicro()))
	a.ring = newRing(cfg.BufferSize, min(cfg.BatchSize, cfg.BufferSize))
	id := ""
	if cfg.Dir == "" {
		id = newID()
		a.queue = newMemQueue(cfg.MemoryBytes)
	} else {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
		if id, err = loadID(filepath.Join(cfg.Dir, "agent-id")); err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
		opts := spool.Options{MaxBytes: cfg.SpoolBytes}
		if cfg.SpoolSync != "" {
			if err := opts.Sync.UnmarshalText([]byte(cfg.SpoolSync)); err != nil {
				return nil, fmt.Errorf("agent: spool_sync: %w", err)
			}
		}
		if a.queue, err = spool.Open(filepath.Join(cfg.Dir, "spool"), opts); err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
	}
	a.who = wire.Agent{ID: id, Instance: truncate(cfg.Instance, 128), Version: version}
	return a, nil
}

// version is the module version of the binary, "(devel)" for a local build.
var version = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}()

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// newID returns a random agent ID.
func newID() string {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// loadID reads the agent ID kept at path, making one on first use.
func loadID(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" && len(id) <= wire.MaxAgentIDLen {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id := newID()
	return id, writeFileAtomic(path, []byte(id+"\n"))
}

// writeFileAtomic writes data to path through a temporary file and a rename, so a
// crash leaves either the old content or the new.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// SetGuard names the guard that policy sync updates. The agent needs it because the
// guard is built with the agent as its event sink; call it before Run. With no guard,
// or with Config.NoPolicy, policies are not synced.
func (a *Agent) SetGuard(g Guard) {
	a.guard.Store(&guardBox{g})
}

// Record hands an event to the agent. It never blocks and does not allocate: it
// counts the event in the current metrics interval and copies it into the ring,
// dropping the oldest event when the ring is full.
func (a *Agent) Record(e vigil.Event) {
	a.recorded.Add(1)
	a.meter.record(&e)
	a.ring.push(&e)
}

// Run sends until ctx ends, then cuts a last batch from what is in the ring, spools
// it and closes the spool. It returns nil after ctx ends, or an error if the agent
// cannot run at all.
func (a *Agent) Run(ctx context.Context) error {
	if g := a.guard.Load(); g != nil && !a.cfg.NoPolicy {
		a.restorePolicy(g.g)
	}
	var wg sync.WaitGroup
	sendCtx, stopSending := context.WithCancel(context.Background())
	wg.Go(func() { a.sendLoop(sendCtx) })
	wg.Go(func() { a.metricsLoop(ctx) })
	wg.Go(func() { a.statusLoop(ctx) })
	if g := a.guard.Load(); g != nil && !a.cfg.NoPolicy {
		wg.Go(func() {
			// Here, not before the loops start: placing many bans through a
			// shared store takes a while, and telemetry must not wait for it.
			a.restoreBans(ctx, g.g)
			a.policyLoop(ctx, g.g)
		})
	}
	a.batchLoop(ctx)
	// ctx ended: the batcher has spooled the ring. The sender gets a moment to
	// deliver, then stops; whatever is left waits in the spool for the next run.
	select {
	case <-time.After(2 * time.Second):
	case <-a.idle(sendCtx):
	}
	stopSending()
	wg.Wait()
	return a.queue.Close()
}

// idle returns a channel closed when the queue is empty (or ctx ends).
func (a *Agent) idle(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for a.queue.Stats().Records > 0 && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return done
}

// batchLoop cuts batches from the ring: when it holds BatchSize events, and every
// FlushInterval. When ctx ends it cuts what is left and returns.
func (a *Agent) batchLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.FlushInterval)
	defer t.Stop()
	buf := make([]vigil.Event, 0, a.cfg.BatchSize)
	for {
		select {
		case <-ctx.Done():
			for a.cut(&buf) {
			}
			return
		case <-a.ring.wake:
		case <-t.C:
		}
		for a.cut(&buf) {
		}
	}
}

// cut moves up to BatchSize events from the ring into one redacted batch in the
// queue. It reports whether it found any.
func (a *Agent) cut(buf *[]vigil.Event) bool {
	events := a.ring.drain((*buf)[:0], a.cfg.BatchSize)
	*buf = events
	if len(events) == 0 {
		return false
	}
	batch := wire.EventBatch{Version: wire.Version, BatchID: wire.BatchID(a.who.ID, a.seq.Add(1)), Agent: a.who,
		Events: make([]wire.Event, len(events))}
	a.mu.Lock()
	for i := range events {
		e := &events[i]
		if e.Kind == vigil.EventRequest && e.Verdict.WouldBe != vigil.ActionAllow {
			for j, s := range e.Verdict.Signals {
				if !seenCode(e.Verdict.Signals[:j], s.Code) && (len(a.reasons) < wire.MaxCounterKeys || a.reasons[s.Code] > 0) {
					a.reasons[s.Code]++
				}
			}
		}
	}
	a.mu.Unlock()
	batch.Events = batch.Events[:0]
	clear(a.memo.seen)
	for i := range events {
		w := wire.FromEvent(events[i])
		w.Redact(&a.memo)
		events[i] = vigil.Event{} // let the request's memory go
		if err := w.Validate(); err != nil {
			// One bad event must not cost the batch a 400.
			a.rejected.Add(1)
			a.log.Error("agent: event dropped: not valid on the wire", "err", err)
			continue
		}
		batch.Events = append(batch.Events, w)
	}
	a.enqueue(&batch)
	select {
	case a.kick <- struct{}{}:
	default:
	}
	return true
}

// enqueue encodes and compresses a batch of valid events and appends it to the queue.
// A batch larger than a spool segment is split in halves (with derived IDs) until it
// fits; a single event that does not fit is dropped and counted.
func (a *Agent) enqueue(batch *wire.EventBatch) {
	a.encBuf = wire.AppendEventBatch(a.encBuf[:0], batch)
	_, err := a.queue.Append(record(batch.BatchID, wire.Gzip(a.encBuf)))
	if errors.Is(err, spool.ErrTooLarge) && len(batch.Events) > 1 {
		h := len(batch.Events) / 2
		id0, id1 := wire.SplitBatchID(batch.BatchID)
		a.enqueue(&wire.EventBatch{Version: batch.Version, BatchID: id0, Agent: batch.Agent, Events: batch.Events[:h]})
		a.enqueue(&wire.EventBatch{Version: batch.Version, BatchID: id1, Agent: batch.Agent, Events: batch.Events[h:]})
		return
	}
	if err != nil {
		a.queueErrors.Add(int64(len(batch.Events)))
		a.log.Error("agent: events dropped: cannot queue their batch", "events", len(batch.Events), "err", err)
	}
}

// memoized redacts as its Redactor does, remembering the results of String for one
// batch: User-Agents, header fingerprints and signal details repeat from event to
// event, and a map look-up costs a fraction of a scan. Only the batcher uses it.
type memoized struct {
	r    *redact.Redactor
	seen map[string]string // cleared for every batch, so bounded by one batch's strings
}

func (m *memoized) String(s string) string {
	if len(s) < 16 {
		return m.r.String(s)
	}
	if out, ok := m.seen[s]; ok {
		return out
	}
	out := m.r.String(s)
	m.seen[s] = out
	return out
}

func (m *memoized) Header(name, value string) string { return m.r.Header(name, value) }
func (m *memoized) Query(rawQuery string) string     { return m.r.Query(rawQuery) }

func seenCode(s []vigil.Signal, code string) bool {
	for _, x := range s {
		if x.Code == code {
			return true
		}
	}
	return false
}

// record is a batch as queued: its ID, a newline, its gzipped JSON (as it is sent).
// The ID is sent as the Idempotency-Key header without decoding the batch. Records
// spooled by earlier versions hold plain JSON; the sender compresses those.
func record(id string, data []byte) []byte {
	rec := make([]byte, 0, len(id)+1+len(data))
	rec = append(rec, id...)
	rec = append(rec, '\n')
	return append(rec, data...)
}

// splitRecord is record's inverse.
func splitRecord(rec []byte) (id string, data []byte) {
	i := bytes.IndexByte(rec, '\n')
	if i < 0 {
		return "", rec
	}
	return string(rec[:i]), rec[i+1:]
}

// errRejected marks a batch Studio will never accept (400, or one event too large).
var errRejected = errors.New("rejected")

// retryAfter is a send failure that says how long to wait.
type retryAfter struct {
	status int
	wait   time.Duration
}

func (e *retryAfter) Error() string {
	return fmt.Sprintf("studio answered %d, retry after %v", e.status, e.wait)
}

// sendLoop delivers queued batches in order, one at a time, until ctx ends.
func (a *Agent) sendLoop(ctx context.Context) {
	var b backoff
	for ctx.Err() == nil {
		recs, err := a.queue.Read(1, wire.MaxBodySize)
		if err != nil {
			a.log.Error("agent: reading the spool", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(recs) == 0 {
			select {
			case <-ctx.Done():
			case <-a.kick:
			case <-time.After(time.Second):
			}
			continue
		}
		if wait := a.breakerWait(); wait > 0 {
			sleep(ctx, wait)
			continue
		}
		id, data := splitRecord(recs[0].Data)
		err = a.sendEvents(ctx, id, data)
		switch {
		case err == nil || errors.Is(err, errRejected):
			if err := a.queue.Ack(recs[0].ID); err != nil {
				a.log.Error("agent: acknowledging a batch in the spool", "err", err)
			}
			b.reset()
			a.breakerOpenUntil.Store(0)
		case ctx.Err() != nil:
			return
		default:
			a.retried.Add(1)
			wait := b.next()
			var ra *retryAfter
			if errors.As(err, &ra) && ra.wait > wait {
				wait = ra.wait
			}
			if b.failures >= breakerFailures {
				a.breakerOpenUntil.Store(time.Now().Add(wait).UnixNano())
			}
			a.noteError(err)
			a.log.Warn("agent: sending events failed; will retry", "err", err, "retry_in", wait.String(), "failures", b.failures)
			sleep(ctx, wait)
		}
	}
}

// breakerFailures consecutive failures open the circuit breaker: the status and
// metrics loops stop sending until the sender's next attempt succeeds.
const breakerFailures = 5

// breakerWait returns how long the breaker stays open; 0 when it is closed.
func (a *Agent) breakerWait() time.Duration {
	until := a.breakerOpenUntil.Load()
	if until == 0 {
		return 0
	}
	return max(time.Until(time.Unix(0, until)), 0)
}

// sendEvents posts one encoded batch. On 413 it sends the batch in halves (each with
// its own stable ID), recursively, down to single events, which are dropped.
func (a *Agent) sendEvents(ctx context.Context, id string, data []byte) error {
	if !isGzip(data) {
		data = wire.Gzip(data)
	}
	status, err := a.post(ctx, wire.PathEvents, id, data)
	switch {
	case err != nil:
		return err
	case status == http.StatusRequestEntityTooLarge:
		batch, err := decodeEvents(data)
		if err != nil || len(batch.Events) <= 1 {
			a.rejected.Add(int64(len(batch.Events)))
			a.log.Error("agent: Studio refused a single event as too large; dropped", "batch", batch.BatchID)
			return errRejected
		}
		h := len(batch.Events) / 2
		id0, id1 := wire.SplitBatchID(batch.BatchID)
		for _, half := range []wire.EventBatch{
			{Version: batch.Version, BatchID: id0, Agent: batch.Agent, Events: batch.Events[:h]},
			{Version: batch.Version, BatchID: id1, Agent: batch.Agent, Events: batch.Events[h:]},
		} {
			d := wire.Gzip(wire.AppendEventBatch(nil, &half))
			if err := a.sendEvents(ctx, half.BatchID, d); err != nil && !errors.Is(err, errRejected) {
				return err
			}
		}
		return nil
	case status == http.StatusBadRequest:
		n := 0
		if batch, err := decodeEvents(data); err == nil {
			n = len(batch.Events)
		}
		a.rejected.Add(int64(n))
		a.log.Error("agent: Studio rejected a batch as malformed; dropped", "events", n)
		return errRejected
	}
	return nil
}

// isGzip reports whether data starts with the gzip magic number.
func isGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// decodeEvents decodes a queued batch, gzipped or not.
func decodeEvents(data []byte) (wire.EventBatch, error) {
	if isGzip(data) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return wire.EventBatch{}, err
		}
		if data, err = io.ReadAll(io.LimitReader(zr, 4*wire.MaxBodySize)); err != nil {
			return wire.EventBatch{}, err
		}
	}
	return wire.DecodeEvents(data)
}

// post sends one gzipped JSON body and returns the status of a final answer: 2xx,
// 400 or 413. Other answers are errors: a *retryAfter for 429 and 503 with
// Retry-After, a plain error for the rest.
func (a *Agent) post(ctx context.Context, path, batchID string, gz []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(gz))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", "vigil-agent/"+version)
	if batchID != "" {
		// With the key, net/http also resends the request by itself when a kept-alive
		// connection turns out to be dead (Studio restarted).
		req.Header.Set(wire.HeaderIdempotencyKey, batchID)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.failed.Add(1)
		return 0, err
	}
	defer resp.Body.Close()
	var msg [512]byte
	n, _ := resp.Body.Read(msg[:])
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		if path == wire.PathEvents {
			var ack wire.Ack
			if json.Unmarshal(msg[:n], &ack) == nil {
				if ack.Duplicate {
					// Studio had the batch already: an earlier send arrived but its
					// answer did not (a timeout, a restart mid-request). Its events
					// were not counted then; count them now, once.
					if b, err := decodeEvents(gz); err == nil {
						ack.Accepted = len(b.Events)
					}
				}
				a.sent.Add(int64(ack.Accepted))
			}
		}
		a.mu.Lock()
		a.lastSuccess = time.Now()
		a.mu.Unlock()
		return s, nil
	case s == http.StatusBadRequest || s == http.StatusRequestEntityTooLarge:
		return s, nil
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		a.failed.Add(1)
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After")); ok {
			return s, &retryAfter{status: s, wait: d}
		}
		return s, fmt.Errorf("studio answered %d", s)
	default:
		a.failed.Add(1)
		return s, fmt.Errorf("studio answered %d: %s", s, strings.TrimSpace(string(msg[:n])))
	}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date, capped at 5 min.
func parseRetryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, 5*time.Minute), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), 5*time.Minute), true
	}
	return 0, false
}

func (a *Agent) noteError(err error) {
	a.mu.Lock()
	a.lastError = truncate(err.Error(), 512)
	a.mu.Unlock()
}

// backoff is exponential with jitter: 200 ms doubling up to 10 s, each wait drawn
// from the upper half of its ceiling. The cap bounds how long delivery lags after
// Studio comes back from an outage; the breaker and Retry-After keep a struggling
// Studio from being hammered.
type backoff struct{ failures int }

func (b *backoff) reset() { b.failures = 0 }

func (b *backoff) next() time.Duration {
	b.failures++
	ceil := min(200*time.Millisecond<<min(b.failures-1, 8), 10*time.Second)
	return ceil/2 + rand.N(ceil/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
