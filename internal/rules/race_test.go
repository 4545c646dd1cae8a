//go:build race

package rules_test

// raceEnabled reports that the race detector is on: sync.Pool then drops a quarter of
// what is put back, so a regex condition's pooled matcher is sometimes made again.
// The allocation ceilings run without the race detector (make unit).
const raceEnabled = true
