// Package wiretest is an in-memory Studio for tests: a real HTTP server on a loopback
// port that implements every endpoint of the wire protocol (package wire, docs/wire.md)
// and records what it receives. It is the agent's test double and a reference for
// Studio's ingest.
//
// Beyond the protocol it can be told to fail requests (FailNext), to refuse batches
// over a size (SetMaxEvents), and to go down and come back on the same address (Down,
// Up). It keeps everything in memory and forgets it when closed.
package wiretest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/policy"
)

// DefaultKey is the ingest key of a server whose Config.Key is empty.
const DefaultKey = "wiretest-key"

// Config configures a Server. The zero value is usable.
type Config struct {
	// Key is the bearer key every request must carry. Empty means DefaultKey.
	Key string
	// PingInterval is the time between ": ping" comments on policy streams. Zero means
	// 15 seconds.
	PingInterval time.Duration
	// MaxBodySize bounds request bodies after decompression. Zero means
	// wire.MaxBodySize.
	MaxBodySize int64
}

// Fault is an answer a Server gives instead of serving a request.
type Fault struct {
	// Status is the status code, for example 500, 503 or 429.
	Status int
	// RetryAfter, when positive, is sent as Retry-After in whole seconds, rounded up.
	RetryAfter time.Duration
	// Path limits the fault to requests for this path (wire.PathEvents, …). Empty
	// matches every path.
	Path string
}

// Request is one request the server received, whatever it answered.
type Request struct {
	Method string
	Path   string
	Header http.Header
	// Body is the body after decompression; nil when it could not be read.
	Body []byte
	// Status is the status the server answered.
	Status int
}

// Server is the in-memory Studio. Its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	addr string

	mu         sync.Mutex
	gen        *generation // nil while down
	closed     bool
	faults     []Fault
	lose       map[string]int // path → answers to lose after storing
	maxEvents  int
	eventIDs   map[string]bool
	metricIDs  map[string]bool
	batches    []wire.EventBatch
	metrics    []wire.MetricBatch
	statuses   []wire.Status
	duplicates int
	requests   []Request
	version    int64  // the newest published policy version
	snapshot   []byte // its encoded snapshot
	subs       map[chan struct{}]struct{}
	changed    chan struct{} // closed and replaced on every change
}

// generation is one period during which the server listens.
type generation struct {
	srv    *http.Server
	down   chan struct{} // closed when the generation ends
	active int           // handlers running
	ending bool
	done   chan struct{} // closed when ending and no handler runs
}

