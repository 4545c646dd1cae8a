package vigil

import (
	"math/rand/v2"
	"net/http"
	"time"
	"unsafe"
)

// crockford is Crockford's base-32 alphabet: no I, L, O or U, so IDs read aloud survive.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// requestID returns the request's ID: a trusted inbound X-Request-Id when the
// configuration allows one and it is well-formed, else a new one. New IDs have the ULID
// layout: 48 bits of milliseconds then 80 random bits, 26 characters that sort by time,
// written to buf (see newRequestID).
func (g *Guard) requestID(r *http.Request, now time.Time, buf *idBuf) string {
	if g.cfg.TrustRequestID {
		if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
			return id
		}
	}
	return newRequestID(now, buf)
}

// idBuf holds the bytes of a new request ID.
type idBuf [26]byte

// newRequestID writes a new ID to b and returns it as a string that shares b's memory.
// The caller gives b in the allocation that holds the verdict (verdictCtx), so an ID
// costs no allocation of its own; b must never be written again.
func newRequestID(now time.Time, b *idBuf) string {
	// Ten characters of milliseconds (the top two of their 50 bits are zero until
	// the year 10889), then sixteen of 80 random bits, five bits a character.
	encodeID(b, uint64(now.UnixMilli()), rand.Uint64(), rand.Uint64())
	return unsafe.String(&b[0], len(b))
}

// encodeID writes the ID of the milliseconds ms and the random bits hi and lo (the low
// 40 of each) to b, a character, five bits, at a time. (A table of character pairs, ten
// bits at a time, halves the steps but is 2 KiB read at random places: under load, where
// nothing of the guard stays in the first-level cache between requests, it cost about
// nine data-cache misses per request; the alphabet is one 32-byte line.)
func encodeID(b *idBuf, ms, hi, lo uint64) {
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	// The random characters take their bits lowest first.
	for i := 10; i < 18; i++ {
		b[i] = crockford[hi&31]
		hi >>= 5
	}
	for i := 18; i < 26; i++ {
		b[i] = crockford[lo&31]
		lo >>= 5
	}
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}
