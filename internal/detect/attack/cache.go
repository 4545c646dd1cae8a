package attack

import (
	"hash/maphash"
	"sync/atomic"
)

// cleanCache remembers header values that scanned clean, so the User-Agent a
// browser repeats on every request is examined once. It is a fixed array of slots
// indexed by hash: lock-free, bounded (cacheSlots values of at most
// cacheMaxValue bytes) and safe for concurrent use. Only clean verdicts are stored,
// keyed by the exact value, so a cached entry can never hide an attack; an
// attacker who floods it only evicts entries and costs a rescan.
type cleanCache struct {
	seed  maphash.Seed
	slots [cacheSlots]atomic.Pointer[string]
}

const (
	cacheSlots    = 1024
	cacheMaxValue = 512
)

func newCleanCache() *cleanCache { return &cleanCache{seed: maphash.MakeSeed()} }

func (c *cleanCache) slot(v string) *atomic.Pointer[string] {
	return &c.slots[maphash.String(c.seed, v)%cacheSlots]
}

// has reports whether v is known to be clean. A nil cache knows nothing.
func (c *cleanCache) has(v string) bool {
	if c == nil || len(v) > cacheMaxValue {
		return false
	}
	p := c.slot(v).Load()
	return p != nil && *p == v
}

// add records that v scanned clean. A nil cache records nothing.
func (c *cleanCache) add(v string) {
	if c == nil || len(v) > cacheMaxValue {
		return
	}
	p := new(string) // allocated here only, so callers that return early do not pay
	*p = v
	c.slot(v).Store(p)
}
