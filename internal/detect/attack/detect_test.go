package attack

import (
	"strconv"
	"testing"
	"unsafe"

	"github.com/vigilhq/vigil/internal/detect"
)

// blockScore is the guard's default block threshold.
const blockScore = 80

func newScanner(t testing.TB) *Scanner {
	t.Helper()
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScanValueBenign(t *testing.T) {
	s := newScanner(t)
	for _, tc := range benignValues {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range s.ScanValue(nil, "query:q", tc.value) {
				if f.Score >= blockScore {
					t.Errorf("ScanValue(%q) = %+v, want no finding ≥ %d", tc.value, f, blockScore)
				}
			}
		})
	}
}

func TestScanValueAttacks(t *testing.T) {
	s := newScanner(t)
	for _, tc := range attackValues {
		t.Run(tc.name, func(t *testing.T) {
			fs := s.ScanValue(nil, "query:q", tc.value)
			if !hasCode(fs, tc.code, blockScore) {
				t.Errorf("ScanValue(%q) = %+v, want %s ≥ %d", tc.value, fs, tc.code, blockScore)
			}
		})
	}
}

func hasCode(fs []detect.Finding, code string, min int) bool {
	for _, f := range fs {
		if f.Code == code && f.Score >= min {
			return true
		}
	}
	return false
}

// Two values whose first slots collide both stay cached: with one slot per value they
// would evict each other on every request for the life of the process.
func TestCleanCacheCollision(t *testing.T) {
	c := newCleanCache()
	first := map[uint64]string{}
	var x, y string
	for i := 0; y == ""; i++ {
		v := "value-" + strconv.Itoa(i)
		a, _ := c.slots2(v, kindCookies)
		h := uint64(uintptr(unsafe.Pointer(a)))
		if prev, ok := first[h]; ok {
			x, y = prev, v
		}
		first[h] = v
	}
	c.add(x, kindCookies)
	c.add(y, kindCookies)
	if !c.has(x, kindCookies) || !c.has(y, kindCookies) {
		t.Errorf("colliding values %q and %q: cached %v and %v", x, y, c.has(x, kindCookies), c.has(y, kindCookies))
	}
}
