package store_test

import (
	"context"
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

// ingestWorkers is how many batches BenchmarkIngest sends at once, as several agents
// (or one agent's retries) would: on PostgreSQL each waits for its commit's flush, so
// one stream measures the disk's flush latency more than the store. SQLite
// serializes them on its single writer.
const ingestWorkers = 4

// BenchmarkIngest stores batches of 500 realistic events, each batch with its own ID,
// ingestWorkers at a time, into a fresh database per engine, and reports events/s.
// The events are converted (FromWire) before the timer starts; BenchmarkFromWire
// measures that part.
//
//	go test ./internal/studio/store -run '^$' -bench Ingest -benchtime 400x
func BenchmarkIngest(b *testing.B) {
	for _, e := range engines(b) {
		b.Run(e.name, func(b *testing.B) {
			s := open(b, e.dsn(b))
			ctx := context.Background()
			p, err := s.CreateProject(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			evs := benchEvents(b, benchBatch, time.Now(), time.Millisecond)
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var wg sync.WaitGroup
			for range ingestWorkers {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						n, dup, err := s.IngestEvents(ctx, p.ID, "bench-"+strconv.FormatInt(i, 10), evs)
						if err != nil || dup || n != len(evs) {
							b.Errorf("IngestEvents = %d, %v, %v", n, dup, err)
							return
						}
					}
				})
			}
			wg.Wait()
			n := float64(b.N * len(evs))
			b.ReportMetric(n/time.Since(start).Seconds(), "events/s")
			// On a loaded machine events/s falls with the CPU share the process gets;
			// CPU time per event does not. A PostgreSQL server's CPU is not counted.
			b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/event")
			if st, err := s.Stats(ctx, p.ID); err != nil || st.EventsTotal != int64(n) {
				b.Errorf("stored %d events, %v; want %d", st.EventsTotal, err, int64(n))
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
