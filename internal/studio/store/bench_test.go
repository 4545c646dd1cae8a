package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/studio/store"
	"github.com/vigilhq/vigil/internal/wire"
)

// testSignals are the findings of a blocked testEvent (as in agent/throughput_test.go).
var testSignals = []vigil.Signal{
	{Detector: "attack", Code: "sqli", Score: 60, Detail: "query parameter id: ' OR 1=1 --"},
	{Detector: "bot", Code: "headless", Score: 25, Detail: "HeadlessChrome in User-Agent"},
}

// testHeader is what a blocked testEvent carries: FromEvent sends headers and query
// only for requests the policy acted on.
var testHeader = http.Header{
	"Accept":          {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
	"Accept-Encoding": {"gzip, deflate, br, zstd"},
	"Accept-Language": {"en-US,en;q=0.9"},
	"Cookie":          {"session=[redacted]; theme=dark"},
	"Sec-Fetch-Mode":  {"navigate"},
	"Sec-Fetch-Site":  {"none"},
	"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36"},
}

// testEvent returns the i-th of a stream of realistic request events, as the
// agent's throughput benchmark makes them: one in four blocked with two signals
// (and, here, its headers and query), the others allowed with one. Clients come from
// 203.0.113.0/24 and 64 DNA IDs.
func testEvent(i int, now time.Time) vigil.Event {
	e := vigil.Event{Kind: vigil.EventRequest, Time: now, Method: "GET", Host: "shop.example.com",
		Path:      "/e/" + strconv.Itoa(i),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
		Status:    200, Bytes: 5120, Latency: 850 * time.Microsecond,
		Verdict: vigil.Verdict{RequestID: "req-" + strconv.Itoa(i), ClientIP: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}),
			Score: 10, Action: vigil.ActionAllow, WouldBe: vigil.ActionAllow, Signals: testSignals[1:],
			DNA: fingerprint.DNA{ID: "d1-5f0c2a9e4b7d13" + strconv.Itoa(10+i%64), Family: "chrome", Kind: "browser", Source: "connection", Protocol: "h1",
				HDNA:   "hdna1:h1:c:-:Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Accept-Encoding,Accept-Language",
				HDNAID: "ho1-3c1d9a0e77b2", TLS: &fingerprint.TLS{JA4: "t13d1516h2_8daaf6152771_02713d6af862"}},
			Enrichment: vigil.Enrichment{Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH", Client: "chrome", ClientKind: "browser"}}}
	if i%4 == 0 {
		e.Status, e.Bytes = 403, 0
		e.Verdict.Score, e.Verdict.Action, e.Verdict.WouldBe, e.Verdict.Signals = 85, vigil.ActionBlock, vigil.ActionBlock, testSignals
		e.Query, e.Header = "id=1%27%20OR%201%3D1%20--", testHeader
	}
	return e
}

// benchBatch is the events per IngestEvents call in BenchmarkIngest.
const benchBatch = 500

// benchEvents returns n stored-form events built through wire.FromEvent and
// FromWire, with times spread back from now by step.
func benchEvents(tb testing.TB, n int, now time.Time, step time.Duration) []store.Event {
	out := make([]store.Event, n)
	for i := range out {
		var err error
		out[i], err = store.FromWire(wire.FromEvent(testEvent(i, now.Add(-time.Duration(n-i)*step))))
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// ingestWorkers is how many batches BenchmarkIngest sends at once, as a Studio
// server receives batches from several agents at once: on PostgreSQL each waits for
// its commit's flush, so one stream measures the disk's flush latency more than the
// store. SQLite serializes them on its single writer.
const ingestWorkers = 4

// benchStep is the time between two events of BenchmarkIngest's stream.
const benchStep = 20 * time.Microsecond

// BenchmarkIngest stores batches of 500 realistic events, each batch with its own ID,
// ingestWorkers at a time, into a fresh database per engine, and reports events/s.
// Batch i holds events i×500 to i×500+499 of one stream whose times rise by
// benchStep, as an agent's batches do; so, as in production, events_time and
// events_threat grow at their end and each client's entries in events_ip and
// events_dna at the end of the client's range. (Sending the same times in every
// batch instead scatters every index's inserts and makes the result depend on -benchtime.)
// The events are converted (FromWire) before the timer starts; BenchmarkFromWire
// measures that part and BenchmarkIngestBody the whole path of Studio's handler.
//
// The rate falls slowly as the database grows, so compare runs with the same
// -benchtime:
//
//	go test ./internal/studio/store -run '^$' -bench 'Ingest$' -benchtime 400x -count 3
func BenchmarkIngest(b *testing.B) {
	for _, e := range engines(b) {
		b.Run(e.name, func(b *testing.B) {
			s := open(b, e.dsn(b))
			ctx := context.Background()
			p, err := s.CreateProject(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now().Add(-time.Duration(b.N*benchBatch) * benchStep)
			evs := benchEvents(b, benchBatch, t0, 0)
			measureIngest(b, s, p.ID, func(i int64, batch []store.Event) error {
				copy(batch, evs)
				for j := range batch {
					batch[j].Time = t0.Add(time.Duration((i-1)*benchBatch+int64(j)) * benchStep)
				}
				n, dup, err := s.IngestEvents(ctx, p.ID, "bench-"+strconv.FormatInt(i, 10), batch)
				if err == nil && (dup || n != len(batch)) {
					err = fmt.Errorf("IngestEvents = %d, %v", n, dup)
				}
				return err
			})
		})
	}
}

// BenchmarkIngestBody is BenchmarkIngest through the path of Studio's ingest
// handler: the request body of each batch is decoded (wire.DecodeEventsRaw) and
// stored (IngestBatchRaw), each event's Raw its bytes in the body.
//
//	go test ./internal/studio/store -run '^$' -bench IngestBody -benchtime 400x -count 3
func BenchmarkIngestBody(b *testing.B) {
	for _, e := range engines(b) {
		b.Run(e.name, func(b *testing.B) {
			s := open(b, e.dsn(b))
			ctx := context.Background()
			p, err := s.CreateProject(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			// The bodies are encoded before the timer starts, as agents send them.
			t0 := time.Now().Add(-time.Duration(b.N*benchBatch) * benchStep)
			bodies := make([][]byte, b.N)
			for i := range bodies {
				wb := wire.EventBatch{Version: wire.Version, BatchID: "bench-" + strconv.Itoa(i), Agent: wire.Agent{ID: "bench"}}
				for j := range benchBatch {
					k := i*benchBatch + j
					wb.Events = append(wb.Events, wire.FromEvent(testEvent(k, t0.Add(time.Duration(k)*benchStep))))
				}
				if bodies[i], err = wire.EncodeEvents(wb); err != nil {
					b.Fatal(err)
				}
			}
			measureIngest(b, s, p.ID, func(i int64, _ []store.Event) error {
				wb, raws, err := wire.DecodeEventsRaw(bodies[i-1])
				if err != nil {
					return err
				}
				n, dup, err := s.IngestBatchRaw(ctx, p.ID, &wb, raws)
				if err == nil && (dup || n != len(wb.Events)) {
					err = fmt.Errorf("IngestBatch = %d, %v", n, dup)
				}
				return err
			})
		})
	}
}

// measureIngest runs b.N batches of benchBatch events, ingestWorkers at a time, each
// by ingest(i, buf) with i from 1 and buf a benchBatch-long slice of the worker's
// own, and reports events/s and the process's CPU time per event. It checks that
// the project then holds every event.
func measureIngest(b *testing.B, s *store.Store, project int64, ingest func(i int64, buf []store.Event) error) {
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for range ingestWorkers {
		wg.Go(func() {
			buf := make([]store.Event, benchBatch)
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := ingest(i, buf); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n := float64(b.N * benchBatch)
	b.ReportMetric(n/time.Since(start).Seconds(), "events/s")
	// On a loaded machine events/s falls with the CPU share the process gets;
	// CPU time per event does not. A PostgreSQL server's CPU is not counted.
	b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/event")
	b.StopTimer()
	if st, err := s.Stats(context.Background(), project); err != nil || st.EventsTotal != int64(n) {
		b.Errorf("stored %d events, %v; want %d", st.EventsTotal, err, int64(n))
	}
}

// TestFromWireRaw checks that FromWire's Raw, and the Raw IngestBatch stores, are
// the bytes json.Marshal writes for the event.
func TestFromWireRaw(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	var evs []wire.Event
	for i := range 4 {
		evs = append(evs, wire.FromEvent(testEvent(i, now.Add(time.Duration(i)*time.Millisecond))))
	}
	// Decoded events hold valid UTF-8 only (the decoder replaces the rest).
	odd := evs[1]
	odd.Time = now.Add(time.Second)
	odd.ClientIP = netip.MustParseAddr("fe80::1%eth0")
	odd.Path, odd.UserAgent = "/<script>&\u2028\u2029/ä", "\"quoted\"\n\t\x01"
	evs = append(evs, odd)
	for i, e := range evs {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.FromWire(e)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Raw) != string(want) {
			t.Errorf("event %d: FromWire Raw =\n%s\nwant\n%s", i, got.Raw, want)
		}
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			s := open(t, e.dsn(t))
			ctx := context.Background()
			p, err := s.CreateProject(ctx, "raw")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.IngestBatch(ctx, p.ID, &wire.EventBatch{BatchID: "b", Events: evs}); err != nil {
				t.Fatal(err)
			}
			got, _, err := s.Events(ctx, p.ID, store.Filter{}, store.Cursor{})
			if err != nil || len(got) != len(evs) {
				t.Fatalf("Events = %d events, %v; want %d", len(got), err, len(evs))
			}
			for i, g := range got {
				e := evs[len(evs)-1-i] // newest first
				want, _ := json.Marshal(e)
				if string(g.Raw) != string(want) {
					t.Errorf("event %d: stored Raw =\n%s\nwant\n%s", i, g.Raw, want)
				}
			}
		})
	}
}

// BenchmarkFromWire measures the conversion of one native event to its row (one
// json.Marshal), which IngestBatch adds to IngestEvents.
func BenchmarkFromWire(b *testing.B) {
	w := wire.FromEvent(testEvent(0, time.Now()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.FromWire(w); err != nil {
			b.Fatal(err)
		}
	}
}
