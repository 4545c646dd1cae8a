package wiretest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/policy"
)

var t0 = time.Date(2026, 5, 1, 12, 34, 56, 0, time.UTC)

// client sends requests to a Server as an agent would.
type client struct {
	t   *testing.T
	s   *Server
	key string
	hc  *http.Client
}

func newClient(t *testing.T, s *Server) *client {
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	return &client{t: t, s: s, key: s.Key(), hc: hc}
}

// post sends body to path, gzipped when gz, and returns the status, the Retry-After
// header and the answer.
func (c *client) post(path string, body []byte, gz bool) (int, string, []byte) {
	c.t.Helper()
	raw := body
	if gz {
		body = wire.Gzip(body)
	}
	req, _ := http.NewRequest("POST", c.s.URL()+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", wire.ContentTypeJSON)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	var id struct {
		BatchID string `json:"batch_id"`
	}
	if json.Unmarshal(raw, &id) == nil && id.BatchID != "" {
		req.Header.Set(wire.HeaderIdempotencyKey, id.BatchID)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), out
}

func batch(id string, n int, path string) []byte {
	b := wire.EventBatch{Version: 1, BatchID: id, Agent: wire.Agent{ID: "a1"}, Events: []wire.Event{}}
	for range n {
		b.Events = append(b.Events, wire.Event{Time: t0, Kind: "request", Path: path})
	}
	data, err := wire.EncodeEvents(b)
	if err != nil {
		panic(err)
	}
	return data
}

func ack(t *testing.T, body []byte) wire.Ack {
	t.Helper()
	var a wire.Ack
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("ack %q: %v", body, err)
	}
	return a
}

func TestIngestEvents(t *testing.T) {
	s := New(t, Config{})
	c := newClient(t, s)

	status, _, body := c.post(wire.PathEvents, batch("a1-1", 3, "/x?canary=SECRET-CANARY"), true)
	if status != http.StatusAccepted || ack(t, body) != (wire.Ack{Accepted: 3}) {
		t.Fatalf("first batch: %d %s", status, body)
	}
	status, _, body = c.post(wire.PathEvents, batch("a1-1", 3, "/x"), false)
	if status != http.StatusOK || ack(t, body) != (wire.Ack{Duplicate: true}) {
		t.Fatalf("duplicate: %d %s", status, body)
	}
	status, _, _ = c.post(wire.PathEvents, batch("a1-2", 1, "/y"), false)
	if status != http.StatusAccepted {
		t.Fatalf("second batch: %d", status)
	}
	if n := len(s.Batches()); n != 2 {
		t.Errorf("%d batches stored, want 2", n)
	}
	if n := len(s.Events()); n != 4 {
		t.Errorf("%d events stored, want 4", n)
	}
	if s.Duplicates() != 1 {
		t.Errorf("Duplicates = %d, want 1", s.Duplicates())
	}
	if !s.Saw("SECRET-CANARY") {
		t.Error("Saw does not find a string sent gzipped")
	}
	if s.Saw("NEVER-SENT") {
		t.Error("Saw finds a string never sent")
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Header.Get("Content-Encoding") != "gzip" || !bytes.HasPrefix(reqs[0].Body, []byte("{")) {
		t.Errorf("requests not recorded decompressed: %+v", reqs)
	}

	status, _, body = c.post(wire.PathEvents, []byte(`{"version":1,"batch_id":"a1-3","agent":{"id":"a1"},"events":[{"kind":"request"}]}`), false)
	var p wire.Problem
	if status != http.StatusBadRequest || json.Unmarshal(body, &p) != nil || p.Field != "events[0].time" {
		t.Errorf("bad batch: %d %s", status, body)
	}
}

func TestIdempotencyKeyMismatch(t *testing.T) {
	s := New(t, Config{})
	req, _ := http.NewRequest("POST", s.URL()+wire.PathEvents, bytes.NewReader(batch("a1-1", 1, "/")))
	req.Header.Set("Authorization", "Bearer "+s.Key())
	req.Header.Set(wire.HeaderIdempotencyKey, "a1-2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(s.Batches()) != 0 {
		t.Errorf("mismatched Idempotency-Key: %d, %d batches stored; want 400 and none", resp.StatusCode, len(s.Batches()))
	}
}

func TestAuth(t *testing.T) {
	s := New(t, Config{Key: "k-123"})
	c := newClient(t, s)
	for _, key := range []string{"", "wrong", "k-1234"} {
		c.key = key
		if status, _, _ := c.post(wire.PathEvents, batch("a1-1", 1, "/"), false); status != http.StatusUnauthorized {
			t.Errorf("key %q: %d, want 401", key, status)
		}
	}
	req, _ := http.NewRequest("GET", s.URL()+wire.PathPolicy, nil)
	req.Header.Set("Authorization", "Basic k-123")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Basic scheme: %d, want 401", resp.StatusCode)
	}
	if len(s.Batches()) != 0 {
		t.Error("a batch without the key was stored")
	}
	c.key = "k-123"
	if status, _, _ := c.post(wire.PathEvents, batch("a1-1", 1, "/"), false); status != http.StatusAccepted {
		t.Errorf("right key: %d", status)
	}
}

