package attack

import (
	"hash/maphash"
	"sync/atomic"
)

// cleanCache remembers values that scanned clean, so the User-Agent, Referer, Cookie and
// path a browser repeats on every request are examined once. It is a fixed array of
// slots, two candidate slots per value (by hash): lock-free, bounded (cacheSlots values of at most
// cacheMaxValue bytes) and safe for concurrent use. Only clean verdicts are stored,
// keyed by the exact value and the kind it was examined as (a value clean as a
// Referer is not thereby clean as a User-Agent), so a cached entry can never hide an
// attack; an attacker who floods it only evicts entries and costs a rescan.
type cleanCache struct {
	seed  maphash.Seed
	slots [cacheSlots]atomic.Pointer[cacheEntry]
}

type cacheEntry struct {
	v   string
	k   kind
	aux uint32 // what the caller needs to replay the scan's side effects
}

const (
	cacheSlots    = 1024
	cacheMaxValue = 512
)

func newCleanCache() *cleanCache { return &cleanCache{seed: maphash.MakeSeed()} }

// slots returns the two slots v may live in as a k. Two values of one request that
// hash to the same slot would otherwise evict each other on every request, for the
// life of the process (the seed is fixed): with two choices they settle side by side.
func (c *cleanCache) slots2(v string, k kind) (a, b *atomic.Pointer[cacheEntry]) {
	h := maphash.String(c.seed, v) + uint64(k)
	return &c.slots[h%cacheSlots], &c.slots[(h>>32)%cacheSlots]
}

// has reports whether v is known to be clean as a k. A nil cache knows nothing.
func (c *cleanCache) has(v string, k kind) bool {
	_, ok := c.get(v, k)
	return ok
}

// get reports whether v is known to be clean as a k, and the aux value recorded with
// it.
func (c *cleanCache) get(v string, k kind) (aux uint32, ok bool) {
	if c == nil || len(v) > cacheMaxValue {
		return 0, false
	}
	a, b := c.slots2(v, k)
	if e := a.Load(); e != nil && e.k == k && e.v == v {
		return e.aux, true
	}
	if e := b.Load(); e != nil && e.k == k && e.v == v {
		return e.aux, true
	}
	return 0, false
}

// add records that v scanned clean as a k. A nil cache records nothing.
func (c *cleanCache) add(v string, k kind) { c.addAux(v, k, 0) }

// addAux records that v scanned clean as a k, with an aux value for get: in its first
// slot if that is free, else in its second, which it takes over when both are used.
func (c *cleanCache) addAux(v string, k kind, aux uint32) {
	if c == nil || len(v) > cacheMaxValue {
		return
	}
	// Allocated here only, so callers that return early do not pay.
	e := &cacheEntry{v: v, k: k, aux: aux}
	a, b := c.slots2(v, k)
	if !a.CompareAndSwap(nil, e) {
		b.Store(e)
	}
}
