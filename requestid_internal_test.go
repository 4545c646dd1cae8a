package vigil

import (
	"math/rand/v2"
	"testing"
)

// encodeID writes what the character-at-a-time ULID encoding writes: ten characters of
// milliseconds, most significant first, then the low 40 bits of hi and of lo, five bits
// a character, least significant first.
func TestEncodeIDMatchesCharacterAtATime(t *testing.T) {
	ref := func(ms, hi, lo uint64) string {
		var b [26]byte
		for i := 9; i >= 0; i-- {
			b[i] = crockford[ms&31]
			ms >>= 5
		}
		for i := 10; i < 18; i++ {
			b[i] = crockford[hi&31]
			hi >>= 5
		}
		for i := 18; i < 26; i++ {
			b[i] = crockford[lo&31]
			lo >>= 5
		}
		return string(b[:])
	}
	r := rand.New(rand.NewPCG(1, 2))
	cases := [][3]uint64{{0, 0, 0}, {1<<50 - 1, 1<<40 - 1, 1<<40 - 1}, {1763683200000, 0x0123456789, 0xfedcba9876}}
	for range 10000 {
		cases = append(cases, [3]uint64{r.Uint64() >> 14, r.Uint64(), r.Uint64()})
	}
	for _, c := range cases {
		var b idBuf
		encodeID(&b, c[0], c[1], c[2])
		if got, want := string(b[:]), ref(c[0], c[1], c[2]); got != want {
			t.Fatalf("encodeID(%d, %#x, %#x) = %s, want %s", c[0], c[1], c[2], got, want)
		}
	}
}
