package attack

import (
	"testing"

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
