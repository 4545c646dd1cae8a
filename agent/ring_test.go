package agent

import (
	"strconv"
	"sync"
	"testing"

	"github.com/vigilhq/vigil"
)

func ev(i int) vigil.Event {
	return vigil.Event{Kind: vigil.EventRequest, Path: "/" + strconv.Itoa(i), Verdict: vigil.Verdict{Action: vigil.ActionAllow, WouldBe: vigil.ActionAllow}}
}

func paths(es []vigil.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}

func TestRingOrderAndOverflow(t *testing.T) {
	r := newRing(4, 3)
	for i := range 3 {
		e := ev(i)
		r.push(&e)
	}
	select {
	case <-r.wake:
	default:
		t.Error("no wake-up at 3 of 4")
	}
	got := paths(r.drain(nil, 2))
	if len(got) != 2 || got[0] != "/0" || got[1] != "/1" {
		t.Fatalf("drain 2: %v", got)
	}
	for i := 3; i < 9; i++ { // 1 held + 6 pushed into 4 slots: the 3 oldest are dropped
		e := ev(i)
		r.push(&e)
	}
	if d := r.dropped.Load(); d != 3 {
		t.Errorf("dropped %d, want 3", d)
	}
	got = paths(r.drain(nil, 10))
	want := []string{"/5", "/6", "/7", "/8"}
	if len(got) != len(want) {
		t.Fatalf("after overflow: %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after overflow: %v, want %v", got, want)
		}
	}
	if r.len() != 0 {
		t.Errorf("len %d after draining all", r.len())
	}
	for i, e := range r.buf {
		if e.Path != "" {
			t.Errorf("slot %d not cleared: %q", i, e.Path)
		}
	}
}

// Concurrent pushes and drains lose nothing that is not counted.
func TestRingConcurrent(t *testing.T) {
	r := newRing(64, 32)
	const writers, each = 4, 5000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := ev(w*each + i)
				r.push(&e)
			}
		}()
	}
	got := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	buf := make([]vigil.Event, 0, 16)
	for {
		select {
		case <-done:
			got += len(r.drain(buf[:0], 1<<20))
			if total := uint64(got) + r.dropped.Load(); total != writers*each {
				t.Errorf("received %d + dropped %d = %d, want %d", got, r.dropped.Load(), total, writers*each)
			}
			return
		default:
			got += len(r.drain(buf[:0], 16))
		}
	}
}
