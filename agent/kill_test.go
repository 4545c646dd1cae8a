package agent_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/agent"
	"github.com/vigilhq/vigil/internal/spool"
	"github.com/vigilhq/vigil/internal/wire"
	"github.com/vigilhq/vigil/internal/wire/wiretest"
)

// killEvents is the number of events the child of TestSIGKILLRestart spools before
// it reports.
const killEvents = 2000

// TestAgentHelperProcess is the child of TestSIGKILLRestart: it runs an agent with the
// spool in $AGENT_KILL_DIR against a Studio that is down ($AGENT_KILL_URL), records
// killEvents events (paths /e/0 …), waits until they are in the spool and prints
// "spooled"; then it goes on recording (paths /late/0 …) until it is killed.
func TestAgentHelperProcess(t *testing.T) {
	dir := os.Getenv("AGENT_KILL_DIR")
	if dir == "" {
		t.Skip("the child process of TestSIGKILLRestart")
	}
	a, err := agent.New(agent.Config{Endpoint: os.Getenv("AGENT_KILL_URL"), Key: os.Getenv("AGENT_KILL_KEY"), Dir: dir,
		BatchSize: 100, FlushInterval: 20 * time.Millisecond, NoPolicy: true})
	if err != nil {
		t.Fatal(err)
	}
	go a.Run(context.Background()) // ends with the process
	now := time.Now()
	for i := range killEvents {
		a.Record(testEvent(i, now))
	}
	// Spooled: the ring is empty and the spool has not changed for 200 ms. The
	// parent checks the spool itself, so a premature line fails the test.
	last, since := int64(-1), time.Now()
	for {
		st := a.Stats()
		if st.QueueLen > 0 || st.SpoolBatches != last {
			last, since = st.SpoolBatches, time.Now()
		} else if time.Since(since) > 200*time.Millisecond {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Fprintf(os.Stdout, "spooled %d batches\n", last) // unbuffered: out once Fprintf returns
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		e := testEvent(i, now)
		e.Path = "/late/" + strconv.Itoa(i)
		a.Record(e)
		if i%10 == 9 {
			time.Sleep(time.Millisecond)
		}
	}
	t.Fatal("not killed in time")
}

// TestSIGKILLRestart kills a process whose agent spooled events while Studio was
// down, at a moment when it is still recording and cutting batches. A new agent on
// the same directory then delivers everything the spool holds, exactly once and
// under the batch IDs the first one gave it; the events the child reported spooled
// are among them.
func TestSIGKILLRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	srv := wiretest.New(t, wiretest.Config{})
	srv.Down()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAgentHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AGENT_KILL_DIR="+dir, "AGENT_KILL_URL="+srv.URL(), "AGENT_KILL_KEY="+srv.Key())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		spooled = make(chan string, 1)
		scanned = make(chan struct{})
		once    sync.Once
	)
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "spooled ") {
				once.Do(func() { spooled <- line })
			}
		}
	}()
	select {
	case line := <-spooled:
		t.Logf("child: %s", line)
	case <-scanned:
		cmd.Wait()
		t.Fatalf("child exited early: %s", stderr.String())
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("child did not spool its events within a minute")
	}
	// SIGKILL, amid the late events.
	time.Sleep(time.Duration(rand.IntN(50_000)) * time.Microsecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-scanned
	cmd.Wait()

	// What the dead process left in the spool: batch ID → paths.
	want := map[string]int{}
	ids := map[string]bool{}
	s, err := spool.Open(filepath.Join(dir, "spool"), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Read(1<<30, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	late := 0
	for _, r := range recs {
		id, data, _ := bytes.Cut(r.Data, []byte("\n"))
		b, err := wire.DecodeEvents(gunzip(t, data)) // batches are spooled gzipped
		if err != nil || b.BatchID != string(id) {
			t.Fatalf("spool record %d: batch %q under ID %q: %v", r.ID, b.BatchID, id, err)
		}
		ids[b.BatchID] = true
		for _, e := range b.Events {
			want[e.Path]++
			if strings.HasPrefix(e.Path, "/late/") {
				late++
			}
		}
	}
	st := s.Stats()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("spool after the kill: %d batches, %d events (%d recorded after the report), %d records torn", len(recs), len(want), late, st.Corrupt)
	for i := range killEvents {
		if p := "/e/" + strconv.Itoa(i); want[p] != 1 {
			t.Errorf("%s is %d times in the spool; the child reported it spooled", p, want[p])
		}
	}

	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(fast(srv, dir))
	if err != nil {
		t.Fatal(err)
	}
	running(t, a)
	eventually(t, 20*time.Second, "the spool delivered", func() bool { return delivered(srv) >= len(want) && a.Stats().SpoolBatches == 0 })
	got := paths(srv)
	for p, n := range want {
		if got[p] != n {
			t.Errorf("%s arrived %d times, want %d", p, got[p], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d distinct paths arrived, the spool held %d", len(got), len(want))
	}
	for _, b := range srv.Batches() {
		if !ids[b.BatchID] {
			t.Errorf("batch %s arrived; the spool held no such batch", b.BatchID)
		}
	}
	if n := len(srv.Batches()); n != len(ids) {
		t.Errorf("%d batches arrived, the spool held %d", n, len(ids))
	}
	t.Logf("delivered %d events in %d batches after the restart; %d duplicate deliveries", len(got), len(srv.Batches()), srv.Duplicates())
}

// TestSpoolBound records far more than a 128 KiB spool holds while Studio is down:
// the spool's files never exceed the bound, the oldest batches are dropped and
// counted, and once Studio is back the newest events arrive, exactly once.
func TestSpoolBound(t *testing.T) {
	const (
		bound = 128 << 10
		n     = 5000 // about 1 KiB each as JSON: 40 times the bound
	)
	srv := wiretest.New(t, wiretest.Config{})
	srv.Down()
	dir := t.TempDir()
	cfg := fast(srv, dir)
	cfg.SpoolBytes, cfg.BatchSize = bound, 5 // a batch must fit in a segment, bound/8
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	running(t, a)

	// Measure the spool directory on disk all along.
	var (
		mu              sync.Mutex
		maxSegs, maxAll int64
		stop            = make(chan struct{})
		wg              sync.WaitGroup
	)
	measure := func() {
		segs, all := spoolSize(t, filepath.Join(dir, "spool"))
		mu.Lock()
		maxSegs, maxAll = max(maxSegs, segs), max(maxAll, all)
		mu.Unlock()
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			measure()
			time.Sleep(200 * time.Microsecond)
		}
	})
	now := time.Now()
	for i := range n {
		a.Record(testEvent(i, now))
		if i%50 == 49 {
			time.Sleep(time.Millisecond) // let the batcher keep up with the ring
			measure()
		}
	}
	eventually(t, 10*time.Second, "everything recorded spooled", func() bool { return a.Stats().QueueLen == 0 })
	time.Sleep(200 * time.Millisecond) // the last cut, spooled
	close(stop)
	wg.Wait()
	measure()
	st := a.Stats()
	t.Logf("spool at most %d bytes of segments, %d bytes of files (bound %d); %d batches dropped, %d waiting",
		maxSegs, maxAll, bound, st.DroppedSpoolFull, st.SpoolBatches)
	if maxSegs > bound || maxAll > bound+32 { // the checkpoint and its replacement: 16 bytes each
		t.Errorf("spool took %d bytes of segments, %d bytes of files; the bound is %d", maxSegs, maxAll, bound)
	}
	if st.DroppedSpoolFull == 0 || st.DroppedQueueFull != 0 || st.DroppedQueueErrors != 0 || st.SpoolMaxBytes != bound {
		t.Errorf("stats %+v, want batches dropped for the spool only", st)
	}

	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 40*time.Second, "the spool delivered", func() bool { return a.Stats().SpoolBatches == 0 && delivered(srv) > 0 })
	got := paths(srv)
	lo := n // the oldest event delivered
	for i := range n {
		if got["/e/"+strconv.Itoa(i)] > 0 {
			lo = i
			break
		}
	}
	// The spool drops whole segments, oldest first: what arrives is a run of the
	// newest events, each once.
	for i := lo; i < n; i++ {
		if c := got["/e/"+strconv.Itoa(i)]; c != 1 {
			t.Errorf("/e/%d arrived %d times; it is newer than /e/%d, which arrived", i, c, lo)
		}
	}
	if lost := lo; lost == 0 || lost > n-50 || len(got) != n-lo {
		t.Errorf("events /e/%d to /e/%d arrived (%d paths); want the oldest dropped and at least the newest 50 kept", lo, n-1, len(got))
	}
	// Each dropped batch held 1 to BatchSize of the lost events.
	if d := st.DroppedSpoolFull; d*int64(cfg.BatchSize) < int64(lo) || d > int64(lo) {
		t.Errorf("%d batches counted dropped for %d events lost in batches of at most %d", d, lo, cfg.BatchSize)
	}
	t.Logf("events /e/%d to /e/%d of %d arrived; %d duplicate deliveries", lo, n-1, n, srv.Duplicates())
}

// spoolSize returns the sizes, as stat(2) reports them, of the segment files in dir
// and of all its files.
func spoolSize(t *testing.T, dir string) (segs, all int64) {
	// A pass over the directory is not atomic: a segment stated just before the spool
	// drops it, plus the new record written just after, would add up to more than
	// the spool ever held. A pass during which the set of files changed is retried.
	for {
		before, err := os.ReadDir(dir)
		if err != nil {
			t.Error(err)
			return 0, 0
		}
		segs, all = 0, 0
		for _, e := range before {
			fi, err := e.Info()
			if err != nil {
				continue // deleted meanwhile; the names check below retries
			}
			all += fi.Size()
			if strings.HasSuffix(e.Name(), ".seg") {
				segs += fi.Size()
			}
		}
		after, err := os.ReadDir(dir)
		if err != nil {
			t.Error(err)
			return 0, 0
		}
		if slices.EqualFunc(before, after, func(a, b os.DirEntry) bool { return a.Name() == b.Name() }) {
			return segs, all
		}
	}
}

// gunzip decompresses one gzip member.
func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("spooled batch: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("spooled batch: %v", err)
	}
	return out
}
