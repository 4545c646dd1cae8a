package redisstore

import (
	"hash/maphash"
	"math"
	"math/bits"
	"strings"
	"sync"

	"github.com/vigilhq/vigil/internal/ratelimit"
)

const (
	defaultShards = 64
	// When a shard is full, an insert looks at up to evictSample entries of each kind
	// and drops the expired ones, else evicts the sampled entry that expires first.
	evictSample = 8
)

// table is the local side of a Store: GCRA TATs and fixed-window counters by key, as
// internal/memstore keeps them, plus for each key what this instance has admitted or
// counted and not yet written to Redis. Keys with unsynced changes are queued in their
// shard's dirty list, so a sync visits only them.
//
// internal/memstore.Store is not reused for this: it has no way to merge the shared
// state into a key or to list the keys that changed. The arithmetic is the same
// (ratelimit.StepNano, windows aligned to the epoch), so the two agree on every answer
// while Redis is out of the picture.
//
// A table is safe for concurrent use.
type table struct {
	keys     keys
	seed     maphash.Seed
	mask     uint64
	perShard int
	shards   []tshard
}

type tshard struct {
	mu        sync.Mutex
	rates     map[string]*entry
	counters  map[string]*entry
	dirty     []*entry // entries with unsynced changes, each once
	evictions uint64
	_         [64]byte // keep shards on separate cache lines
}

// entry is the local state of one key, kept small: with its map slot and key, about
// 115 bytes for an IPv4 rate-limit key (the memory store takes 71). Its fields are guarded by its shard's mutex. An entry evicted from its map
// while in the dirty list stays there: its unsynced changes still reach Redis.
type entry struct {
	key string // the Store key
	// v is, for a rate-limit entry, the TAT in Unix ns (math.MinInt64: idle); for a
	// counter, the count in the current window.
	v int64
	// pending is what was admitted (ns of cost) or counted (a delta) locally and not
	// yet sent.
	pending int64
	// aux is, for a rate-limit entry, the cost sent and not yet acknowledged; for a
	// counter, the end of the current window in Unix ns.
	aux int64
	// tag is where key's hash tag starts in key (clientTag returns a suffix), tagUnset
	// before the first sync, or tagDigest when the tag is a digest to recompute.
	tag   int32
	flags uint8
}

// entry.tag values other than an offset.
const (
	tagUnset  = -1
	tagDigest = -2
)

// entry.flags bits.
const (
	flagCounter = 1 << iota // a counter; otherwise a rate-limit entry
	flagDirty               // queued in the shard's dirty list
	flagRefresh             // a counter read with nothing to send: the next sync reads it
)

func (e *entry) counter() bool { return e.flags&flagCounter != 0 }

// hashTag returns clientTag(e.key), computing it once.
func (e *entry) hashTag() string {
	switch e.tag {
	case tagDigest:
		return clientTag(e.key)
	case tagUnset:
		tag := clientTag(e.key)
		if off := len(e.key) - len(tag); off >= 0 && e.key[off:] == tag && off <= math.MaxInt32 {
			e.tag = int32(off)
		} else {
			e.tag = tagDigest
		}
		return tag
	}
	return e.key[e.tag:]
}

func newTable(maxKeys int, k keys) *table {
	n := defaultShards
	for n > 1 && n > maxKeys {
		n >>= 1
	}
	n = 1 << (bits.Len(uint(n)) - 1)
	t := &table{keys: k, seed: maphash.MakeSeed(), mask: uint64(n - 1), perShard: max(maxKeys/n, 1), shards: make([]tshard, n)}
	for i := range t.shards {
		t.shards[i].rates = make(map[string]*entry)
		t.shards[i].counters = make(map[string]*entry)
	}
	return t
}

func (t *table) shard(key string) *tshard {
	return &t.shards[maphash.String(t.seed, key)&t.mask]
}

