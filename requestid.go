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
// 40 of each) to b, two characters, ten bits, at a time (see crockfordPairs).
func encodeID(b *idBuf, ms, hi, lo uint64) {
	for i := 8; i >= 0; i -= 2 {
		p := &crockfordPairs[ms&1023]
		b[i], b[i+1] = p[0], p[1]
		ms >>= 10
	}
	// The random characters take their bits lowest first.
	for i := 10; i < 18; i += 2 {
		p := &crockfordPairs[hi&1023]
		b[i], b[i+1] = p[1], p[0]
		hi >>= 10
	}
	for i := 18; i < 26; i += 2 {
		p := &crockfordPairs[lo&1023]
		b[i], b[i+1] = p[1], p[0]
		lo >>= 10
	}
}

// crockfordPairs[x] is the two characters of the 10-bit x, its high five bits first.
var crockfordPairs = func() (t [1024][2]byte) {
	for x := range t {
		t[x] = [2]byte{crockford[x>>5], crockford[x&31]}
	}
	return t
}()

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
