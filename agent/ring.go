package agent

import (
	"sync"
	"sync/atomic"

	"github.com/vigilhq/vigil"
)

// ring is the bounded queue between Record and the sender: a circular buffer of events
// behind a mutex. Record copies the event into a slot (no allocation); when the ring is
// full the oldest event is overwritten and counted as dropped, so a stalled sender never
// slows a request and the newest events win.
type ring struct {
	mu      sync.Mutex
	buf     []vigil.Event
	head    int // index of the oldest event
	n       int // events held
	wakeAt  int // push signals wake when n reaches it
	wake    chan struct{}
	dropped atomic.Uint64
}

func newRing(size, wakeAt int) *ring {
	return &ring{buf: make([]vigil.Event, size), wakeAt: wakeAt, wake: make(chan struct{}, 1)}
}

// push copies *e into the ring, overwriting the oldest event when it is full.
func (r *ring) push(e *vigil.Event) {
	r.mu.Lock()
	i := r.head + r.n
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	if r.n == len(r.buf) {
		// Full: the slot at i is the oldest; it is replaced and the head moves on.
		r.head++
		if r.head == len(r.buf) {
			r.head = 0
		}
		r.dropped.Add(1)
	} else {
		r.n++
	}
	r.buf[i] = *e
	full := r.n >= r.wakeAt
	r.mu.Unlock()
	if full {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// drain appends up to max of the oldest events to dst, removes them from the ring and
// clears their slots so that the memory they reference can be collected.
func (r *ring) drain(dst []vigil.Event, max int) []vigil.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := min(max, r.n)
	for range k {
		dst = append(dst, r.buf[r.head])
		r.buf[r.head] = vigil.Event{}
		r.head++
		if r.head == len(r.buf) {
			r.head = 0
		}
	}
	r.n -= k
	return dst
}

// len returns the number of events held.
func (r *ring) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
