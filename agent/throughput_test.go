package agent_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/internal/wire/wiretest"
)

// testSignals are the findings of a blocked testEvent; FromEvent copies them, so
// the events may share them.
var testSignals = []vigil.Signal{
	{Detector: "attack", Code: "sqli", Score: 60, Detail: "query parameter id: ' OR 1=1 --"},
	{Detector: "bot", Code: "headless", Score: 25, Detail: "HeadlessChrome in User-Agent"},
}

// testEvent returns the i-th of a stream of realistic request events: one in four
// blocked with two signals, the others allowed with one; path /e/<i> and request ID
// "req-<i>" name it uniquely.
func testEvent(i int, now time.Time) vigil.Event {
	e := vigil.Event{Kind: vigil.EventRequest, Time: now, Method: "GET", Host: "shop.example.com",
		Path:      "/e/" + strconv.Itoa(i),
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
		Status:    200, Bytes: 5120, Latency: 850 * time.Microsecond,
		Verdict: vigil.Verdict{RequestID: "req-" + strconv.Itoa(i), ClientIP: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}),
			Score: 10, Action: vigil.ActionAllow, WouldBe: vigil.ActionAllow, Signals: testSignals[1:],
			DNA: fingerprint.DNA{ID: "d1-5f0c2a9e4b7d1386", Family: "chrome", Kind: "browser", Source: "connection", Protocol: "h1",
				HDNA:   "hdna1:h1:c:-:Host,Connection,sec-ch-ua,sec-ch-ua-mobile,sec-ch-ua-platform,Upgrade-Insecure-Requests,User-Agent,Accept,Sec-Fetch-Site,Sec-Fetch-Mode,Sec-Fetch-User,Sec-Fetch-Dest,Accept-Encoding,Accept-Language",
				HDNAID: "ho1-3c1d9a0e77b2", TLS: &fingerprint.TLS{JA4: "t13d1516h2_8daaf6152771_02713d6af862"}},
			Enrichment: vigil.Enrichment{Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH", Client: "chrome", ClientKind: "browser"}}}
	if i%4 == 0 {
		e.Status, e.Bytes = 403, 0
		e.Verdict.Score, e.Verdict.Action, e.Verdict.WouldBe, e.Verdict.Signals = 85, vigil.ActionBlock, vigil.ActionBlock, testSignals
	}
	return e
}

// throughputEvents is the number of events one iteration of BenchmarkThroughput
// records: enough that the last partial batch (cut within FlushInterval) is a small
// part of the time.
const throughputEvents = 500_000

// sink is a minimal Studio for BenchmarkThroughput/sink: it checks the key,
// decompresses each event batch, counts its events, stores each batch ID once and
// acknowledges; metrics and status are accepted unread. It measures what the agent
// sustains when Studio is not the bottleneck.
type sink struct {
	*httptest.Server
	mu     sync.Mutex
	ids    map[string]bool
	events int
}

func newSink(key string) *sink { return startSink(key, false) }

// newDiscard is a sink that reads each body and acknowledges it without looking at
// it, for benchmarks that charge only the agent's work.
func newDiscard(key string) *sink { return startSink(key, true) }

func startSink(key string, discard bool) *sink {
	s := &sink{ids: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, "key", http.StatusUnauthorized)
			return
		}
		if discard || r.URL.Path != wire.PathEvents {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte("{}"))
			return
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := bytes.Count(body, []byte(`{"time":`))
		id := r.Header.Get(wire.HeaderIdempotencyKey)
		s.mu.Lock()
		dup := s.ids[id]
		if !dup {
			s.ids[id] = true
			s.events += n
		}
		s.mu.Unlock()
		if dup {
			n = 0
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"accepted":` + strconv.Itoa(n) + `,"duplicate":` + strconv.FormatBool(dup) + `}`))
	}))
	return s
}

// BenchmarkThroughput measures how many events per second one agent with a spool
// delivers to a server on loopback (real HTTP, in the same process, so the server's
// work shares the machine's cores with the agent's): it records throughputEvents
// realistic events as fast as the ring takes them and reports events/s from the
// first Record to the server's acknowledgement of the last. The budget is 50,000
// events/s (DESIGN §8), for the agent: "sink" is a server that only decompresses and
// counts; "wiretest" decodes and validates every event with encoding/json, as a
// Studio would, and is bounded by that decoding.
func BenchmarkThroughput(b *testing.B) {
	b.Run("sink", func(b *testing.B) {
		benchThroughput(b, func() (url, key string, count func() int, stop func()) {
			s := newSink("k")
			return s.URL, "k", func() int { s.mu.Lock(); defer s.mu.Unlock(); return s.events }, s.Close
		})
	})
	b.Run("wiretest", func(b *testing.B) {
		benchThroughput(b, func() (url, key string, count func() int, stop func()) {
			srv, err := wiretest.Start(wiretest.Config{})
			if err != nil {
				b.Fatal(err)
			}
			return srv.URL(), srv.Key(), func() int { return delivered(srv) }, srv.Close
		})
	})
}

func benchThroughput(b *testing.B, server func() (url, key string, count func() int, stop func())) {
	b.ReportAllocs()
	var (
		elapsed time.Duration
		events  int
	)
	for range b.N {
		b.StopTimer()
		url, key, count, stop := server()
		a, err := agent.New(agent.Config{Endpoint: url, Key: key, Dir: b.TempDir(), NoPolicy: true,
			FlushInterval: 100 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		queueCap := a.Stats().QueueCap
		now := time.Now()
		b.StartTimer()

		start := time.Now()
		for i := range throughputEvents {
			// Keep the ring and the spool from overflowing: the benchmark measures
			// what the agent sustains, not how many events it drops.
			if i%1024 == 0 {
				for st := a.Stats(); st.QueueLen > queueCap-4096 || st.SpoolBytes > 64<<20; st = a.Stats() {
					time.Sleep(100 * time.Microsecond)
				}
			}
			a.Record(testEvent(i, now))
		}
		deadline := time.Now().Add(2 * time.Minute)
		for a.Stats().Sent < throughputEvents {
			if time.Now().After(deadline) {
				b.Fatalf("after 2 min: %+v", a.Stats())
			}
			time.Sleep(time.Millisecond)
		}
		el := time.Since(start)

		b.StopTimer()
		elapsed += el
		events += throughputEvents
		st := a.Stats()
		if got := count(); got != throughputEvents || st.Sent != throughputEvents || st.DroppedQueueFull+st.DroppedSpoolFull+st.DroppedQueueErrors+st.Rejected != 0 {
			b.Errorf("server holds %d events of %d; stats %+v", got, throughputEvents, st)
		}
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
		stop()
		b.Logf("%d events in %v: %.0f events/s, %d retried", throughputEvents, el.Round(time.Millisecond),
			throughputEvents/el.Seconds(), st.Retried)
		b.StartTimer()
	}
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
}
