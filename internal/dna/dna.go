// Package dna computes request DNA (see package fingerprint) from what a guard reads
// about a request.
package dna

import (
	"hash/maphash"
	"math/bits"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/headers"
)

// shaped is the set of vocabulary bits whose header values, not only their presence,
// shape the ID.
const shaped = 1<<headers.UserAgent | 1<<headers.Accept | 1<<headers.AcceptEncoding |
	1<<headers.AcceptLanguage | 1<<headers.SecChUa | 1<<headers.SecFetchMode

// Hasher computes DNA IDs. Its zero value is not usable; use NewHasher. A Hasher is
// safe for concurrent use. IDs from different Hashers differ, so one process should use
// one Hasher. It keeps the ID strings of the last few hundred header profiles it saw, so
// that the profiles a site sees all day cost no allocation.
type Hasher struct {
	seed maphash.Seed
	ids  [idCacheSize]atomic.Pointer[idEntry] // direct-mapped by the low bits of the ID
}

// idCacheSize is the number of cached ID strings, a power of two.
const idCacheSize = 256

// idEntry is one cached ID string. Entries are immutable once published.
type idEntry struct {
	id uint64
	s  string
}

// NewHasher returns a Hasher with a fresh random seed.
func NewHasher() *Hasher { return &Hasher{seed: maphash.MakeSeed()} }

// FromRequest is FromSet over r's headers.
func (h *Hasher) FromRequest(r *http.Request, family, kind string) fingerprint.DNA {
	var hs headers.Set
	hs.Read(r.Header)
	return h.FromSet(&hs, family, kind)
}

// FromSet computes the DNA of a request from what the request itself shows: header
// presence and value shapes. family and kind come from the caller's client
// classification and may be empty. It allocates the ID string only for a header profile
// that is not among the last few hundred it saw.
func (h *Hasher) FromSet(hs *headers.Set, family, kind string) fingerprint.DNA {
	d := fingerprint.DNA{Family: family, Kind: kind, Source: "request", Presence: hs.Present(), Extra: hs.NumOthers()}
	// The values are combined with a sum of independent per-value hashes, so that the
	// ID does not depend on the order in which they are visited.
	var sum uint64
	for sh := d.Presence & shaped; sh != 0; sh &= sh - 1 {
		n := headers.Name(bits.TrailingZeros64(sh))
		if !hs.Multiple(n) {
			v, _ := hs.Get(n)
			sum += mix(uint64(n)<<8, maphash.String(h.seed, v))
			continue
		}
		for j, v := range hs.Values(n) {
			sum += mix(uint64(n)<<8|uint64(min(j, 255)), maphash.String(h.seed, v))
		}
	}
	d.ID = h.idString(mix(mix(d.Presence, uint64(min(d.Extra, 255))), sum))
	return d
}

// idString returns the ID string of id: "r1-" and id in hexadecimal. It allocates only
// when id is not in the cache.
func (h *Hasher) idString(id uint64) string {
	slot := &h.ids[id&(idCacheSize-1)]
	if e := slot.Load(); e != nil && e.id == id {
		return e.s
	}
	var out [20]byte
	b := append(out[:0], "r1-"...)
	b = strconv.AppendUint(b, id, 16)
	e := &idEntry{id: id, s: string(b)}
	slot.Store(e)
	return e.s
}

// mix combines two 64-bit values into a well-distributed one (the splitmix64 finaliser
// over their sum with a multiplier on the first).
func mix(a, b uint64) uint64 {
	x := a*0x9e3779b97f4a7c15 + b
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