func TestFaults(t *testing.T) {
	s := New(t, Config{})
	c := newClient(t, s)
	s.FailNext(1, Fault{Status: 429, RetryAfter: 1500 * time.Millisecond})
	s.FailNext(1, Fault{Status: 500, Path: wire.PathMetrics})
	s.FailNext(1, Fault{Status: 503})

	status, retry, _ := c.post(wire.PathEvents, batch("a1-1", 1, "/"), false)
	if status != 429 || retry != "2" {
		t.Errorf("first: %d Retry-After %q, want 429 and 2", status, retry)
	}
	// The 500 waits for a metrics request; this events request gets the 503.
	if status, _, _ := c.post(wire.PathEvents, batch("a1-1", 1, "/"), false); status != 503 {
		t.Errorf("second: %d, want 503", status)
	}
	if status, _, _ := c.post(wire.PathEvents, batch("a1-1", 1, "/"), false); status != 202 {
		t.Errorf("third: %d, want 202", status)
	}
	m := []byte(`{"version":1,"batch_id":"a1-9","agent":{"id":"a1"},"intervals":[]}`)
	if status, _, _ := c.post(wire.PathMetrics, m, false); status != 500 {
		t.Errorf("metrics: %d, want 500", status)
	}
	if status, _, _ := c.post(wire.PathMetrics, m, false); status != 202 {
		t.Errorf("metrics again: %d, want 202", status)
	}
	if len(s.Batches()) != 1 || len(s.MetricBatches()) != 1 {
		t.Errorf("stored %d event and %d metric batches, want 1 and 1", len(s.Batches()), len(s.MetricBatches()))
	}
}

func TestTooLarge(t *testing.T) {
	s := New(t, Config{MaxBodySize: 2000})
	c := newClient(t, s)
	s.SetMaxEvents(4)
	if status, _, _ := c.post(wire.PathEvents, batch("a1-1", 5, "/"), false); status != 413 {
		t.Errorf("5 events over a limit of 4: %d, want 413", status)
	}
	first, second := wire.SplitBatchID("a1-1")
	for _, id := range []string{first, second} {
		if status, _, _ := c.post(wire.PathEvents, batch(id, 3, "/"), false); status != 202 {
			t.Errorf("half %s: %d, want 202", id, status)
		}
	}
	s.SetMaxEvents(0)
	if status, _, _ := c.post(wire.PathEvents, batch("a1-2", 1, "/"+strings.Repeat("a", 3000)), true); status != 413 {
		t.Errorf("body over MaxBodySize after decompression: %d, want 413", status)
	}
}

