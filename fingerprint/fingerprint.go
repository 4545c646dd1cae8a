// Package fingerprint describes who is calling: the request DNA that Vigil computes for
// every request and keeps while a client rotates IP addresses.
//
// What can be known depends on how much of the connection Vigil owns. In pure middleware
// mode (a plain http.Handler) the header order, TLS and HTTP/2 fingerprints are lost by
// net/http before Vigil runs, so a DNA built by FromRequest carries only what the request
// itself shows: which well-known headers are present and the shape of a few of their
// values. Fields that cannot be known are left empty and reported as unknown; they are never
// guessed.
//
// Vigil's header fingerprint is its own format. It is not JA4H and does not reuse JA4H's
// construction.
package fingerprint

import (
	"hash/maphash"
	"net/http"
	"strconv"
	"sync/atomic"
)

// DNA is the identity of a client as far as one request shows it. The zero value is an
// unknown client. A DNA is a plain value, safe to copy and to share between goroutines.
type DNA struct {
	// ID is a stable identifier of the header profile: equal IDs mean the same presence
	// vector and the same value shapes. It is empty when nothing was computed. IDs are
	// comparable within one build of Vigil; they are not meant to be stored across
	// versions.
	ID string
	// Family is the short client family name when known, for example "chrome", "curl"
	// or "googlebot". Empty means unknown.
	Family string
	// Kind is the client kind when known: "browser", "crawler", "library",
	// "automation" or "scanner". Empty means unknown.
	Kind string
	// Presence is a bit set over the header vocabulary listed by Vocabulary: bit i is
	// set when header Vocabulary()[i] is present.
	Presence uint64
	// Extra counts headers outside the vocabulary.
	Extra int
	// Source says how the DNA was obtained: "request" for FromRequest (middleware mode).
	Source string
}

// vocabulary is the fixed, ordered header vocabulary of the presence vector. Indices are
// stable: new names are only ever appended.
var vocabulary = [...]string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection",
	"Cookie", "Dnt", "Origin", "Pragma", "Priority", "Referer",
	"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest",
	"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Te",
	"Upgrade-Insecure-Requests", "User-Agent", "Content-Type", "Content-Length",
	"Authorization", "X-Requested-With", "If-None-Match", "If-Modified-Since", "Range",
}

// Vocabulary returns the header names of the presence vector in bit order.
func Vocabulary() []string { return vocabulary[:] }

// shaped is the set of vocabulary bits whose header values, not only their presence,
// shape the ID: User-Agent, Accept, Accept-Encoding, Accept-Language, Sec-Ch-Ua and
// Sec-Fetch-Mode.
const shaped = 1<<0 | 1<<1 | 1<<2 | 1<<11 | 1<<15 | 1<<20

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

// FromRequest computes the DNA of r from what the request itself shows: header presence
// and value shapes. family and kind come from the caller's client classification and may be
// empty. It walks the headers once; it allocates the ID string only for a header profile
// that is not among the last few hundred it saw.
func (h *Hasher) FromRequest(r *http.Request, family, kind string) DNA {
	d := DNA{Family: family, Kind: kind, Source: "request"}
	// Map iteration order is random, so the values are combined with a sum of
	// independent per-value hashes, which does not depend on order.
	var sum uint64
	for name, vals := range r.Header {
		i := index(name)
		if i < 0 {
			d.Extra++
			continue
		}
		d.Presence |= 1 << uint(i)
		if shaped&(1<<uint(i)) == 0 {
			continue
		}
		for j, v := range vals {
			sum += mix(uint64(i)<<8|uint64(min(j, 255)), maphash.String(h.seed, v))
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

// index returns the vocabulary index of a canonical header name, or -1. A switch
// compiles to a search by length and content, cheaper than scanning the list.
func index(canonical string) int {
	switch canonical {
	case "Accept":
		return 0
	case "Accept-Encoding":
		return 1
	case "Accept-Language":
		return 2
	case "Cache-Control":
		return 3
	case "Connection":
		return 4
	case "Cookie":
		return 5
	case "Dnt":
		return 6
	case "Origin":
		return 7
	case "Pragma":
		return 8
	case "Priority":
		return 9
	case "Referer":
		return 10
	case "Sec-Ch-Ua":
		return 11
	case "Sec-Ch-Ua-Mobile":
		return 12
	case "Sec-Ch-Ua-Platform":
		return 13
	case "Sec-Fetch-Dest":
		return 14
	case "Sec-Fetch-Mode":
		return 15
	case "Sec-Fetch-Site":
		return 16
	case "Sec-Fetch-User":
		return 17
	case "Te":
		return 18
	case "Upgrade-Insecure-Requests":
		return 19
	case "User-Agent":
		return 20
	case "Content-Type":
		return 21
	case "Content-Length":
		return 22
	case "Authorization":
		return 23
	case "X-Requested-With":
		return 24
	case "If-None-Match":
		return 25
	case "If-Modified-Since":
		return 26
	case "Range":
		return 27
	}
	return -1
}
