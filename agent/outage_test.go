package agent_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/internal/wire/wiretest"
)

// TestOutage60s takes Studio down for a minute (5 s with -short) while a guard serves
// 500 requests a second, then brings it back: every request's event arrives exactly
// once, the sender retried and opened its breaker meanwhile, and nothing was dropped.
// The server stores each batch ID once; duplicate deliveries are logged.
func TestOutage60s(t *testing.T) {
	outage := 60 * time.Second
	if testing.Short() {
		outage = 5 * time.Second
	}
	srv := wiretest.New(t, wiretest.Config{})
	cfg := fast(srv, t.TempDir())
	cfg.FlushInterval = 100 * time.Millisecond // about 50 events a batch at this rate
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, h := guardWith(t, a)
	running(t, a)

	// Traffic: 5 requests every 10 ms, each to a path of its own, until stop.
	var (
		served, refused atomic.Int64
		stop            = make(chan struct{})
		wg              sync.WaitGroup
	)
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for range 5 {
				if get(h, fmt.Sprintf("/o/%d", served.Add(1))) != http.StatusOK {
					refused.Add(1)
				}
			}
		}
	})
	defer func() { // a failed check must not leave the traffic running
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	eventually(t, 5*time.Second, "events delivered before the outage", func() bool { return delivered(srv) > 0 })
	srv.Down()
	downAt := time.Now()
	before := delivered(srv)
	breakerOpened := false
	for time.Since(downAt) < outage {
		breakerOpened = breakerOpened || a.Stats().BreakerOpen
		time.Sleep(50 * time.Millisecond)
	}
	st := a.Stats()
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	upAt := time.Now()
	t.Logf("outage of %v: %d requests served, %d events delivered before it; during it the sender retried %d times, %d batches waiting",
		outage, served.Load(), before, st.Retried, st.SpoolBatches)
	time.Sleep(time.Second) // traffic goes on after Studio is back
	close(stop)
	wg.Wait()

	n := served.Load()
	deadline := time.Now().Add(60 * time.Second) // the backlog, one batch at a time (slow under -race)
	// The server stores a batch before its answer reaches the agent: wait for both.
	for (delivered(srv) < int(n) || a.Stats().Sent < n) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d of %d events delivered %v after Studio came back; %d duplicate deliveries",
		delivered(srv), n, time.Since(upAt).Round(10*time.Millisecond), srv.Duplicates())

	got := paths(srv)
	if len(got) != int(n) {
		t.Errorf("%d distinct paths arrived, %d requests were served", len(got), n)
	}
	for i := int64(1); i <= n; i++ {
		if c := got[fmt.Sprintf("/o/%d", i)]; c != 1 {
			t.Errorf("/o/%d arrived %d times", i, c)
		}
	}
	if r := refused.Load(); r > 0 {
		t.Errorf("the guard refused %d requests", r)
	}
	st = a.Stats()
	if st.Recorded != n || st.Sent != n {
		t.Errorf("recorded %d and sent %d events, want %d", st.Recorded, st.Sent, n)
	}
	if st.Retried == 0 || !breakerOpened {
		t.Errorf("during the outage: retried %d, breaker opened %v", st.Retried, breakerOpened)
	}
	if st.DroppedQueueFull+st.DroppedSpoolFull+st.DroppedQueueErrors+st.Rejected != 0 {
		t.Errorf("events dropped: %+v", st)
	}
}

// delivered counts the events the server accepted, each batch once.
func delivered(srv *wiretest.Server) int {
	n := 0
	for _, b := range srv.Batches() {
		n += len(b.Events)
	}
	return n
}
