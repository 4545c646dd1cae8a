// Package vigiltest holds helpers that Vigil's tests share.
package vigiltest

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedData returns the path of shared/data/name, the third-party reference data that
// sits beside the repository (../shared/data in CI). It walks up from the working
// directory to find it. When it is absent the test is skipped, unless the environment
// variable CI is set: in CI missing data is a failure, not a skip.
func SharedData(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("shared/data/%s not found above the working directory (CI is set)", name)
	}
	tb.Skipf("shared/data/%s not found above the working directory", name)
	return ""
}
