// Package memstore is Vigil's in-memory state engine: a bounded, sharded table of
// rate-limit and counter state ([Store]) and a table of active bans ([Bans]).
//
// It is what the root package's default vigil.Store wraps. Nothing here starts a
// goroutine or reads the clock on its own: callers pass the time (or, to
// [Bans.LookupClock], a clock) in, and the owner calls [Store.Sweep] and [Bans.Sweep]
// when it wants expired entries gone before they are evicted or looked up.
//
// Rate limits use [ratelimit.StepNano]; a Redis store that mirrors it, and aligns
// counter windows the same way, gives the same answers.
package memstore

import (
	"hash/maphash"
	"math"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilhq/vigil/internal/ratelimit"
)

const (
	defaultMaxKeys = 1 << 20
	defaultShards  = 64
	maxShards      = 1 << 16

	// When a shard is full, an insert looks at up to evictSample entries of each of its
	// tables for expired ones, and otherwise evicts the sampled entry that expires first.
	evictSample = 8
	// Below capacity, an insert looks at up to sweepSample entries of the table it
	// inserts into and drops the expired ones, so that expired state seldom piles up
	// even when nobody calls Sweep.
	sweepSample = 2
)

// Config sizes a [Store]. The zero value is a valid configuration: a million keys in 64
// shards. It is a plain value; New reads it once.
type Config struct {
	// MaxKeys bounds the number of rate-limit and counter keys held together. Zero (or
	// a negative value) means 1<<20. Each shard holds at most MaxKeys/Shards keys, so
	// the bound is rounded down to a multiple of the shard count; a MaxKeys below the
	// shard count lowers the shard count instead.
	//
	// When a shard is full, an insert samples a few of its entries (eight of each
	// kind) and drops those that have expired; only if none had does it evict a live
	// one, the sampled entry closest to expiring. So expired entries go first, and a
	// client far over its limit (whose TAT is furthest ahead) goes last. Evicting a
	// rate-limit entry forgives that client its used allowance: under key spraying the
	// limiter fails open for the evicted keys. Every eviction of a live entry is counted
	// in [Store.Evictions] so that the owner can report it.
	MaxKeys int
	// Shards is the number of independently locked shards. Zero (or a negative value)
	// means 64; other values are rounded up to a power of two, at most 1<<16.
	Shards int
}

// Store holds GCRA rate-limit state and fixed-window counters by key, bounded in
// memory. Rate-limit keys and counter keys are separate namespaces: the same key may
// be used with both Allow and Add.
//
// A Store is safe for concurrent use. Each key lives in one shard, and each call locks
// only that shard. It must be created with [New]; the zero value is not usable. A
// Store starts no goroutines: expired entries are dropped as inserts come across them
// and by [Store.Sweep].
type Store struct {
	seed     maphash.Seed
	mask     uint64
	perShard int // capacity of each shard, ≥ 1
	shards   []shard
}

type shard struct {
	mu sync.Mutex
	// tats maps a rate-limit key to its TAT in Unix nanoseconds. An entry whose TAT is
	// not after now is idle, the same as an absent one: it is expired. The TAT is boxed
	// so that a step updates it in place: assigning to the map would make every
	// caller's key escape to the heap, even for keys already held.
	tats map[string]*int64
	// counters maps a counter key to its count in the current window. An entry whose
	// window has ended is expired.
	counters  map[string]counter
	evictions atomic.Uint64
	_         [128 - 32]byte // keep shards on separate cache lines
}

type counter struct {
	n   int64 // ≥ 0
	end int64 // Unix nanoseconds at which the window ends
}

// New returns an empty Store sized by c.
func New(c Config) *Store {
	maxKeys := c.MaxKeys
	if maxKeys <= 0 {
		maxKeys = defaultMaxKeys
	}
	n := c.Shards
	if n <= 0 {
		n = defaultShards
	}
	n = min(n, maxShards)
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	for n > 1 && n > maxKeys {   // at least one key per shard
		n >>= 1
	}
	s := &Store{
		seed:     maphash.MakeSeed(),
		mask:     uint64(n - 1),
		perShard: maxKeys / n,
		shards:   make([]shard, n),
	}
	for i := range s.shards {
		s.shards[i].tats = make(map[string]*int64)
		s.shards[i].counters = make(map[string]counter)
	}
	return s
}

func (s *Store) shard(key string) *shard {
	return &s.shards[maphash.String(s.seed, key)&s.mask]
}

// Allow performs one GCRA step (see [ratelimit.StepNano]) for key at now under l, with
// the given cost, and stores the new state. A denied request or a peek (cost ≤ 0)
// changes nothing and never creates an entry.
//
// Allow does not allocate when key is already held, and does not retain key: a new
// key is copied, so the caller may pass a string that aliases a larger buffer, and a
// key converted from a short []byte may stay on the caller's stack.
func (s *Store) Allow(key string, now time.Time, l ratelimit.Limit, cost int) ratelimit.Result {
	ns := now.UnixNano()
	sh := s.shard(key)
	sh.mu.Lock()
	tat := int64(math.MinInt64) // idle at any now
	p := sh.tats[key]
	if p != nil {
		tat = *p
	}
	newTAT, r := ratelimit.StepNano(tat, ns, l, cost)
	if newTAT != tat {
		if p != nil {
			*p = newTAT
		} else {
			sh.makeRoom(ns, s.perShard, true)
			p = new(int64)
			*p = newTAT
			sh.tats[strings.Clone(key)] = p
		}
	}
	sh.mu.Unlock()
	return r
}

