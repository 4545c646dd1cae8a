package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/memory"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/vigilhq/vigil/internal/wire"
)

// The load test's rate and bounds.
const (
	loadRate     = 2000                   // events a second into Studio
	loadTick     = 100 * time.Millisecond // one batch per tick
	loadBatch    = loadRate * int(loadTick/time.Millisecond) / 1000
	loadInFlight = 4 // batches posted at once at most; later ticks wait
	// maxFrameP95 bounds the 95th percentile of the interval between two animation
	// frames. 60 Hz is 16.7 ms; a tab that misses frames now and then stays usable,
	// while one that spends 100 ms per frame 5% of the time would feel frozen.
	maxFrameP95 = 100 * time.Millisecond
	// maxStall is the longest time the feed may draw no new row while events pour in.
	maxStall = 3 * time.Second
	// Growth allowed between the feed after the warm-up (full, 500 rows) and at the
	// end, after a garbage collection each time.
	maxHeapGrowth = 8 << 20
	maxNodeGrowth = 2000
)

// loadDuration is VIGIL_LOAD_DURATION, default 60 s.
func loadDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("VIGIL_LOAD_DURATION")
	if v == "" {
		return 60 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 10*time.Second {
		t.Fatalf("VIGIL_LOAD_DURATION=%q: want a Go duration of 10s or more", v)
	}
	return d
}

// generator posts native event batches to Studio at loadRate, like a fleet of
// agents would.
type generator struct {
	url, key string
	client   *http.Client

	seq              atomic.Int64
	accepted, failed atomic.Int64
	late             atomic.Int64 // ticks that waited for a free slot
	errMu            sync.Mutex
	firstErr         error
}

var (
	loadPaths   = []string{"/", "/products", "/products/42", "/cart", "/login", "/search", "/api/orders", "/.env", "/wp-login.php", "/static/app.js"}
	loadActions = []struct {
		action, wouldBe string
		score           int
		signal          string
	}{
		{"allow", "allow", 0, ""}, {"allow", "allow", 10, "missing_accept_language"}, {"allow", "allow", 0, ""},
		{"block", "block", 95, "sqli"}, {"block", "block", 100, "honeypot"}, {"challenge", "challenge", 60, "datacenter_ua"},
		{"ratelimit", "ratelimit", 0, "rate_limit"}, {"allow", "allow", 0, ""},
	}
)

// batch makes the n-th batch: loadBatch events from a few hundred clients.
func (g *generator) batch(n int64) []byte {
	now := time.Now().UTC()
	evs := make([]wire.Event, loadBatch)
	for i := range evs {
		k := int(n)*loadBatch + i
		a := loadActions[k%len(loadActions)]
		ev := wire.Event{
			Time: now.Add(time.Duration(i) * loadTick / time.Duration(loadBatch)), Kind: "request",
			RequestID: fmt.Sprintf("load%022d", k), Action: a.action, WouldBe: a.wouldBe, Score: a.score,
			ClientIP: netip.AddrFrom4([4]byte{198, 51, byte(100 + k%3), byte(k % 251)}),
			DNA:      wire.DNA{ID: fmt.Sprintf("d1-load%04d", k%97), Family: "chrome", Kind: "browser"},
			Method:   "GET", Host: "shop.example", Path: loadPaths[k%len(loadPaths)], Status: 200,
			Enrichment: wire.Enrichment{Country: []string{"US", "DE", "BR", "IN", "FR", "CN"}[k%6]},
			UserAgent:  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
		}
		if a.signal != "" {
			ev.Signals = []wire.Signal{{Detector: "load", Code: a.signal, Score: a.score}}
		}
		if a.action != "allow" {
			ev.Status = 403
		}
		evs[i] = ev
	}
	body, err := wire.EncodeEvents(wire.EventBatch{Version: wire.Version, BatchID: "load-" + strconv.FormatInt(n, 10),
		Agent: wire.Agent{ID: "loadgen", Instance: "browsertest"}, Events: evs})
	if err != nil {
		panic(err) // the generator's own events are valid
	}
	return wire.Gzip(body)
}