func TestStatusAndPolicy(t *testing.T) {
	s := New(t, Config{})
	c := newClient(t, s)
	st, _ := wire.EncodeStatus(wire.Status{Version: 1, Agent: wire.Agent{ID: "a1"}, Time: t0, PolicyVersion: 0})
	get := func(etag string) (int, []byte) {
		req, _ := http.NewRequest("GET", s.URL()+wire.PathPolicy, nil)
		req.Header.Set("Authorization", "Bearer "+s.Key())
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, _ := get(""); status != http.StatusNoContent {
		t.Errorf("GET before publishing: %d, want 204", status)
	}
	if _, _, body := c.post(wire.PathStatus, st, false); string(body) != "{\"policy_version\":0}\n" {
		t.Errorf("status reply %s", body)
	}
	v := s.Publish(policy.Policy{Mode: policy.ModeMonitor})
	if v != 1 {
		t.Errorf("first version %d", v)
	}
	status, body := get("")
	snap, err := wire.DecodePolicy(body)
	if status != 200 || err != nil || snap.Version != 1 || snap.Policy.Mode != policy.ModeMonitor {
		t.Errorf("GET: %d %+v %v", status, snap, err)
	}
	if status, _ := get(`"1"`); status != http.StatusNotModified {
		t.Errorf("GET with the current ETag: %d, want 304", status)
	}
	if _, _, body := c.post(wire.PathStatus, st, false); string(body) != "{\"policy_version\":1}\n" {
		t.Errorf("status reply %s", body)
	}
	if n := len(s.Statuses()); n != 2 {
		t.Errorf("%d statuses, want 2", n)
	}
}

// stream opens the policy stream with lastID and returns its reader and a closer.
func stream(t *testing.T, c *client, lastID string) (*wire.StreamReader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.s.URL()+wire.PathPolicyStream, nil)
	req.Header.Set("Authorization", "Bearer "+c.key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	hc := &http.Client{Transport: &http.Transport{}} // no timeout: the stream stays open
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wire.ContentTypeStream {
		t.Fatalf("stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return wire.NewStreamReader(resp.Body), func() { cancel(); resp.Body.Close(); hc.CloseIdleConnections() }
}

func TestStream(t *testing.T) {
	s := New(t, Config{PingInterval: 20 * time.Millisecond})
	c := newClient(t, s)
	s.Publish(policy.Policy{BlockThreshold: 70})
	v2 := s.Publish(policy.Policy{BlockThreshold: 60})

	r, stop := stream(t, c, "")
	defer stop()
	snap, err := r.Next()
	if err != nil || snap.Version != v2 || snap.Policy.BlockThreshold != 60 {
		t.Fatalf("snapshot on connect: %+v %v, want version %d", snap, err, v2)
	}
	v3 := s.Publish(policy.Policy{BlockThreshold: 50})
	snap, err = r.Next()
	if err != nil || snap.Version != v3 || snap.Policy.BlockThreshold != 50 || r.LastEventID() != "3" {
		t.Fatalf("published: %+v %v", snap, err)
	}

	// Resuming at the current version sends no snapshot until the next one.
	r2, stop2 := stream(t, c, r.LastEventID())
	defer stop2()
	if err := s.WaitFor(ctxT(t), func() bool { return s.Subscribers() == 2 }); err != nil {
		t.Fatal(err)
	}
	v4 := s.Publish(policy.Policy{BlockThreshold: 40})
	if snap, err := r2.Next(); err != nil || snap.Version != v4 {
		t.Fatalf("resumed stream: %+v %v, want version %d first", snap, err, v4)
	}
	// An invalid snapshot reaches the agent as a FieldError, and the stream goes on.
	s.PublishRaw([]byte(`{"version":5,"policy":{"treshold":1}}`))
	var fe *wire.FieldError
	if _, err := r2.Next(); !errors.As(err, &fe) {
		t.Fatalf("invalid snapshot: %v, want a FieldError", err)
	}
	v6 := s.Publish(policy.Policy{})
	if snap, err := r2.Next(); err != nil || snap.Version != v6 {
		t.Fatalf("after an invalid snapshot: %+v %v", snap, err)
	}
	// A snapshot with bans reaches the stream whole; the next one without them is
	// an empty set.
	bans := []wire.Ban{{Kind: "ip", Value: "192.0.2.1", Reason: "test"}, {Kind: "cidr", Value: "198.51.100.0/24"}}
	v7 := s.PublishSnapshot(policy.Policy{}, bans)
	if snap, err := r2.Next(); err != nil || snap.Version != v7 || !cmp.Equal(snap.Bans, bans) {
		t.Fatalf("snapshot with bans: %+v %v, want version %d with %v", snap, err, v7, bans)
	}
	v8 := s.Publish(policy.Policy{})
	if snap, err := r2.Next(); err != nil || snap.Version != v8 || len(snap.Bans) != 0 {
		t.Fatalf("snapshot after the bans: %+v %v", snap, err)
	}
}

func TestStreamPings(t *testing.T) {
	s := New(t, Config{PingInterval: 10 * time.Millisecond})
	req, _ := http.NewRequest("GET", s.URL()+wire.PathPolicyStream, nil)
	req.Header.Set("Authorization", "Bearer "+s.Key())
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, len(": ping\n\n: ping\n\n"))
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != ": ping\n\n: ping\n\n" {
		t.Errorf("stream without a policy: %q %v, want two pings", buf, err)
	}
}

func TestDownUp(t *testing.T) {
	s := New(t, Config{})
	c := newClient(t, s)
	url := s.URL()
	r, stop := stream(t, c, "")
	defer stop()
	if err := s.WaitFor(ctxT(t), func() bool { return s.Subscribers() == 1 }); err != nil {
		t.Fatal(err)
	}

	s.Down()
	if _, err := r.Next(); err == nil {
		t.Error("the stream survived Down")
	}
	if s.Subscribers() != 0 {
		t.Errorf("%d subscribers after Down", s.Subscribers())
	}
	req, _ := http.NewRequest("POST", url+wire.PathEvents, bytes.NewReader(batch("a1-1", 1, "/")))
	if resp, err := c.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("request while down answered %d", resp.StatusCode)
	}

	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	if s.URL() != url {
		t.Errorf("URL changed from %s to %s", url, s.URL())
	}
	if status, _, _ := c.post(wire.PathEvents, batch("a1-1", 1, "/"), false); status != 202 {
		t.Errorf("after Up: %d", status)
	}
	// What was received before Down is kept.
	s.Down()
	s.Down() // idempotent
	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := c.post(wire.PathEvents, batch("a1-1", 1, "/"), false); status != 200 {
		t.Errorf("duplicate across Down/Up: %d, want 200", status)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("server", func(t *testing.T) {
		s := New(t, Config{PingInterval: 5 * time.Millisecond})
		c := newClient(t, s)
		_, stop := stream(t, c, "")
		defer stop()
		c.post(wire.PathEvents, batch("a1-1", 1, "/"), false)
		s.Down()
		if err := s.Up(); err != nil {
			t.Fatal(err)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func Example() {
	s, err := Start(Config{Key: "k"}) // in a test: s := New(t, Config{Key: "k"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	body, _ := wire.EncodeEvents(wire.EventBatch{
		Version: wire.Version, BatchID: wire.BatchID("agent1", 1), Agent: wire.Agent{ID: "agent1"},
		Events: []wire.Event{{Time: t0, Kind: "request", Path: "/login"}},
	})
	for range 2 { // a retry of the same batch is stored once
		req, _ := http.NewRequest("POST", s.URL()+wire.PathEvents, bytes.NewReader(wire.Gzip(body)))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(answer))
	}
	fmt.Println(len(s.Events()), s.Duplicates(), s.Saw("/login"))
	// Output:
	// 202 {"accepted":1,"duplicate":false}
	// 200 {"accepted":0,"duplicate":true}
	// 1 1 true
}