// New starts a server on a loopback port and closes it when tb's test ends.
func New(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s, err := Start(cfg)
	if err != nil {
		tb.Fatalf("wiretest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a server on a loopback port, for use outside a test's lifetime; the
// caller must Close it.
func Start(cfg Config) (*Server, error) {
	if cfg.Key == "" {
		cfg.Key = DefaultKey
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 15 * time.Second
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = wire.MaxBodySize
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		addr:      ln.Addr().String(),
		eventIDs:  map[string]bool{},
		metricIDs: map[string]bool{},
		subs:      map[chan struct{}]struct{}{},
		changed:   make(chan struct{}),
	}
	s.start(ln)
	return s, nil
}

// URL returns the server's base URL, "http://127.0.0.1:<port>". It stays the same
// across Down and Up.
func (s *Server) URL() string { return "http://" + s.addr }

// Key returns the bearer key the server expects.
func (s *Server) Key() string { return s.cfg.Key }

func (s *Server) start(ln net.Listener) {
	g := &generation{down: make(chan struct{}), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+wire.PathEvents, s.serveEvents)
	mux.HandleFunc("POST "+wire.PathMetrics, s.serveMetrics)
	mux.HandleFunc("POST "+wire.PathStatus, s.serveStatus)
	mux.HandleFunc("GET "+wire.PathPolicy, s.servePolicy)
	mux.HandleFunc("GET "+wire.PathPolicyStream, func(w http.ResponseWriter, r *http.Request) {
		s.serveStream(w, r, g.down)
	})
	g.srv = &http.Server{Handler: s.track(g, mux), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.gen = g
	s.mu.Unlock()
	go g.srv.Serve(ln) // returns when Down closes the server
}

// track counts g's running handlers so that Down can wait for them.
func (s *Server) track(g *generation, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if g.ending {
			s.mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		g.active++
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			g.active--
			if g.ending && g.active == 0 {
				close(g.done)
			}
			s.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// Down closes the listener and every connection, open policy streams included, and
// waits for the handlers to return. Requests fail with a connection error until Up.
func (s *Server) Down() {
	s.mu.Lock()
	g := s.gen
	if g == nil {
		s.mu.Unlock()
		return
	}
	s.gen = nil
	g.ending = true
	if g.active == 0 {
		close(g.done)
	}
	close(g.down)
	s.mu.Unlock()
	g.srv.Close()
	<-g.done
	s.notify()
}

// Up listens again on the same address after Down. It is a no-op while up.
func (s *Server) Up() error {
	s.mu.Lock()
	up, closed := s.gen != nil, s.closed
	s.mu.Unlock()
	if closed {
		return errors.New("wiretest: server closed")
	}
	if up {
		return nil
	}
	var (
		ln  net.Listener
		err error
	)
	for range 50 { // the port may linger for a moment after Close
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			s.start(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("wiretest: listen again on %s: %w", s.addr, err)
}

// Close shuts the server down for good. New registers it with the test's cleanup;
// closing twice is harmless.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.Down()
}

// FailNext answers the next n requests that match f.Path with f instead of serving
// them (after the key check). Faults queue up in the order they were set.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// LoseNextAnswers makes the server store the next n batches for path (wire.PathEvents
// or wire.PathMetrics) and then answer 500 instead of its acknowledgement: the answer
// lost after the work was done, which a client can only retry.
func (s *Server) LoseNextAnswers(n int, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lose == nil {
		s.lose = map[string]int{}
	}
	s.lose[path] += n
}

// SetMaxEvents makes the server answer 413 to event batches with more than k events
// and metric batches with more than k intervals, as a Studio with a smaller body cap
// would. Zero removes the limit.
func (s *Server) SetMaxEvents(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxEvents = k
}

// Publish makes p the current policy with the next version (1, 2, …), without bans,
// and sends it to every stream. A snapshot is the full set of bans, so this lifts the
// bans published before. It panics if p is invalid, as regexp.MustCompile does.
func (s *Server) Publish(p policy.Policy) (version int64) {
	return s.PublishSnapshot(p, nil)
}

// PublishSnapshot makes p and bans the current snapshot with the next version and
// sends it to every stream: bans are then the whole set Studio places, and a ban left
// out of the next snapshot is lifted. It panics if p or a ban is invalid.
func (s *Server) PublishSnapshot(p policy.Policy, bans []wire.Ban) (version int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	version = s.version + 1
	data, err := wire.EncodeSnapshot(wire.PolicySnapshot{Version: version, Policy: p, Bans: bans})
	if err != nil {
		panic(fmt.Sprintf("wiretest: PublishSnapshot: %v", err))
	}
	s.publishLocked(version, data)
	return version
}

// PublishRaw publishes data as the snapshot of the next version without checking it,
// to test how the agent treats a snapshot it must refuse. data must be on one line.
func (s *Server) PublishRaw(data []byte) (version int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	version = s.version + 1
	s.publishLocked(version, bytes.ReplaceAll(data, []byte("\n"), nil))
	return version
}

func (s *Server) publishLocked(version int64, data []byte) {
	s.version, s.snapshot = version, data
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	s.changedLocked()
}

// Batches returns the accepted event batches in the order they arrived, each once.
func (s *Server) Batches() []wire.EventBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

// Events returns the events of every accepted batch, in order.
func (s *Server) Events() []wire.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wire.Event
	for _, b := range s.batches {
		out = append(out, b.Events...)
	}
	return out
}

// MetricBatches returns the accepted metric batches in the order they arrived.
func (s *Server) MetricBatches() []wire.MetricBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.metrics)
}

// Statuses returns every status received, in order.
func (s *Server) Statuses() []wire.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// Duplicates returns how many batches (events and metrics) arrived with an ID already
// accepted.
func (s *Server) Duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.duplicates
}

// Requests returns every request received, in order, whatever the answer.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Saw reports whether any request body received, decompressed, contains sub: the check
// for a canary string that must never leave the agent.
func (s *Server) Saw(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.requests {
		if bytes.Contains(r.Body, []byte(sub)) {
			return true
		}
	}
	return false
}

// Subscribers returns the number of policy streams open now.
func (s *Server) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// WaitFor returns nil as soon as cond reports true, checking it now and after every
// request and stream change, or ctx's error. cond may call the Server's methods.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) notify() {
	s.mu.Lock()
	s.changedLocked()
	s.mu.Unlock()
}

// record adds a request to the log.
func (s *Server) record(r *http.Request, body []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Status: status})
	s.changedLocked()
}

// admit checks the key and the fault queue. It answers and returns false when the
// request must not be served.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(s.cfg.Key)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
		wire.WriteProblem(w, http.StatusUnauthorized, nil)
		s.record(r, nil, http.StatusUnauthorized)
		return false
	}
	s.mu.Lock()
	i := slices.IndexFunc(s.faults, func(f Fault) bool { return f.Path == "" || f.Path == r.URL.Path })
	var f Fault
	if i >= 0 {
		f = s.faults[i]
		s.faults = slices.Delete(s.faults, i, i+1)
	}
	s.mu.Unlock()
	if i < 0 {
		return true
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
	}
	wire.WriteProblem(w, f.Status, nil)
	s.record(r, nil, f.Status)
	return false
}

