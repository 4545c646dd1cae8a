package vigil

import "testing"

// encodeID writes ten characters of milliseconds, most significant first, then the low
// 40 bits of hi and of lo, five bits a character, least significant first, in
// Crockford's base 32. The expected IDs were computed apart from this code (a Python
// transcription of the format) and spot-checked by hand: 0x0123456789's low five bits
// are 01001, "9", its next five 11100, "W".
func TestEncodeID(t *testing.T) {
	for _, c := range []struct {
		ms, hi, lo uint64
		want       string
	}{
		{0, 0, 0, "00000000000000000000000000"},
		{1, 1, 2, "00000000011000000020000000"},
		{1<<50 - 1, 1<<40 - 1, 1<<40 - 1, "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"},
		{1763683200000, 0x0123456789, 0xfedcba9876, "01KAHVBV009WSAMH40P36NBEVZ"},
		// Bits above the low 40 of hi and lo do not show.
		{1763683200000, 0xffff_ff01_2345_6789, 0xffff_fffe_dcba_9876, "01KAHVBV009WSAMH40P36NBEVZ"},
	} {
		var b idBuf
		encodeID(&b, c.ms, c.hi, c.lo)
		if got := string(b[:]); got != c.want {
			t.Errorf("encodeID(%d, %#x, %#x) = %s, want %s", c.ms, c.hi, c.lo, got, c.want)
		}
	}
}