// allow performs a GCRA step for key at now from the local state. When the step admits
// the request and quota is positive, the key's unsynced cost (pending + in flight)
// plus this request's must stay within quota (ns); otherwise allow changes nothing and
// reports spill, with the key's entry, so that the caller takes the step in Redis.
// With quota 0 every admission is local.
func (t *table) allow(key string, now int64, l ratelimit.Limit, cost int, interval, quota int64) (r ratelimit.Result, e *entry, spill bool) {
	sh := t.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e = sh.rates[key]
	tat := int64(math.MinInt64)
	if e != nil {
		tat = e.v
	}
	newTAT, r := ratelimit.StepNano(tat, now, l, cost)
	if newTAT == tat {
		return r, e, false
	}
	ct := int64(cost) * interval // cost ≤ burst: at most MaxPeriod
	if quota > 0 && (e == nil && ct > quota || e != nil && e.pending+e.aux+ct > quota) {
		if e == nil {
			e = sh.insertRate(key, now, t.perShard)
		}
		return r, e, true
	}
	if e == nil {
		e = sh.insertRate(key, now, t.perShard)
	}
	e.v = newTAT
	e.pending += ct
	sh.markDirty(e)
	return r, e, false
}

// rateEntry returns the rate-limit entry of key, creating an idle one.
func (t *table) rateEntry(key string, now int64) *entry {
	sh := t.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.rates[key]; e != nil {
		return e
	}
	return sh.insertRate(key, now, t.perShard)
}

func (sh *tshard) insertRate(key string, now int64, capacity int) *entry {
	sh.makeRoom(now, capacity)
	e := &entry{key: strings.Clone(key), v: math.MinInt64, tag: tagUnset}
	sh.rates[e.key] = e
	return e
}

func (sh *tshard) markDirty(e *entry) {
	if e.flags&flagDirty == 0 {
		e.flags |= flagDirty
		sh.dirty = append(sh.dirty, e)
	}
}

// redisKey returns e's Redis key. It is called with e's shard locked.
func (t *table) redisKey(e *entry) string {
	if e.counter() {
		return t.keys.counter(e.hashTag(), e.aux, e.key)
	}
	return t.keys.rate(e.hashTag(), e.key)
}

// take moves e's pending changes in flight for a remote step and returns them with e's
// Redis key.
func (t *table) take(e *entry) (sent int64, rkey string) {
	sh := t.shard(e.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sent = e.pending
	e.pending = 0
	e.aux += sent
	return sent, t.redisKey(e)
}

// mergeRate records that Redis acknowledged sent and holds tat for e. The local TAT
// becomes at least the shared one plus what was admitted locally since the send; with
// replace (exact mode) it becomes exactly that.
func (t *table) mergeRate(e *entry, sent, tat int64, replace bool) {
	sh := t.shard(e.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e.aux -= sent
	v := tat
	if tat != math.MinInt64 && e.pending > 0 {
		v = addSat(tat, e.pending)
	}
	if replace || v > e.v {
		e.v = v
	}
}

// unsend puts changes that did not reach Redis back to pending, to be sent again.
func (t *table) unsend(e *entry, sent int64) {
	sh := t.shard(e.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e.aux -= sent
	e.pending += sent
	if e.pending != 0 {
		sh.markDirty(e)
	}
}

// add adds n to the counter key in the window of length w containing now, as
// memstore.Store.Add does, and returns the local count and the entry. Unlike memstore,
// an n of 0 creates the entry and asks the next sync to read the shared count: the
// count other instances built becomes visible to a reader that adds nothing.
func (t *table) add(key string, now, n, w int64) (int64, *entry) {
	sh := t.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.counters[key]
	if e != nil && e.aux > now {
		old := e.v
		e.v = addCount(e.v, n)
		if d := e.v - old; d != 0 {
			e.pending += d
		} else if n == 0 {
			e.flags |= flagRefresh
		}
		if e.pending != 0 || e.flags&flagRefresh != 0 {
			sh.markDirty(e)
		}
		return e.v, e
	}
	if n < 0 {
		return 0, nil
	}
	if e == nil {
		sh.makeRoom(now, t.perShard)
		e = &entry{key: strings.Clone(key), tag: tagUnset, flags: flagCounter}
		sh.counters[e.key] = e
	}
	// A new window: what was not synced of the last one is dropped, since that window
	// is over for every instance.
	e.v, e.aux, e.pending = n, windowEnd(now, w), n
	if n == 0 {
		e.flags |= flagRefresh
	}
	sh.markDirty(e)
	return n, e
}

// takeCounter moves e's pending delta in flight and returns it with its window's end
// and e's Redis key.
func (t *table) takeCounter(e *entry) (sent, end int64, rkey string) {
	sh := t.shard(e.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sent, end = e.pending, e.aux
	e.pending = 0
	e.flags &^= flagRefresh
	return sent, end, t.redisKey(e)
}

// mergeCounter records that Redis counts total in the window ending at end, after sent
// was added. It returns the local count.
func (t *table) mergeCounter(e *entry, end, total int64) int64 {
	sh := t.shard(e.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.aux == end {
		e.v = addCount(total, e.pending)
	}
	return e.v
}

// unsendCounter puts a delta that did not reach Redis back, unless its window is over.
func (t *table) unsendCounter(e *entry, sent, end int64) {
	sh := t.shard(e.key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.aux == end && sent != 0 {
		e.pending += sent
		sh.markDirty(e)
	}
}

// item is one key's unsynced change, collected for a sync.
type item struct {
	e       *entry
	counter bool
	tag     string
	rkey    string
	sent    int64 // ns of admitted cost, or a counter delta
	end     int64 // counter: the window's end, Unix ns
}

// collect appends to buf, and moves in flight, the unsynced change of every dirty
// entry. Counter changes of a window over at now are dropped.
func (t *table) collect(buf []item, now int64) []item {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for j, e := range sh.dirty {
			sh.dirty[j] = nil
			refresh := e.flags&flagRefresh != 0
			e.flags &^= flagDirty | flagRefresh
			if e.pending == 0 && !refresh {
				continue
			}
			if e.counter() && e.aux <= now {
				e.pending = 0
				continue
			}
			it := item{e: e, counter: e.counter(), tag: e.hashTag(), rkey: t.redisKey(e), sent: e.pending}
			e.pending = 0
			if it.counter {
				it.end = e.aux
			} else {
				e.aux += it.sent
			}
			buf = append(buf, it)
		}
		sh.dirty = sh.dirty[:0]
		sh.mu.Unlock()
	}
	return buf
}

// len returns the number of keys held.
func (t *table) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.rates) + len(sh.counters)
		sh.mu.Unlock()
	}
	return n
}

// evictions returns how many live entries were evicted to make room.
func (t *table) evictions() uint64 {
	var n uint64
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += sh.evictions
		sh.mu.Unlock()
	}
	return n
}

// sweep drops the entries expired at now and returns how many.
func (t *table) sweep(now int64) int {
	dropped := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for k, e := range sh.rates {
			if e.v <= now && e.aux == 0 {
				delete(sh.rates, k)
				dropped++
			}
		}
		for k, e := range sh.counters {
			if e.aux <= now {
				delete(sh.counters, k)
				dropped++
			}
		}
		sh.mu.Unlock()
	}
	return dropped
}