// readBody reads a POST body and answers 413, 415 or 400 when it cannot.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := wire.ReadBody(r, s.cfg.MaxBodySize)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, wire.ErrTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, wire.ErrEncoding):
			status = http.StatusUnsupportedMediaType
		}
		wire.WriteProblem(w, status, &wire.FieldError{Msg: err.Error()})
		s.record(r, nil, status)
		return nil, false
	}
	return body, true
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	b, err := wire.DecodeEvents(body)
	if err != nil {
		wire.WriteProblem(w, http.StatusBadRequest, err)
		s.record(r, body, http.StatusBadRequest)
		return
	}
	s.ingest(w, r, body, s.eventIDs, b.BatchID, len(b.Events), func() { s.batches = append(s.batches, b) })
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	b, err := wire.DecodeMetrics(body)
	if err != nil {
		wire.WriteProblem(w, http.StatusBadRequest, err)
		s.record(r, body, http.StatusBadRequest)
		return
	}
	s.ingest(w, r, body, s.metricIDs, b.BatchID, len(b.Intervals), func() { s.metrics = append(s.metrics, b) })
}

// ingest deduplicates a decoded batch of n items, applies the SetMaxEvents limit and
// stores it with keep.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, body []byte, seen map[string]bool, id string, n int, keep func()) {
	if k := r.Header.Get(wire.HeaderIdempotencyKey); k != "" && k != id {
		wire.WriteProblem(w, http.StatusBadRequest, &wire.FieldError{Field: "batch_id", Msg: "differs from the Idempotency-Key header"})
		s.record(r, body, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	var (
		status int
		ack    wire.Ack
		limit  = s.maxEvents
	)
	switch {
	case seen[id]:
		s.duplicates++
		status, ack = http.StatusOK, wire.Ack{Duplicate: true}
	case limit > 0 && n > limit:
		status = http.StatusRequestEntityTooLarge
	default:
		seen[id] = true
		keep()
		status, ack = http.StatusAccepted, wire.Ack{Accepted: n}
		if s.lose[r.URL.Path] > 0 {
			s.lose[r.URL.Path]--
			status = http.StatusInternalServerError
		}
	}
	s.mu.Unlock()
	if status == http.StatusInternalServerError {
		wire.WriteProblem(w, status, nil)
	} else if status == http.StatusRequestEntityTooLarge {
		wire.WriteProblem(w, status, &wire.FieldError{Msg: fmt.Sprintf("%d items, more than %d", n, limit)})
	} else {
		writeJSON(w, status, ack)
	}
	s.record(r, body, status)
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	st, err := wire.DecodeStatus(body)
	if err != nil {
		wire.WriteProblem(w, http.StatusBadRequest, err)
		s.record(r, body, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.statuses = append(s.statuses, st)
	v := s.version
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, wire.StatusReply{PolicyVersion: v})
	s.record(r, body, http.StatusOK)
}

func (s *Server) servePolicy(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r) {
		return
	}
	s.mu.Lock()
	v, data := s.version, s.snapshot
	s.mu.Unlock()
	status := http.StatusOK
	switch etag := `"` + strconv.FormatInt(v, 10) + `"`; {
	case v == 0:
		status = http.StatusNoContent
		w.WriteHeader(status)
	case r.Header.Get("If-None-Match") == etag:
		status = http.StatusNotModified
		w.Header().Set("ETag", etag)
		w.WriteHeader(status)
	default:
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", wire.ContentTypeJSON)
		w.WriteHeader(status)
		w.Write(data)
	}
	s.record(r, nil, status)
}

func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, down <-chan struct{}) {
	if !s.admit(w, r) {
		return
	}
	rc := http.NewResponseController(w)
	last, _ := strconv.ParseInt(strings.TrimSpace(r.Header.Get("Last-Event-ID")), 10, 64)
	wake := make(chan struct{}, 1)
	wake <- struct{}{} // send the current snapshot first
	s.mu.Lock()
	s.subs[wake] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, wake)
		s.changedLocked()
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", wire.ContentTypeStream)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	s.record(r, nil, http.StatusOK)
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-down:
			return
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		case <-wake:
			s.mu.Lock()
			v, data := s.version, s.snapshot
			s.mu.Unlock()
			if v <= last {
				continue
			}
			if wire.WritePolicyEvent(w, v, data) != nil || rc.Flush() != nil {
				return
			}
			last = v
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", wire.ContentTypeJSON)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
