package vigil

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// crockford is Crockford's base-32 alphabet: no I, L, O or U, so IDs read aloud survive.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// requestID returns the request's ID: a trusted inbound X-Request-Id when the
// configuration allows one and it is well-formed, else a new one. New IDs have the ULID
// layout: 48 bits of milliseconds then 80 random bits, 26 characters that sort by time.
func (g *Guard) requestID(r *http.Request, now time.Time) string {
	if g.cfg.TrustRequestID {
		if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
			return id
		}
	}
	return newRequestID(now)
}

func newRequestID(now time.Time) string {
	var b [26]byte
	ms := uint64(now.UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := 10; i < 26; i++ {
		if i < 18 {
			b[i] = crockford[hi&31]
			hi >>= 5
		} else {
			b[i] = crockford[lo&31]
			lo >>= 5
		}
	}
	return string(b[:])
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