func (g *generator) post(ctx context.Context, n int64) {
	body := g.batch(n)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url+wire.PathEvents, bytes.NewReader(body))
	if err != nil {
		g.fail(err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+g.key)
	req.Header.Set("Content-Type", wire.ContentTypeJSON)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set(wire.HeaderIdempotencyKey, "load-"+strconv.FormatInt(n, 10))
	res, err := g.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			g.fail(err)
		}
		return
	}
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		g.fail(fmt.Errorf("batch %d: %d %s", n, res.StatusCode, msg))
		return
	}
	g.accepted.Add(int64(loadBatch))
}

func (g *generator) fail(err error) {
	g.failed.Add(1)
	g.errMu.Lock()
	defer g.errMu.Unlock()
	if g.firstErr == nil {
		g.firstErr = err
	}
}

// run posts one batch per tick until ctx ends, at most loadInFlight at once.
func (g *generator) run(ctx context.Context) {
	slots := make(chan struct{}, loadInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(loadTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			g.late.Add(1)
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		n := g.seq.Add(1)
		wg.Go(func() {
			defer func() { <-slots }()
			g.post(ctx, n)
		})
	}
}

// pageMemory is the tab's JavaScript heap and DOM size after a garbage collection.
type pageMemory struct {
	heap      float64 // bytes used
	nodes     int64
	listeners int64
}

func (m pageMemory) String() string {
	return fmt.Sprintf("heap %.1f MiB, %d DOM nodes, %d listeners", m.heap/(1<<20), m.nodes, m.listeners)
}

func (e *env) memory() pageMemory {
	e.t.Helper()
	var m pageMemory
	e.do("measuring memory", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			return err
		}
		h, err := cdp.Call(ctx, tg, runtime.GetHeapUsage, cdp.Empty{})
		if err != nil {
			return err
		}
		d, err := cdp.Call(ctx, tg, memory.GetDOMCounters, cdp.Empty{})
		if err != nil {
			return err
		}
		m = pageMemory{heap: h.UsedSize, nodes: d.Nodes, listeners: d.JsEventListeners}
		return nil
	}))
	return m
}

// frameSampler records the interval between consecutive animation frames, as the
// page's own drawing sees them.
const frameSampler = `(() => {
  const s = window.__frames = { intervals: [], last: 0, on: true };
  const loop = (ts) => {
    if (s.last) s.intervals.push(ts - s.last);
    s.last = ts;
    if (s.on) requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
})()`