// Add adds n to the fixed-window counter key and returns its count in the current
// window. Windows are aligned to multiples of window since the Unix epoch, so that
// every instance, and a Redis store that aligns the same way, agree on where a window
// starts; the entry expires at the window's end.
//
// n may be negative; the count never goes below zero, and an n ≤ 0 never creates an
// entry. Counts saturate at the int64 range. A window ≤ 0 stores nothing and returns 0.
// Add does not allocate when key is held; a new key is copied.
func (s *Store) Add(key string, now time.Time, n int64, window time.Duration) int64 {
	if window <= 0 {
		return 0
	}
	ns := now.UnixNano()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c, ok := sh.counters[key]
	if ok && c.end > ns {
		c.n = addCount(c.n, n)
		sh.counters[key] = c
		return c.n
	}
	if n <= 0 {
		return 0
	}
	c = counter{n: n, end: windowEnd(ns, int64(window))}
	if ok {
		sh.counters[key] = c
	} else {
		sh.makeRoom(ns, s.perShard, false)
		sh.counters[strings.Clone(key)] = c
	}
	return n
}

// Get returns the count of counter key in the window current at now, 0 when there is
// none. It changes nothing.
func (s *Store) Get(key string, now time.Time) int64 {
	ns := now.UnixNano()
	sh := s.shard(key)
	sh.mu.Lock()
	c, ok := sh.counters[key]
	sh.mu.Unlock()
	if !ok || c.end <= ns {
		return 0
	}
	return c.n
}

// Len returns the number of keys held, rate-limit and counter keys together, including
// expired ones not dropped yet. It is at most the configured MaxKeys.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.tats) + len(sh.counters)
		sh.mu.Unlock()
	}
	return n
}

// Evictions returns how many live entries have been evicted to make room since the
// Store was created. Each one is a client whose rate limit or counter was forgotten
// early (see [Config.MaxKeys]). Dropping expired entries is not counted.
func (s *Store) Evictions() uint64 {
	var n uint64
	for i := range s.shards {
		n += s.shards[i].evictions.Load()
	}
	return n
}

// Sweep drops every entry expired at now and returns how many it dropped. It locks one
// shard at a time, for a time proportional to the shard's size. The owner calls it
// periodically; it is not needed for correctness or for the memory bound.
func (s *Store) Sweep(now time.Time) int {
	ns := now.UnixNano()
	dropped := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, tat := range sh.tats {
			if *tat <= ns {
				delete(sh.tats, k)
				dropped++
			}
		}
		for k, c := range sh.counters {
			if c.end <= ns {
				delete(sh.counters, k)
				dropped++
			}
		}
		sh.mu.Unlock()
	}
	return dropped
}

// makeRoom is called with sh.mu held before a new key is inserted. It drops the
// expired entries among a few sampled ones and, if the shard is still full, evicts the
// sampled live entry that expires first. forTAT names the table the insert goes to.
func (sh *shard) makeRoom(now int64, capacity int, forTAT bool) {
	full := len(sh.tats)+len(sh.counters) >= capacity
	if !full {
		// Amortised cleanup: a couple of entries of the table being grown.
		if forTAT {
			sweepTATs(sh.tats, now, sweepSample)
		} else {
			sweepCounters(sh.counters, now, sweepSample)
		}
		return
	}
	var (
		victim    string
		victimExp int64 = math.MaxInt64
		victimTAT bool
		seen      int
	)
	for k, tat := range sh.tats {
		if *tat <= now {
			delete(sh.tats, k)
		} else if *tat < victimExp {
			victim, victimExp, victimTAT = k, *tat, true
		}
		if seen++; seen == evictSample {
			break
		}
	}
	seen = 0
	for k, c := range sh.counters {
		if c.end <= now {
			delete(sh.counters, k)
		} else if c.end < victimExp {
			victim, victimExp, victimTAT = k, c.end, false
		}
		if seen++; seen == evictSample {
			break
		}
	}
	if len(sh.tats)+len(sh.counters) < capacity || victimExp == math.MaxInt64 {
		return
	}
	if victimTAT {
		delete(sh.tats, victim)
	} else {
		delete(sh.counters, victim)
	}
	sh.evictions.Add(1)
}

func sweepTATs(m map[string]*int64, now int64, limit int) {
	for k, tat := range m {
		if *tat <= now {
			delete(m, k)
		}
		if limit--; limit == 0 {
			return
		}
	}
}

func sweepCounters(m map[string]counter, now int64, limit int) {
	for k, c := range m {
		if c.end <= now {
			delete(m, k)
		}
		if limit--; limit == 0 {
			return
		}
	}
}

// windowEnd returns the end of the window of length w (> 0) that contains now, windows
// being aligned to multiples of w since the Unix epoch. It saturates at the int64
// range.
func windowEnd(now, w int64) int64 {
	m := now % w
	if m < 0 {
		m += w
	}
	start := now - m // m ≤ now − MinInt64 except for now within w of MinInt64
	if start > now {
		return math.MinInt64 + w
	}
	if start > math.MaxInt64-w {
		return math.MaxInt64
	}
	return start + w
}

// addCount returns c+n, at least 0, saturating at math.MaxInt64.
func addCount(c, n int64) int64 {
	s := c + n
	switch {
	case n > 0 && s < c: // overflow
		return math.MaxInt64
	case s < 0:
		return 0
	}
	return s
}
