package redisstore

import (
	"sync"
	"sync/atomic"
	"time"
)

// breaker is a circuit breaker around Redis. Closed, every call goes to Redis; after
// threshold failures in a row it opens and no call does, except one probe per cooldown
// (half-open): the probe's success closes it, its failure keeps it open for another
// cooldown. The request path checks it with one atomic load. It is safe for concurrent
// use.
type breaker struct {
	threshold int32
	cooldown  time.Duration

	open     atomic.Bool
	failures atomic.Int32
	probing  atomic.Bool

	mu       sync.Mutex
	openedAt time.Time // when the breaker opened or the last probe failed
}

// ready reports whether the breaker is closed.
func (b *breaker) ready() bool { return !b.open.Load() }

// tryProbe reports whether the caller may probe Redis now: the breaker is open, the
// cooldown has passed and no other probe is under way. The caller must then report
// success or failure.
func (b *breaker) tryProbe(now time.Time) bool {
	if !b.open.Load() {
		return false
	}
	b.mu.Lock()
	due := now.Sub(b.openedAt) >= b.cooldown
	b.mu.Unlock()
	return due && b.probing.CompareAndSwap(false, true)
}

// allow reports whether a call may go to Redis: the breaker is closed, or the caller
// is the probe.
func (b *breaker) allow(now time.Time) bool {
	return b.ready() || b.tryProbe(now)
}

// success records a call that reached Redis and reports whether it closed the breaker.
func (b *breaker) success() (closed bool) {
	if b.failures.Load() != 0 {
		b.failures.Store(0)
	}
	if !b.open.Load() {
		return false
	}
	b.probing.Store(false)
	return b.open.CompareAndSwap(true, false)
}

// failure records a failed call at now and reports whether it opened the breaker.
// While the breaker is open, a failure restarts the cooldown only when a probe is
// under way (it is taken for the probe's): calls that do not ask the breaker, such as
// the ban subscription's, do not postpone the next probe.
func (b *breaker) failure(now time.Time) (opened bool) {
	if b.open.Load() {
		if b.probing.CompareAndSwap(true, false) {
			b.mu.Lock()
			b.openedAt = now
			b.mu.Unlock()
		}
		return false
	}
	if b.failures.Add(1) < b.threshold {
		return false
	}
	b.mu.Lock()
	b.openedAt = now
	b.mu.Unlock()
	if b.open.CompareAndSwap(false, true) {
		b.failures.Store(0)
		return true
	}
	return false
}