// makeRoom is called with sh.mu held before an insert. When the shard is full it drops
// the expired entries among a few sampled ones and, if it is still full, evicts the
// sampled entry that expires first. Evicting a rate-limit entry forgives that client
// locally; its unsynced changes, if any, are still sent.
func (sh *tshard) makeRoom(now int64, capacity int) {
	if len(sh.rates)+len(sh.counters) < capacity {
		return
	}
	var (
		victim    *entry
		victimExp int64 = math.MaxInt64
		seen      int
	)
	for k, e := range sh.rates {
		if e.v <= now {
			delete(sh.rates, k)
		} else if e.v < victimExp {
			victim, victimExp = e, e.v
		}
		if seen++; seen == evictSample {
			break
		}
	}
	seen = 0
	for k, e := range sh.counters {
		if e.aux <= now {
			delete(sh.counters, k)
		} else if e.aux < victimExp {
			victim, victimExp = e, e.aux
		}
		if seen++; seen == evictSample {
			break
		}
	}
	if len(sh.rates)+len(sh.counters) < capacity || victim == nil {
		return
	}
	if victim.counter() {
		delete(sh.counters, victim.key)
	} else {
		delete(sh.rates, victim.key)
	}
	sh.evictions++
}

// windowEnd returns the end of the window of length w (> 0) containing now, windows
// being aligned to multiples of w since the Unix epoch, as memstore aligns them.
func windowEnd(now, w int64) int64 {
	m := now % w
	if m < 0 {
		m += w
	}
	start := now - m
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
	case n > 0 && s < c:
		return math.MaxInt64
	case s < 0:
		return 0
	}
	return s
}

// addSat returns a+d for d ≥ 0, saturating at math.MaxInt64.
func addSat(a, d int64) int64 {
	if a > math.MaxInt64-d {
		return math.MaxInt64
	}
	return a + d
}