type feedStats struct {
	Frames  int64   `json:"frames"`
	Rows    int64   `json:"rows"`
	MS      float64 `json:"ms"`
	MaxMS   float64 `json:"maxMs"`
	Dropped int64   `json:"dropped"`
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// 2,000 events a second go into Studio for VIGIL_LOAD_DURATION (60 s) while the
// live feed is open: the feed keeps drawing new rows, its animation frames stay
// close to the display's rate, and the tab's heap and DOM stay bounded.
//
// The race detector slows Studio's SQLite ingest to about 1,000 events a second
// here, so under it the test skips: .ci/run runs it on its own without it.
func TestLiveFeedUnderLoad(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector halves Studio's ingest rate; .ci/run runs this test without it")
	}
	dur := loadDuration(t)
	e := newEnv(t)
	e.login()
	e.do("starting the frame sampler", chromedp.Evaluate[chromedp.Void](frameSampler))
	idle := e.memory()
	e.shot("before the load")

	g := &generator{url: e.studio.URL, key: e.ingest, client: &http.Client{Timeout: 30 * time.Second}}
	ctx, stop := context.WithCancel(context.Background())
	genDone := make(chan struct{})
	started := time.Now()
	go func() { defer close(genDone); g.run(ctx) }()
	stopped := false
	stopGen := func() {
		if !stopped {
			stopped = true
			stop()
			<-genDone
		}
	}
	t.Cleanup(stopGen)

	// Warm up until the feed is full, then take the baseline.
	warm := min(10*time.Second, dur/4)
	e.waitJS(warm+10*time.Second, "the feed fills up with 500 rows under load",
		`document.querySelectorAll(".feed-body [role=row]").length === 500`)
	if d := time.Until(started.Add(warm)); d > 0 {
		time.Sleep(d)
	}
	base := e.memory()
	e.do("restarting the frame sample", chromedp.Evaluate[chromedp.Void](`window.__frames.intervals = []`))
	e.shot("warm")
	measureFrom := time.Now()
	acceptedAtBase := g.accepted.Load()

	// Watch the feed: it must keep drawing new rows, and the page must answer.
	var (
		prev       = eval[feedStats](e, `window.vigilFeedStats`)
		lastChange = time.Now()
		longest    time.Duration
		evalLat    []float64
		shots      int
	)
	for time.Since(started) < dur {
		time.Sleep(500 * time.Millisecond)
		t0 := time.Now()
		st := eval[feedStats](e, `window.vigilFeedStats`)
		evalLat = append(evalLat, float64(time.Since(t0))/float64(time.Millisecond))
		if st.Rows > prev.Rows {
			lastChange = time.Now()
		} else if gap := time.Since(lastChange); gap > longest {
			longest = gap
		}
		prev = st
		if time.Since(measureFrom) > time.Duration(shots+1)*20*time.Second {
			shots++
			e.shot(fmt.Sprintf("under load %ds", int(time.Since(started).Seconds())))
		}
	}
	elapsed := time.Since(measureFrom)
	acceptedDuring := g.accepted.Load() - acceptedAtBase
	stopGen()
	total := time.Since(started)

	intervals := eval[[]float64](e, `(() => { window.__frames.on = false; return window.__frames.intervals; })()`)
	rows := eval[int](e, `document.querySelectorAll(".feed-body [role=row]").length`)
	counters := eval[string](e, `document.querySelector("main .counters").textContent`)
	end := e.memory()
	e.shot("after the load")

	slices.Sort(intervals)
	slices.Sort(evalLat)
	rate := float64(acceptedDuring) / elapsed.Seconds()
	t.Logf("ingest: %d events in %v (%.0f events/s measured after the warm-up; %d batches failed, %d ticks waited for a slot)",
		g.accepted.Load(), total.Round(time.Millisecond), rate, g.failed.Load(), g.late.Load())
	t.Logf("feed: %d frames drew %d rows in %.0f ms (longest frame's work %.1f ms), %d events dropped by the page; counters: %s",
		prev.Frames, prev.Rows, prev.MS, prev.MaxMS, prev.Dropped, counters)
	t.Logf("frame intervals over %v: %d frames, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms",
		elapsed.Round(time.Second), len(intervals), percentile(intervals, .5), percentile(intervals, .95), percentile(intervals, .99), percentile(intervals, 1))
	t.Logf("page round trip (Runtime.evaluate) p50 %.1f ms, p95 %.1f ms, max %.1f ms; longest time without a new row %v",
		percentile(evalLat, .5), percentile(evalLat, .95), percentile(evalLat, 1), longest.Round(time.Millisecond))
	t.Logf("memory: idle %v; after the warm-up %v; at the end %v", idle, base, end)

	if g.failed.Load() > 0 {
		t.Errorf("%d batches failed; the first: %v", g.failed.Load(), g.firstErr)
	}
	if rate < 0.9*loadRate {
		t.Errorf("Studio took %.0f events/s, want %d: the load did not happen", rate, loadRate)
	}
	if longest > maxStall {
		t.Errorf("the feed drew no new row for %v while events poured in (bound %v)", longest.Round(time.Millisecond), maxStall)
	}
	if want := int(elapsed.Seconds() * 10); len(intervals) < want {
		t.Errorf("%d animation frames in %v, want at least %d (10 a second)", len(intervals), elapsed.Round(time.Second), want)
	}
	if p95 := percentile(intervals, .95); p95 > float64(maxFrameP95/time.Millisecond) {
		t.Errorf("95th percentile frame interval %.1f ms, want under %v", p95, maxFrameP95)
	}
	if rows > 500 {
		t.Errorf("the feed holds %d rows, more than its cap of 500", rows)
	}
	if growth := end.heap - base.heap; growth > maxHeapGrowth {
		t.Errorf("the JavaScript heap grew by %.1f MiB under load (from %v to %v), want at most %d MiB", growth/(1<<20), base, end, maxHeapGrowth>>20)
	}
	if growth := end.nodes - base.nodes; growth > maxNodeGrowth {
		t.Errorf("the DOM grew by %d nodes under load (from %v to %v), want at most %d", growth, base, end, maxNodeGrowth)
	}
}
