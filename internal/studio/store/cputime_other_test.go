//go:build !unix

package store_test

import "time"

// cpuTime is zero where getrusage is missing; the benchmark's cpu-ns/event is then 0.
func cpuTime() time.Duration { return 0 }
