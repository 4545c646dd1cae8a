package bot

import "testing"

func newTestDetector(t testing.TB) *Detector {
	t.Helper()
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
