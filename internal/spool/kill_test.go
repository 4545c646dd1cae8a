package spool

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// killOptions are the options of the spool the child process writes: small segments,
// so that a kill often lands near a segment change.
var killOptions = Options{MaxBytes: 256 << 20, SegmentBytes: 64 << 10}

// killRecord is record number i of the kill test: "i:" repeated, 50 to 2049 bytes.
func killRecord(i int) []byte { return payload(i, 50+i%2000) }

// recordNumber parses the number a killRecord starts with.
func recordNumber(data []byte) (int, bool) {
	tag, _, ok := bytes.Cut(data, []byte(":"))
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(tag))
	return n, err == nil
}

// TestHelperProcess is the child of TestSIGKILL: it appends numbered records to the
// spool in $SPOOL_KILL_DIR as fast as it can, starting at $SPOOL_KILL_START, and now
// and then reads and acknowledges the oldest ones. It reports on stdout, one line per
// event, after the call returns: "a N" appended record N; "k? N" about to acknowledge
// up to N, "k N" acknowledged. It acknowledges about as fast as it appends, so the
// spool spans a few segments.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("SPOOL_KILL_DIR")
	if dir == "" {
		t.Skip("the child process of TestSIGKILL")
	}
	start, err := strconv.Atoi(os.Getenv("SPOOL_KILL_START"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, killOptions)
	if err != nil {
		t.Fatal(err)
	}
	out := os.Stdout // unbuffered: a line is out once Write returns
	deadline := time.Now().Add(time.Minute)
	for i := start; i < start+5_000_000 && time.Now().Before(deadline); i++ {
		if _, err := s.Append(killRecord(i)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(out, "a %d\n", i)
		if i%97 == 0 {
			recs, err := s.Read(200, 256<<10)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) > 0 {
				last := recs[len(recs)-1] // where the Read ended: the cursor jumps there
				if i%2 == 1 {
					last = recs[len(recs)/2] // elsewhere: Ack reads headers to get there
				}
				n, _ := recordNumber(last.Data)
				fmt.Fprintf(out, "k? %d\n", n)
				if err := s.Ack(last.ID); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(out, "k %d\n", n)
			}
		}
	}
	t.Fatal("not killed in time")
}

// TestSIGKILL kills a process that is appending to a spool, at a random moment, and
// checks that everything it appended and did not acknowledge is there, in order,
// without a gap; then it does it again on the same spool.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	next := 1  // number of the next record a child appends
	acked := 0 // highest number acknowledged for sure
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SPOOL_KILL_DIR="+dir, "SPOOL_KILL_START="+strconv.Itoa(next))
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
			mu         sync.Mutex
			appended   = next - 1 // last number reported appended
			ackIntent  = acked    // last number the child was about to acknowledge
			ackDone    = acked    // last number it reported acknowledged
			enough     = make(chan struct{})
			enoughOnce sync.Once
			scanned    = make(chan struct{})
		)
		target := next + 2000 + rand.IntN(3000)
		go func() {
			defer close(scanned)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				kind, num, ok := strings.Cut(sc.Text(), " ")
				n, err := strconv.Atoi(num)
				if !ok || err != nil {
					continue
				}
				mu.Lock()
				switch kind {
				case "a":
					appended = n
					if n >= target {
						enoughOnce.Do(func() { close(enough) })
					}
				case "k?":
					ackIntent = n
				case "k":
					ackDone = n
				}
				mu.Unlock()
			}
		}()
		select {
		case <-enough:
		case <-scanned:
			t.Fatalf("round %d: child exited early: %s", round, stderr.String())
		case <-time.After(2 * time.Minute):
			t.Fatalf("round %d: child appended too slowly", round)
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		<-scanned
		cmd.Wait()
		mu.Lock()
		lastAppended, intent, done := appended, ackIntent, ackDone
		mu.Unlock()

		s := mustOpen(t, dir, killOptions)
		recs := readAll(t, s)
		st := s.Stats()
		if st.Dropped != 0 || st.Corrupt > 1 {
			t.Errorf("round %d: Stats = %+v, want no drops and at most one torn record", round, st)
		}
		if len(recs) == 0 {
			// Legitimate only if the child was acknowledging all it had appended.
			if intent < lastAppended {
				t.Fatalf("round %d: spool empty; child appended up to %d, acknowledged %d, was acknowledging %d",
					round, lastAppended, done, intent)
			}
			t.Logf("round %d: child appended %d..%d and acknowledged them all", round, next, lastAppended)
			mustClose(t, s)
			next, acked = intent+1, intent
			continue
		}
		first, ok := recordNumber(recs[0].Data)
		if !ok {
			t.Fatalf("round %d: first record unreadable", round)
		}
		// Acknowledged records are gone, the rest are there: the first record follows
		// an acknowledgement the child made or was making.
		if first-1 < done || first-1 > max(intent, acked) {
			t.Errorf("round %d: first record %d; child acknowledged %d for sure, %d perhaps", round, first, done, intent)
		}
		for i, r := range recs {
			n, ok := recordNumber(r.Data)
			if !ok || n != first+i || !bytes.Equal(r.Data, killRecord(n)) {
				t.Fatalf("round %d: record %d (ID %d) is %.20q, want number %d", round, i, r.ID, r.Data, first+i)
			}
			if i > 0 && r.ID <= recs[i-1].ID {
				t.Fatalf("round %d: IDs out of order: %d after %d", round, r.ID, recs[i-1].ID)
			}
		}
		last := first + len(recs) - 1
		if last < lastAppended {
			t.Fatalf("round %d: spool ends at record %d, child reported %d appended", round, last, lastAppended)
		}
		t.Logf("round %d: child appended %d..%d (reported %d), acknowledged %d; spool holds %d..%d, %+v",
			round, next, last, lastAppended, done, first, last, st)
		mustClose(t, s)
		next, acked = last+1, first-1
	}
}
